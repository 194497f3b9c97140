"""How fast does the real service open tickets, beside a bare Flask + SQLAlchemy insert?

Run: .venv/bin/python benchmarks/ticket_create.py [--database-url URL] [--clients 8]
     [--seconds 10] [--workers 5] [--warmup 3] [--max-requests 200000] [--sla C1]
     [--profile N]

1. Creates a PostgreSQL database of its own (itsm_bench_<random>) on the server of
   --database-url (only CREATE/DROP DATABASE go through that URL's database), migrates it and
   adds one contract, district, institution, configuration item and agent with an API token.
2. Serves the bare baseline (benchmarks/bare_app.py), the floor (benchmarks/floor_app.py: the
   same frameworks, schemas, rows and RQ job as a ticket, none of our logic) and then the real
   service (itsm.wsgi:app), each under gunicorn with N sync workers on a free loopback port,
   against that database and a redis-server of the run's own.
3. Drives each with C client threads (http.client; sync workers close the connection after
   each answer, so every request opens a new TCP connection, for both alike) for a warm-up
   and then --seconds, counts 200/201 answers and reports anything else.
4. Prints requests, tickets/s, p50 and p99 latency, CPU per request (gunicorn processes,
   PostgreSQL backends, this client; from /proc), the itsm/bare throughput ratio against
   the target (≥ 50 %) beside floor/bare and itsm/floor, and checks that ticket numbers are
   unique and every success of itsm is one row.
5. With --sla C1 (any shipped policy code) the contract gets that SLA policy, so each ticket
   also starts its clocks; with --profile N, N ticket POSTs are also profiled in-process
   (Flask test client, cProfile on CPU time) with the SQL statements each one sends.
Every server and the database are removed at the end, also on Ctrl-C, SIGTERM or an error.
Exit status: 0 when the target is met and the checks pass, 1 otherwise, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import itertools
import json
import os
import pstats
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402

from benchmarks.harness import BenchDatabase, RedisServer, free_port, seed_world  # noqa: E402
from benchmarks.proc_cpu import cpu_seconds, process_tree  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET = 0.50
OK = (200, 201)
TITLES = [
    "收费系统无法打印发票",
    "门诊医生站登录后白屏",
    "检验报告无法上传区域平台",
    "药房发药机联网中断",
    "公卫系统随访数据无法保存",
    "挂号窗口读卡器无响应",
]
DESCRIPTIONS = [
    "上午九点起二号收费窗口打印发票时提示“打印机未就绪”，重启电脑后仍然无法打印，"
    "患者排队较多，请尽快处理。",
    "医生登录门诊医生站后页面一直空白，其他电脑正常，已清理浏览器缓存，问题依旧。",
    "检验科反映今日报告上传区域平台失败，错误提示“接口超时”，共约四十份报告待上传。",
]
REPORTERS = [("刘医生", "13912345678"), ("王护士", "13698765432"), ("张主任", "010-62345678")]


# ---------------------------------------------------------------------------------------------
# The database of this run


@dataclass(frozen=True)
class Seed:
    token: str
    institution_id: int
    configuration_item_id: int
    contract_id: int
    agent_id: int
    floor_agent_id: int
    """The floor server's tickets are this user's, so the checks can tell them apart."""


def prepare(url: str, contract_code: str = "BENCH") -> Seed:
    """Migrate, seed one contract's directory and an agent with a token (the harness), add
    the floor's own agent and the bare table.

    A contract coded like a shipped SLA policy (C0…C4) gets that policy on its first ticket,
    so every ticket also starts its SLA clocks; "BENCH" has no policy and starts none."""
    from benchmarks import bare_app
    from itsm import migrate
    from itsm.accounts.models import User
    from itsm.db import Database
    from itsm.directory.models import Contract
    from itsm.models.types import Role

    migrate.upgrade(url)
    world = seed_world(url, contract_code)
    database = Database(url)
    try:
        with database.transaction() as session:
            floor_agent = User(
                username="bench-floor",
                display_name="基准下限",
                role=Role.AGENT,
                contracts=[session.get_one(Contract, world.contract_id)],
            )
            session.add(floor_agent)
            session.flush()
            floor_agent_id = floor_agent.id
        bare_app.metadata.create_all(database.engine)
    finally:
        database.dispose()
    return Seed(
        world.token,
        world.institution_id,
        world.configuration_item_id,
        world.contract_id,
        world.agent_id,
        floor_agent_id,
    )


# ---------------------------------------------------------------------------------------------
# Servers


class Server:
    """A gunicorn master with sync workers, in a session of its own so Ctrl-C reaches only us."""

    def __init__(
        self, name: str, app: str, env: dict[str, str], workers: int, logs: Path, health_path: str
    ) -> None:
        # This tree's code first, even over an editable install of another checkout.
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.name, self.app, self.workers = name, app, workers
        self.env = {**env, "PYTHONPATH": pythonpath}
        self.log_path = logs / f"{name}.log"
        self.health_path = health_path
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--no-control-socket",
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                command,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited at start:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", self.health_path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(
            f"{self.name} server did not answer in {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # anything left of this server's own process group (its workers)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


# ---------------------------------------------------------------------------------------------
# CPU accounting


class CpuMeter:
    """CPU used during a phase by the server's processes, its PostgreSQL backends and us."""

    def __init__(self, server: Server, database_url: str, database_name: str) -> None:
        self.server, self.url, self.name = server, database_url, database_name

    def _backends(self) -> list[int]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(
                    conn.execute(
                        text(
                            "SELECT pid FROM pg_stat_activity "
                            "WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": self.name},
                    ).scalars()
                )
        finally:
            engine.dispose()

    def _sample(self) -> dict[str, dict[int, float]]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        proc = self.server.proc
        return {
            "app": cpu_seconds(process_tree(proc.pid)) if proc else {},
            "db": cpu_seconds(self._backends()),
            "client": {0: usage.ru_utime + usage.ru_stime},
        }

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        used = {}
        for who, times in after.items():
            if times:
                used[who] = sum(t - self.before[who].get(pid, 0.0) for pid, t in times.items())
        return used


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Phase:
    ok: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)
    numbers: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds spent in the phase by "app" (gunicorn), "db" (its backends), "client"."""

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def cpu_ms_per_request(self, who: str) -> float:
        return self.cpu[who] / self.ok * 1000 if self.ok and who in self.cpu else float("nan")

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000


def drive(
    port: int,
    path: str,
    headers: dict[str, str],
    make_body: Callable[[int], bytes],
    clients: int,
    seconds: float,
    cap: int,
    stop: threading.Event,
) -> Phase:
    """`clients` threads POSTing as fast as answers come, for `seconds` or `cap` requests."""
    issued = itertools.count()
    deadline = time.perf_counter() + seconds
    parts = [Phase() for _ in range(clients)]

    def client(part: Phase, seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while not stop.is_set() and time.perf_counter() < deadline and next(issued) < cap:
                body = make_body(rng.randrange(1 << 30))
                started = time.perf_counter()
                try:
                    conn.request("POST", path, body, headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as error:
                    part.errors[type(error).__name__] += 1
                    part.samples.setdefault(type(error).__name__, str(error))
                    conn.close()
                    continue
                elapsed = time.perf_counter() - started
                if response.status in OK:
                    part.ok += 1
                    part.latencies.append(elapsed)
                    part.numbers.append(json.loads(data)["number"])
                else:
                    key = f"HTTP {response.status}"
                    part.errors[key] += 1
                    part.samples.setdefault(key, data[:300].decode(errors="replace"))
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [
        threading.Thread(target=client, args=(part, i), daemon=True, name=f"client-{i}")
        for i, part in enumerate(parts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
    total = Phase(seconds=time.perf_counter() - started)
    for part in parts:
        total.ok += part.ok
        total.latencies += part.latencies
        total.errors += part.errors
        total.numbers += part.numbers
        for key, sample in part.samples.items():
            total.samples.setdefault(key, sample)
    return total


def ticket_body(seed: Seed) -> Callable[[int], bytes]:
    def make(n: int) -> bytes:
        reporter, phone = REPORTERS[n % len(REPORTERS)]
        body = {
            "institution_id": seed.institution_id,
            "title": f"{TITLES[n % len(TITLES)]}（{n % 12 + 1}号窗口）",
            "description": DESCRIPTIONS[n % len(DESCRIPTIONS)],
            "kind": "incident",
            "priority": ("P2", "P3", "P3", "P4")[n % 4],
            "category": ("software", "hardware", "network")[n % 3],
            "channel": "phone",
            "reporter_name": reporter,
            "reporter_phone": phone,
            "configuration_item_id": seed.configuration_item_id,
        }
        return json.dumps(body, ensure_ascii=False).encode()

    return make


def bare_body(seed: Seed) -> Callable[[int], bytes]:
    return ticket_body(seed)  # the same JSON; the bare endpoint keeps title, priority, category


@dataclass
class Outcome:
    name: str
    warmup: Phase
    measured: Phase

    @property
    def successes(self) -> int:
        return self.warmup.ok + self.measured.ok


def run_load(
    server: Server,
    path: str,
    headers: dict[str, str],
    make_body: Callable[[int], bytes],
    args: argparse.Namespace,
    stop: threading.Event,
    database: BenchDatabase,
) -> Outcome:
    server.start()
    meter = CpuMeter(server, database.url, database.name)
    try:
        print(
            f"  {server.name}: up on 127.0.0.1:{server.port}; warm-up {args.warmup:g} s …",
            flush=True,
        )
        warmup = drive(
            server.port,
            path,
            headers,
            make_body,
            args.clients,
            args.warmup,
            args.max_requests,
            stop,
        )
        print(
            f"  {server.name}: measuring {args.seconds:g} s with {args.clients} clients …",
            flush=True,
        )
        meter.start()
        measured = drive(
            server.port,
            path,
            headers,
            make_body,
            args.clients,
            args.seconds,
            args.max_requests,
            stop,
        )
        measured.cpu = meter.stop()
        if stop.is_set():
            raise KeyboardInterrupt
        return Outcome(server.name, warmup, measured)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# Checks, report, profile


def verify(url: str, seed: Seed, itsm: Outcome, bare: Outcome) -> list[str]:
    """Problems found in the database after the runs (empty when all is well)."""
    problems: list[str] = []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            mine = {"agent": seed.agent_id}
            count, distinct = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT number) FROM ticket "
                    "WHERE created_by_id = :agent"
                ),
                mine,
            ).one()
            numbers = set(
                conn.execute(
                    text("SELECT number FROM ticket WHERE created_by_id = :agent"), mine
                ).scalars()
            )
            events = conn.execute(
                text(
                    "SELECT count(*) FROM ticket_event WHERE kind = 'created' AND actor_id = :agent"
                ),
                mine,
            ).scalar_one()
            overall = conn.execute(
                text("SELECT count(*), count(DISTINCT number) FROM ticket")
            ).one()
            bare_rows = conn.execute(text("SELECT count(*) FROM bench_bare")).scalar_one()
    finally:
        engine.dispose()
    answered = itsm.warmup.numbers + itsm.measured.numbers
    print(
        f"  tickets in the database: {count} ({distinct} distinct numbers); "
        f"successful ticket answers: {itsm.successes}; 'created' events: {events}"
    )
    print(f"  bench_bare rows: {bare_rows}; successful bare answers: {bare.successes}")
    if distinct != count or overall[0] != overall[1]:
        problems.append("duplicate ticket numbers in the database")
    if count != itsm.successes:
        problems.append(f"{count} tickets in the database but {itsm.successes} successes")
    if len(set(answered)) != len(answered):
        problems.append("the same ticket number was answered twice")
    if set(answered) != numbers:
        problems.append("the numbers answered differ from the numbers in the database")
    if events != count:
        problems.append(f"{events} 'created' events for {count} tickets")
    if bare_rows != bare.successes:
        problems.append(f"{bare_rows} bench_bare rows but {bare.successes} successes")
    return problems


def report(bare: Outcome, floor: Outcome, itsm: Outcome, args: argparse.Namespace) -> bool:
    print()
    print(
        f"POST, {args.clients} clients, {args.workers} gunicorn sync workers, "
        f"{args.seconds:g} s measured after {args.warmup:g} s warm-up, loopback, "
        f"{os.cpu_count()} CPUs shared by clients, servers and PostgreSQL; "
        f"SLA policy: {args.sla or 'none'}"
    )
    header = (
        f"{'':<29}{'requests':>9}{'errors':>7}{'tickets/s':>10}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'CPU ms/request: app':>21}{'PG':>6}{'client':>8}"
    )
    print(header)
    print("-" * len(header))
    labels = {
        "bare": "bare (Flask+SA2+psycopg3)",
        "floor": "floor (same stack and rows)",
        "itsm": "itsm POST /api/v1/tickets",
    }
    for outcome in (bare, floor, itsm):
        m = outcome.measured
        print(
            f"{labels[outcome.name]:<29}{m.ok:>9}{sum(m.errors.values()):>7}{m.rate:>10.1f}"
            f"{m.percentile(50):>8.1f}{m.percentile(99):>8.1f}"
            f"{m.cpu_ms_per_request('app'):>21.2f}{m.cpu_ms_per_request('db'):>6.2f}"
            f"{m.cpu_ms_per_request('client'):>8.2f}"
        )

    def ratio(a: Outcome, b: Outcome) -> float:
        return a.measured.rate / b.measured.rate if b.measured.rate else 0.0

    met = ratio(itsm, bare) >= TARGET
    print("-" * len(header))
    print(
        f"itsm / bare throughput: {ratio(itsm, bare):.1%}   target ≥ {TARGET:.0%}: "
        f"{'MET' if met else 'NOT MET'}"
    )
    print(
        f"floor / bare: {ratio(floor, bare):.1%} (what the stack allows for these rows); "
        f"itsm / floor: {ratio(itsm, floor):.1%} (what our logic keeps of it)"
    )
    print(
        "(CPU ms/request: app = gunicorn master and workers, PG = the database's backends, "
        "client = this load generator)"
    )
    for outcome in (bare, floor, itsm):
        for phase_name, phase in (("warm-up", outcome.warmup), ("measured", outcome.measured)):
            for key, n in phase.errors.most_common():
                print(
                    f"  error ({outcome.name}, {phase_name}): {key} × {n}: "
                    f"{phase.samples.get(key, '')[:200]}"
                )
    return met


def profile(url: str, redis_url: str, seed: Seed, requests: int, instance: Path) -> None:
    """CPU profile of `requests` ticket POSTs through the Flask test client, and its queries."""
    from itsm.app import create_app

    app = create_app(
        database_url=url, redis_url=redis_url, instance_path=instance, log_level="WARNING"
    )
    engine = app.extensions["itsm.db"].engine
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {seed.token}", "Content-Type": "application/json"}
    make = ticket_body(seed)
    rng = random.Random(1)

    def post() -> None:
        response = client.post(
            "/api/v1/tickets", data=make(rng.randrange(1 << 30)), headers=headers
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    for _ in range(50):  # warm caches (compiled SQL, schemas) as a running worker has them
        post()
    statements.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        post()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"\nin-process (Flask test client), {requests} POSTs: {wall / requests * 1000:.2f} ms "
        f"wall, {cpu / requests * 1000:.2f} ms CPU each; "
        f"{len(statements) / requests:.1f} SQL statements per POST (pre-ping, BEGIN, COMMIT "
        f"not counted):"
    )
    for statement, n in Counter(" ".join(s.split())[:110] for s in statements).most_common(25):
        print(f"  {n / requests:>4.1f}×  {statement}")
    profiler = cProfile.Profile(time.process_time)  # CPU only: waits on PostgreSQL excluded
    profiler.enable()
    for _ in range(requests):
        post()
    profiler.disable()
    print("\ncProfile (CPU time; cProfile inflates it, compare shares not absolute times):")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(20)
    app.extensions["itsm.db"].dispose()


# ---------------------------------------------------------------------------------------------


@contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """SIGINT (even if inherited as ignored), SIGTERM and SIGHUP interrupt like Ctrl-C, so the
    clean-up below always runs."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, interrupt) for s in handled}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="the PostgreSQL server to create the benchmark's own database on",
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per server")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per server")
    parser.add_argument(
        "--max-requests", type=int, default=200_000, help="cap on requests per phase"
    )
    parser.add_argument(
        "--sla",
        metavar="CODE",
        default=None,
        help="code the contract like a shipped SLA policy (e.g. C1), so each "
        "ticket starts its SLA clocks too (default: no policy)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also cProfile N ticket POSTs in-process (0: no)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="only check that it runs (make bench-smoke): the exit status ignores the target",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.workers < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients and --workers must be ≥ 1, --seconds > 0, --warmup ≥ 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database = BenchDatabase(args.database_url)
    scratch = Path(tempfile.mkdtemp(prefix="itsm_bench_"))
    stop = threading.Event()
    servers: list[Server] = []
    stops: list[Any] = []
    status = 0
    try:
        with signals_as_interrupt():
            try:
                print(f"database {database.shown}: creating and migrating …", flush=True)
                database.create()
                seed = prepare(database.url, args.sla or "BENCH")
                own_redis = RedisServer(scratch)
                own_redis.start()
                stops.append(own_redis.stop)
                bare = Server(
                    "bare",
                    "benchmarks.bare_app:app",
                    {"BENCH_BARE_DATABASE_URL": database.url},
                    args.workers,
                    scratch,
                    "/health",
                )
                floor = Server(
                    "floor",
                    "benchmarks.floor_app:app",
                    {
                        "BENCH_FLOOR_DATABASE_URL": database.url,
                        "BENCH_FLOOR_REDIS_URL": own_redis.url,
                        "BENCH_FLOOR_TOKEN": seed.token,
                        "BENCH_FLOOR_USER_ID": str(seed.floor_agent_id),
                        "BENCH_FLOOR_CONTRACT_IDS": str(seed.contract_id),
                    },
                    args.workers,
                    scratch,
                    "/health",
                )
                itsm = Server(
                    "itsm",
                    "itsm.wsgi:app",
                    {
                        "ITSM_DATABASE_URL": database.url,
                        "ITSM_INSTANCE_PATH": str(scratch / "instance"),
                        # a Redis of the run's own: jobs are really handed over after commit,
                        # and never into the machine's shared Redis
                        "ITSM_REDIS_URL": own_redis.url,
                    },
                    args.workers,
                    scratch,
                    "/",
                )
                servers += [bare, floor, itsm]
                plain = {"Content-Type": "application/json"}
                signed_in = {**plain, "Authorization": f"Bearer {seed.token}"}
                bare_outcome, floor_outcome, itsm_outcome = (
                    run_load(server, path, headers, body(seed), args, stop, database)
                    for server, path, headers, body in (
                        (bare, "/bare", plain, bare_body),
                        (floor, "/floor", signed_in, ticket_body),
                        (itsm, "/api/v1/tickets", signed_in, ticket_body),
                    )
                )
                met = report(bare_outcome, floor_outcome, itsm_outcome, args)
                print("\nchecks:")
                problems = verify(database.url, seed, itsm_outcome, bare_outcome)
                for problem in problems:
                    print(f"  PROBLEM: {problem}")
                if not problems:
                    print("  ticket numbers unique; every success is one row, and no more")
                if args.profile:
                    profile(
                        database.url,
                        own_redis.url,
                        seed,
                        args.profile,
                        scratch / "profile-instance",
                    )
                status = 0 if (met or args.smoke) and not problems else 1
            except KeyboardInterrupt:
                stop.set()
                print("\ninterrupted; cleaning up", file=sys.stderr)
                status = 130
            except Exception:
                stop.set()
                for server in servers:
                    if server.proc is not None:
                        print(f"--- {server.name} log ---\n{server.log_tail()}", file=sys.stderr)
                raise
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # clean up without interruption
        try:
            stop.set()
            for server in servers:
                server.stop()
            for stop_service in stops:
                stop_service()
            database.drop()
            shutil.rmtree(scratch, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, previous)
    return status


if __name__ == "__main__":
    sys.exit(main())
