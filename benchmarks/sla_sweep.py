"""How long does the SLA sweep take over 100,000 open clocks, beside a naive full scan?

Run: .venv/bin/python benchmarks/sla_sweep.py [--database-url URL] [--clocks 100000]
     [--due 1000] [--repeat 5] [--seed 1] [--sweep MODULE_OR_FILE:FUNCTION]

1. Creates a PostgreSQL database of its own (itsm_bench_<random>) on the server of
   --database-url (only CREATE/DROP DATABASE go through that URL's database, which is never
   written to) and migrates it with `itsm.migrate.upgrade`.
2. Adds one contract (C4), district, institution, agent and SLA policy (the shipped C4
   document), then N tickets and N running 24x7 "response" clocks (target 10m) by COPY, due
   over the next three days; then makes exactly --due of them due (due and warning instants in
   the past) and runs VACUUM (ANALYZE) on the table, as autovacuum would have.
3. Times, --repeat times, `with db.transaction() as s: sla_sweep.sweep(s, now)` on one warm
   `Database` (a worker process keeps one: itsm.jobs.runtime.database), which finds and marks
   the due clocks and writes their ticket and clock events, committed; and a sweep when
   nothing is due (the common case), also on a new `Database` each time (connect and compile
   included). The due clocks are re-armed (running again, warned_at and breached_at NULL)
   between repetitions, outside the timing. --sweep times another implementation with the
   signature of `sla_sweep.sweep` instead (e.g. a candidate change), on the same harness.
4. Beside it, on the same data in the same run, the naive poll: every running clock loaded
   into Python (Core rows; and ORM objects) and filtered there, and the naive poll followed by
   the marking of what it found, with the ratios.
5. Prints EXPLAIN (ANALYZE, BUFFERS) of the two UPDATEs the sweep really sends (captured from
   a sweep, replayed in a rolled-back transaction) and of the naive SELECT, and the summary
   line against the target (< 100 ms). The database is dropped at the end, also on errors.
Exits 1 when the target is not met or a check (every due clock marked once, none warned, nothing
marked when nothing is due) failed.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import random
import signal
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from benchmarks.harness import BenchDatabase, seed_world  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_MS = 100.0
HORIZON = timedelta(days=3)
"""The not-yet-due clocks are spread over this much of the future."""
MARGIN = timedelta(hours=1)
"""The earliest not-yet-due clock starts this far ahead, so none falls due during the run."""
TOTAL = timedelta(seconds=600)
SweepFn = Callable[..., Any]
"""`sweep(session, now, clock_ids=None) -> SweepResult`."""
WARN = timedelta(seconds=450)


# ---------------------------------------------------------------------------------------------
# The database of this run


# ---------------------------------------------------------------------------------------------
# Data


def seed_directory(url: str) -> tuple[int, int, int, int]:
    """One contract's directory (the harness) with the shipped C4 policy: the contract's,
    institution's, agent's and policy's ids."""
    world = seed_world(url, "C4", calendar="24x7", policy="C4")
    assert world.policy_id is not None
    return world.contract_id, world.institution_id, world.agent_id, world.policy_id


TICKET_COLUMNS = (
    "number",
    "kind",
    "priority",
    "category",
    "channel",
    "contract_id",
    "institution_id",
    "reporter_name",
    "reporter_phone",
    "title",
    "description",
    "reported_at",
    "created_at",
    "updated_at",
    "created_by_id",
    "onsite_required",
    "state",
    "reopen_count",
    "sla_policy_id",
    "version",
)
CLOCK_COLUMNS = (
    "subject_type",
    "subject_id",
    "metric",
    "status",
    "policy_id",
    "rule",
    "target",
    "calendar",
    "meter",
    "starts",
    "warn_fraction",
    "total_seconds",
    "paused_seconds",
    "started_at",
    "due_at",
    "warn_at",
)


def copy_rows(engine: Engine, table: str, columns: tuple[str, ...], rows: Iterator[tuple]) -> None:
    """COPY rows into `table` through psycopg's driver connection, committed."""
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def load(
    engine: Engine,
    ids: tuple[int, int, int, int],
    clocks: int,
    due: int,
    rng: random.Random,
    start: datetime,
) -> list[int]:
    """N tickets and N running clocks due in the future; then `due` of them made due. Returns
    the ids of the due clocks."""
    from workflows import ticket as ticket_workflow

    contract_id, institution_id, user_id, policy_id = ids
    horizon = HORIZON.total_seconds()

    def tickets() -> Iterator[tuple]:
        for i in range(clocks):
            reported = start + MARGIN + timedelta(seconds=horizon * i / clocks)
            yield (
                f"BENCH-{i + 1:08d}",
                "incident",
                "P3",
                "software",
                "phone",
                contract_id,
                institution_id,
                "刘医生",
                "13912345678",
                "收费系统无法打印发票",
                "二号收费窗口打印发票时提示“打印机未就绪”。",
                reported,
                start,
                start,
                user_id,
                False,
                ticket_workflow.NEW,
                0,
                policy_id,
                1,
            )

    copy_rows(engine, "ticket", TICKET_COLUMNS, tickets())
    with engine.connect() as conn:
        pairs = conn.execute(text("SELECT id, reported_at FROM ticket ORDER BY id")).all()

    def clock_rows() -> Iterator[tuple]:
        for ticket_id, reported in pairs:
            yield (
                "ticket",
                ticket_id,
                "response",
                "running",
                policy_id,
                "others",
                "10m",
                "24x7",
                "24x7",
                "reported",
                0.75,
                int(TOTAL.total_seconds()),
                0,
                reported,
                reported + TOTAL,
                reported + WARN,
            )

    copy_rows(engine, "sla_clock", CLOCK_COLUMNS, clock_rows())
    with engine.begin() as conn:
        all_ids = conn.execute(text("SELECT id FROM sla_clock ORDER BY id")).scalars().all()
        due_ids = sorted(rng.sample(list(all_ids), due))
        # Started between 11 and 60 minutes ago: due 1-50 minutes ago, warned before that.
        starts = [start - timedelta(seconds=rng.randint(660, 3600)) for _ in due_ids]
        conn.exec_driver_sql(
            "UPDATE sla_clock AS c SET started_at = d.started_at, "
            "due_at = d.started_at + %(total)s, warn_at = d.started_at + %(warn)s "
            "FROM (SELECT unnest(%(ids)s::int[]) AS id, "
            "unnest(%(starts)s::timestamptz[]) AS started_at) AS d WHERE c.id = d.id",
            {"ids": due_ids, "starts": starts, "total": TOTAL, "warn": WARN},
        )
    vacuum_analyze(engine)
    return due_ids


def vacuum_analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) ticket")
        conn.exec_driver_sql("VACUUM (ANALYZE) sla_clock")


def rearm(engine: Engine, due_ids: list[int]) -> None:
    """Put the due clocks back to running, unwarned and unbreached (outside any timing)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE sla_clock SET status = 'running', warned_at = NULL, breached_at = NULL "
            "WHERE id = ANY(%(ids)s)",
            {"ids": due_ids},
        )


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM sla_clock GROUP BY status")).all()
    return {status: n for status, n in rows}


# ---------------------------------------------------------------------------------------------
# Timing


class StatementTimer:
    """Time spent in cursor.execute per kind of statement, from the engine's events."""

    def __init__(self, engine: Engine) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.captured: list[tuple[str, Any]] = []
        self.capture = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    @staticmethod
    def kind(statement: str) -> str:
        words = statement.split(None, 3)
        head = " ".join(words[:3]).lower()
        upper = statement.upper()
        if "UPDATE SLA_CLOCK" in upper:
            which = "warn" if "warned_at IS NULL" in statement else "breach"
            return f"update {which}" + (" (+event inserts)" if "INSERT INTO" in upper else "")
        if head.startswith("insert into ticket_event"):
            return "insert ticket_event"
        if head.startswith("insert into sla_clock_event"):
            return "insert sla_clock_event"
        return words[0].lower() if words else "?"

    def _before(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        conn.info["bench_started"] = time.perf_counter()
        if self.capture and "UPDATE SLA_CLOCK" in statement.upper():
            self.captured.append((statement, parameters))

    def _after(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        started = conn.info.pop("bench_started", None)
        if started is not None:
            self.spent[self.kind(statement)] += time.perf_counter() - started

    @contextmanager
    def measuring(self) -> Iterator[dict[str, float]]:
        self.spent.clear()
        result: dict[str, float] = {}
        yield result
        result.update({k: v * 1000 for k, v in self.spent.items()})


def ms(seconds: float) -> float:
    return seconds * 1000


def stats(values: list[float]) -> str:
    return (
        f"min {min(values):8.2f}  median {statistics.median(values):8.2f}  "
        f"max {max(values):8.2f} ms"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return ms(time.perf_counter() - started), value


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            rows = (
                conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                .scalars()
                .all()
            )
        finally:
            transaction.rollback()
    return list(rows)


def explain_sweep(
    engine: Engine, timer: StatementTimer, db: Any, sweep: SweepFn, now: datetime
) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the UPDATEs a sweep sends, in one rolled-back transaction.

    The statements are captured from a real sweep (rolled back), then replayed under EXPLAIN
    in the order the sweep sends them, so the warning UPDATE sees the breaches just made."""
    timer.captured.clear()
    timer.capture = True
    try:
        with db.sessions() as session:
            sweep(session, now)
            session.rollback()
    finally:
        timer.capture = False
    lines: list[str] = []
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            for statement, parameters in timer.captured:
                lines.append("-- " + " ".join(statement.split()))
                lines.append(f"-- parameters: {parameters}")
                plan = (
                    conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    .scalars()
                    .all()
                )
                lines.extend(plan)
                lines.append("")
        finally:
            transaction.rollback()
    return lines


def plan_summary(lines: list[str]) -> str:
    uses = [
        line.strip().lstrip("-> ").split("  (")[0]
        for line in lines
        if "Scan" in line and not line.startswith("--")
    ]
    times = [line.strip() for line in lines if line.strip().startswith("Execution Time")]
    return "; ".join(uses) + (f" | {', '.join(times)}" if times else "")


# ---------------------------------------------------------------------------------------------
# The run


def run(args: argparse.Namespace) -> int:
    from itsm import migrate
    from itsm.db import Database
    from itsm.sla.models import Clock

    sweep = load_sweep(args.sweep)
    rng = random.Random(args.seed)
    bench = BenchDatabase(args.database_url)
    print(f"database {bench.shown} (created for this run, dropped at the end)")
    bench.create()
    print(
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} CPUs; other work on the box makes the times noisy)"
    )
    failures: list[str] = []
    db: Database | None = None
    try:
        started = time.perf_counter()
        migrate.upgrade(bench.url)
        print(f"migrated in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        ids = seed_directory(bench.url)
        db = Database(bench.url)
        engine = db.engine
        load_start = datetime.now(UTC)
        due_ids = load(engine, ids, args.clocks, args.due, rng, load_start)
        print(
            f"loaded {args.clocks:,} tickets and clocks ({args.due:,} due) and vacuumed/"
            f"analyzed in {time.perf_counter() - started:.1f} s: {counts(engine)}"
        )

        timer = StatementTimer(engine)
        with db.transaction() as session:  # warm the pool, the mappers and the statement cache
            session.execute(text("SELECT 1"))
            sweep(session, datetime.now(UTC) - timedelta(days=365))

        # The EXPLAIN first, while the due clocks are as loaded (rolled back: nothing changes).
        print(f"timing {args.sweep}")
        plan = explain_sweep(engine, timer, db, sweep, datetime.now(UTC))

        due_times: list[float] = []
        idle_times: list[float] = []
        cold_times: list[float] = []
        breakdowns: list[dict[str, float]] = []
        cpu_times: list[float] = []
        for rep in range(args.repeat):
            if rep:
                rearm(engine, due_ids)
            now = datetime.now(UTC)
            cpu = time.process_time()
            with timer.measuring() as spent:
                elapsed, result = timed(lambda now=now: _sweep(db, sweep, now))
            cpu = ms(time.process_time() - cpu)
            cpu_times.append(cpu)
            due_times.append(elapsed)
            breakdowns.append(spent)
            if len(result.breached) != args.due or result.warned:
                failures.append(
                    f"sweep {rep + 1}: breached {len(result.breached)}, "
                    f"warned {len(result.warned)} (expected {args.due} and 0)"
                )
            now = datetime.now(UTC)
            elapsed_idle, idle = timed(lambda now=now: _sweep(db, sweep, now))
            idle_times.append(elapsed_idle)
            elapsed_cold, cold = timed(lambda: _cold_sweep(bench.url, sweep, datetime.now(UTC)))
            cold_times.append(elapsed_cold)
            if cold.breached or cold.warned:
                failures.append(f"cold idle sweep {rep + 1} marked something (expected none)")
            if idle.breached or idle.warned:
                failures.append(
                    f"idle sweep {rep + 1} marked {len(idle.breached)} breaches "
                    f"and {len(idle.warned)} warnings (expected none)"
                )
            print(
                f"  sweep {rep + 1}: {elapsed:8.2f} ms (our CPU {cpu:6.2f} ms), breached "
                f"{len(result.breached)}, warned {len(result.warned)}; nothing due: "
                f"{elapsed_idle:6.2f} ms  ["
                + ", ".join(f"{k} {v:.2f}" for k, v in sorted(spent.items()))
                + "]"
            )

        # The naive poll: every running clock into Python, filtered there.
        columns = (
            Clock.id,
            Clock.subject_type,
            Clock.subject_id,
            Clock.metric,
            Clock.due_at,
            Clock.warn_at,
            Clock.warned_at,
        )
        scan_rows: list[float] = []
        scan_orm: list[float] = []
        scan_mark: list[float] = []

        def naive_rows(now: datetime) -> list[int]:
            with db.transaction() as session:
                rows = session.execute(select(*columns).where(Clock.status == "running")).all()
                return [row.id for row in rows if row.due_at <= now]

        def naive_orm(now: datetime) -> list[int]:
            with db.transaction() as session:
                clocks = session.scalars(select(Clock).where(Clock.status == "running")).all()
                return [c.id for c in clocks if c.due_at <= now]

        def naive_and_mark(now: datetime) -> tuple[list[int], Any]:
            with db.transaction() as session:
                rows = session.execute(select(*columns).where(Clock.status == "running")).all()
                found = [row.id for row in rows if row.due_at <= now]
                return found, sweep(session, now, found)

        for rep in range(args.repeat):
            rearm(engine, due_ids)
            now = datetime.now(UTC)
            elapsed, found = timed(lambda now=now: naive_rows(now))
            scan_rows.append(elapsed)
            if len(found) != args.due:
                failures.append(f"naive scan {rep + 1} found {len(found)}")
            if rep < args.orm_repeat:
                elapsed, found = timed(lambda now=now: naive_orm(now))
                scan_orm.append(elapsed)
                if len(found) != args.due:
                    failures.append(f"naive ORM scan {rep + 1} found {len(found)}")
            elapsed, (found, marked) = timed(lambda now=now: naive_and_mark(now))
            scan_mark.append(elapsed)
            if len(found) != args.due or len(marked.breached) != args.due:
                failures.append(
                    f"naive scan + mark {rep + 1}: found {len(found)}, "
                    f"breached {len(marked.breached)}"
                )

        compiled = select(*columns).where(Clock.status == "running").compile(dialect=engine.dialect)
        naive_plan = explain(engine, str(compiled), compiled.params)

        print()
        print(
            "EXPLAIN (ANALYZE, BUFFERS) of the sweep's UPDATEs, "
            f"{args.due:,} due among {args.clocks:,} running (rolled back):"
        )
        print("\n".join("    " + line for line in plan))
        print("EXPLAIN (ANALYZE, BUFFERS) of the naive poll's SELECT:")
        print("\n".join("    " + line for line in naive_plan))
        print()
        print(f"plan of the sweep: {plan_summary(plan)}")
        print(f"plan of the naive poll: {plan_summary(naive_plan)}")
        print()
        sweep_median = statistics.median(due_times)
        idle_median = statistics.median(idle_times)
        width = 48
        label = f"sweep, {args.due:,} due, committed"
        print(f"{label:<{width}} {stats(due_times)}")
        print(f"{'sweep, nothing due, committed':<{width}} {stats(idle_times)}")
        print(f"{'  the same on a new Database (connect, compile)':<{width}} {stats(cold_times)}")
        print(f"{'naive poll (Core rows), find only':<{width}} {stats(scan_rows)}")
        if scan_orm:
            print(f"{'naive poll (ORM objects), find only':<{width}} {stats(scan_orm)}")
        print(f"{'naive poll + mark what it found, committed':<{width}} {stats(scan_mark)}")
        parts = defaultdict(list)
        for spent in breakdowns:
            for kind, value in spent.items():
                parts[kind].append(value)
        print(
            "sweep breakdown (median ms in cursor.execute): "
            + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in sorted(parts.items()))
            + f"; rest (begin, commit, Python) "
            f"{sweep_median - sum(statistics.median(v) for v in parts.values()):.2f}; "
            f"our process's CPU median {statistics.median(cpu_times):.2f}"
        )
        print()
        print("ratios (medians):")
        print(
            f"  naive poll (rows) / sweep with {args.due:,} due:    "
            f"{statistics.median(scan_rows) / sweep_median:6.1f}x"
        )
        print(
            f"  naive poll (rows) / sweep, nothing due:     "
            f"{statistics.median(scan_rows) / idle_median:6.1f}x"
        )
        if scan_orm:
            print(
                f"  naive poll (ORM) / sweep with {args.due:,} due:     "
                f"{statistics.median(scan_orm) / sweep_median:6.1f}x"
            )
        print(
            f"  naive poll + mark / sweep with {args.due:,} due:    "
            f"{statistics.median(scan_mark) / sweep_median:6.1f}x"
        )
        print()
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for failure in failures:
            print(f"CHECK FAILED: {failure}")
        met = sweep_median < TARGET_MS
        print(
            f"sweep over {args.clocks:,} open clocks: median {sweep_median:.1f} ms "
            f"(target < {TARGET_MS:.0f} ms): {'met' if met else 'not met'}"
            f" ({args.due:,} due; nothing due: median {idle_median:.1f} ms)"
        )
        return 0 if met and not failures else 1
    finally:
        if db is not None:
            db.dispose()
        bench.drop()
        print(f"dropped {bench.name}")


def _sweep(db: Any, sweep: SweepFn, now: datetime) -> Any:
    with db.transaction() as session:
        return sweep(session, now)


def _cold_sweep(url: str, sweep: SweepFn, now: datetime) -> Any:
    from itsm.db import Database

    database = Database(url)
    try:
        return _sweep(database, sweep, now)
    finally:
        database.dispose()


def load_sweep(spec: str) -> SweepFn:
    """`package.module:function` or `path/to/file.py:function`."""
    where, _, name = spec.rpartition(":")
    if where.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location("candidate_sweep", where)
        if module_spec is None or module_spec.loader is None:
            raise SystemExit(f"cannot load {where}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return getattr(module, name)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="a PostgreSQL server; its database is only used to create ours",
    )
    parser.add_argument("--clocks", type=int, default=100_000, help="open clocks (and tickets)")
    parser.add_argument("--due", type=int, default=1_000, help="clocks made due")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions")
    parser.add_argument(
        "--orm-repeat",
        type=int,
        default=2,
        help="repetitions of the (slow) naive ORM poll, 0 to skip",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the due clocks")
    parser.add_argument(
        "--sweep",
        default="itsm.sla.services.sla_sweep:sweep",
        help="the sweep to time: package.module:function or file.py:function",
    )
    args = parser.parse_args(argv)
    if not 0 < args.due <= args.clocks or args.repeat < 1:
        parser.error("need 0 < --due <= --clocks and --repeat >= 1")

    def terminate(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
