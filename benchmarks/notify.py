"""Messages per second from the outbox to a provider, through RQ, beside RQ's own no-op jobs.

Both runs use the same Redis (a redis-server of this run's own), the same number of
`itsm worker --burst` processes and the same number of jobs; the notification run sends real
SMS through the twilio client to the local provider stub (a separate process), recording each
delivery in PostgreSQL. Each phase runs `--repeat` times, alternating, each notification
round with messages of its own; prints the median rates and their ratio, and the CPU each job
costs the workers and the stub (from their own process times), and the whole machine.

Two ratios: over each whole phase (workers' start-up, and for messages the outbox's hand-over
to RQ, included), and steady, from the first job's start to the last job's end as RQ recorded
them, which leaves the processes' start-up out of both (not what each worker's first job sets
up lazily: for messages, the database connection and the provider clients).

    python benchmarks/notify.py [--messages 2000] [--workers 2] [--repeat 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.utils import str_to_date
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import BenchDatabase, RedisServer, free_port, seed_world  # noqa: E402
from benchmarks.proc_cpu import cpu_seconds, machine_seconds  # noqa: E402
from itsm import clock, migrate, outbox  # noqa: E402
from itsm.db import Database  # noqa: E402
from itsm.jobs import job_id_of, rq_enqueuer  # noqa: E402
from itsm.models.outbox import OutboxMessage  # noqa: E402
from itsm.notify.models import Notification  # noqa: E402
from itsm.notify.services import notices  # noqa: E402
from itsm.tickets.models import Ticket  # noqa: E402
from tests.integration.notify_env import provider_env  # noqa: E402


class _Stub:
    """The provider stub as its own process, so it does not share our interpreter."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.provider_stub", "--port", str(self.port), "--no-record"],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(1.0)

    def cpu(self) -> float:
        return cpu_seconds([self.process.pid]).get(self.process.pid, 0.0)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass(frozen=True)
class Run:
    seconds: float
    worker_cpu: float
    """CPU seconds of the worker processes, start-up included."""
    stub_cpu: float
    machine_cpu: float
    """CPU seconds of every process on the machine (PostgreSQL, Redis, ...) meanwhile."""


def run_workers(env: dict[str, str], count: int, stub: _Stub) -> Run:
    """`count` burst workers emptying the queues: how long, and what CPU it took."""
    stub_before, machine_before = stub.cpu(), machine_seconds()
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "itsm.cli", "worker", "--burst", "--queues", "notifications"],
            env={**os.environ, **env, "ITSM_LOG_LEVEL": "WARNING"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    worker_cpu = 0.0
    for p in procs:
        _, _, usage = os.wait4(p.pid, 0)
        worker_cpu += usage.ru_utime + usage.ru_stime
    seconds = time.perf_counter() - start
    return Run(seconds, worker_cpu, stub.cpu() - stub_before, machine_seconds() - machine_before)


def steady_seconds(connection: Redis, job_ids: list[str]) -> float:
    """From the first job's start to the last job's end, as RQ recorded them."""
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(Job.key_for(job_id), "started_at", "ended_at")
        spans = pipe.execute()
    unfinished = [job_id for job_id, (_, ended) in zip(job_ids, spans, strict=True) if not ended]
    if unfinished:
        raise SystemExit(f"{len(unfinished)} jobs did not finish, e.g. {unfinished[0]}")
    starts = [str_to_date(started) for started, _ in spans]
    ends = [str_to_date(ended) for _, ended in spans]
    return (max(ends) - min(starts)).total_seconds()


def noop() -> None:
    """RQ's baseline job: does nothing."""


def _ticket(db: Database) -> Ticket:
    """The ticket every benchmark message is about (in the harness's directory)."""
    world = seed_world(db.url, calendar="24x7")
    now = clock.now()
    with db.transaction() as session:
        ticket = Ticket(
            number="INC-2026-999999",
            contract_id=world.contract_id,
            institution_id=world.institution_id,
            title="收费系统无法打印发票",
            reported_at=now,
            created_at=now,
            updated_at=now,
            created_by_id=world.agent_id,
            version=1,
        )
        session.add(ticket)
        session.flush()
        session.refresh(ticket)
    return ticket


def _messages(db: Database, ticket: Ticket, prefix: str, count: int) -> list[int]:
    """`count` SMS to the ticket's reporter(s), written with their outbox rows; the rows' ids."""
    context = notices.message_context(ticket, None)
    now = clock.now()
    with db.transaction() as session:
        rows = [
            Notification(
                key=f"{prefix}:{i}",
                event="ticket_opened",
                subject_type="ticket",
                subject_id=ticket.id,
                contract_id=ticket.contract_id,
                audience="reporter",
                channel="sms",
                address=f"+86139{i:08d}",
                lang="zh_CN",
                context=context,
                status="pending",
                attempts=0,
                urgent=True,
                created_at=now,
                updated_at=now,
            )
            for i in range(count)
        ]
        notices.record(session, rows)
    with db.sessions() as session:
        undispatched = OutboxMessage.dispatched_at.is_(None)
        return list(session.scalars(select(OutboxMessage.id).where(undispatched)))


def _sent(db: Database, prefix: str) -> int:
    with db.sessions() as session:
        mine = Notification.key.like(f"{prefix}:%")
        sent = select(func.count()).where(Notification.status == "sent", mine)
        return session.scalar(sent) or 0


def _cpu_per_job(runs: list[Run], jobs: int) -> str:
    """Median CPU milliseconds per job of the workers, the stub and the whole machine."""

    def ms(part: Callable[[Run], float]) -> float:
        return 1000 * statistics.median(part(run) for run in runs) / jobs

    return (
        f"CPU per job: workers {ms(lambda r: r.worker_cpu):.2f} ms (start-up included), stub "
        f"{ms(lambda r: r.stub_cpu):.2f} ms, whole machine {ms(lambda r: r.machine_cpu):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase (median)")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    bench_db = BenchDatabase(args.database_url)
    bench_db.create()
    folder = Path(tempfile.mkdtemp(prefix="itsm-notify-bench-"))
    redis_server = RedisServer(folder)
    redis_server.start()
    stub = _Stub()
    try:
        migrate.upgrade(bench_db.url)
        env = provider_env(bench_db.url, redis_server.url, stub, folder, public_url="")  # type: ignore[arg-type]
        connection = Redis.from_url(redis_server.url)
        queue = Queue("notifications", connection=connection)
        db = Database(bench_db.url)
        ticket = _ticket(db)
        baselines: list[Run] = []
        deliveries: list[Run] = []
        dispatches: list[float] = []
        noop_rates: list[float] = []
        rates: list[float] = []
        steady_noop_rates: list[float] = []
        steady_rates: list[float] = []
        for round_ in range(1, args.repeat + 1):
            noop_ids = [f"noop-{round_}-{i}" for i in range(args.messages)]
            queue.enqueue_many(
                [Queue.prepare_data("benchmarks.notify.noop", job_id=id_) for id_ in noop_ids]
            )
            baselines.append(run_workers(env, args.workers, stub))
            noop_rates.append(args.messages / baselines[-1].seconds)
            steady_noop_rates.append(args.messages / steady_seconds(connection, noop_ids))

            prefix = f"bench{round_}"
            ids = _messages(db, ticket, prefix, args.messages)
            start = time.perf_counter()
            outbox.dispatch(db.sessions, ids, rq_enqueuer(connection))
            dispatches.append(time.perf_counter() - start)
            deliveries.append(run_workers(env, args.workers, stub))
            sent = _sent(db, prefix)
            rates.append(sent / (dispatches[-1] + deliveries[-1].seconds))
            job_ids = [job_id_of(f"notify:{prefix}:{i}:1") for i in range(args.messages)]
            steady_rates.append(sent / steady_seconds(connection, job_ids))
            print(
                f"round {round_}: no-op {noop_rates[-1]:.0f} jobs/s ({baselines[-1].seconds:.2f} s"
                f", steady {steady_noop_rates[-1]:.0f}/s); messages {rates[-1]:.0f}/s (dispatch "
                f"{dispatches[-1]:.2f} s, delivery {deliveries[-1].seconds:.2f} s, steady "
                f"{steady_rates[-1]:.0f}/s; {sent} of {args.messages} recorded sent)",
                flush=True,
            )
        db.dispose()
        noop_rate, rate = statistics.median(noop_rates), statistics.median(rates)
        steady_noop, steady = statistics.median(steady_noop_rates), statistics.median(steady_rates)
        print(
            f"messages: {args.messages}, workers: {args.workers} (SimpleWorker, burst); "
            f"medians of {args.repeat} runs"
        )
        print(f"RQ no-op jobs:           {noop_rate:8.0f} jobs/s  (steady {steady_noop:.0f}/s)")
        print(f"  {_cpu_per_job(baselines, args.messages)}")
        print(
            f"outbox -> RQ -> stub:    {rate:8.0f} msgs/s  (dispatch "
            f"{statistics.median(dispatches):.2f} s, delivery "
            f"{statistics.median(run.seconds for run in deliveries):.2f} s; steady {steady:.0f}/s)"
        )
        print(f"  {_cpu_per_job(deliveries, args.messages)}")
        print(f"ratio, whole phases: {rate / noop_rate:.0%} of RQ's no-op throughput")
        print(f"ratio, steady:       {steady / steady_noop:.0%}")
    finally:
        stub.stop()
        redis_server.stop()
        bench_db.drop()


if __name__ == "__main__":
    main()
