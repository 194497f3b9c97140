"""Messages per second from the outbox to a provider, through RQ, beside RQ's own no-op jobs.

Both runs use the same Redis (a redis-server of this run's own), the same number of
`itsm worker --burst` processes and the same number of jobs; the notification run sends real
SMS through the twilio client to the local provider stub (a separate process), recording each
delivery in PostgreSQL. Prints both rates and their ratio.

    python benchmarks/notify.py [--messages 2000] [--workers 2] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis
from rq import Queue
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_database import BenchDatabase  # noqa: E402
from itsm import clock, migrate, outbox  # noqa: E402
from itsm.db import Database  # noqa: E402
from itsm.jobs import rq_enqueuer  # noqa: E402
from itsm.models import Notification, Ticket  # noqa: E402
from itsm.services import notices  # noqa: E402
from tests.factories import build_world  # noqa: E402
from tests.integration.notify_env import provider_env  # noqa: E402
from tests.redis_server import RedisServer, free_port  # noqa: E402


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

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def run_workers(env: dict[str, str], count: int) -> float:
    """Seconds until `count` burst workers have emptied the queues."""
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
    for p in procs:
        p.wait()
    return time.perf_counter() - start


def noop() -> None:
    """RQ's baseline job: does nothing."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
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

        queue.enqueue_many(
            [
                Queue.prepare_data("benchmarks.notify.noop", job_id=f"noop-{i}")
                for i in range(args.messages)
            ]
        )
        baseline = run_workers(env, args.workers)

        db = Database(bench_db.url)
        world = build_world(db, calendar="24x7")
        with db.transaction() as session:
            ticket = Ticket(
                number="INC-2026-999999",
                contract_id=world.contract_id,
                institution_id=world.institution_id,
                title="收费系统无法打印发票",
                reported_at=clock.now(),
                created_at=clock.now(),
                updated_at=clock.now(),
                created_by_id=world.users["agent"],
                version=1,
            )
            session.add(ticket)
            session.flush()
            session.refresh(ticket)
            context = notices.message_context(ticket, None)
            now = clock.now()
            rows = [
                Notification(
                    key=f"bench:{i}",
                    event="ticket_opened",
                    ticket_id=ticket.id,
                    contract_id=world.contract_id,
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
                for i in range(args.messages)
            ]
            notices.record(session, rows)
        with db.sessions() as session:
            ids = [m for (m,) in session.execute(select(outbox.OutboxMessage.id)).all()]
        start = time.perf_counter()
        outbox.dispatch(db.sessions, ids, rq_enqueuer(connection))
        dispatch = time.perf_counter() - start
        delivery = run_workers(env, args.workers)
        with db.sessions() as session:
            sent = session.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == "sent")
            )
        db.dispose()
        total = dispatch + delivery
        noop_rate = args.messages / baseline
        rate = (sent or 0) / total
        print(f"messages: {args.messages}, workers: {args.workers} (SimpleWorker, burst)")
        print(f"RQ no-op jobs:           {noop_rate:8.0f} jobs/s  ({baseline:.2f} s)")
        print(
            f"outbox -> RQ -> stub:    {rate:8.0f} msgs/s  ({total:.2f} s: dispatch "
            f"{dispatch:.2f} s, delivery {delivery:.2f} s; {sent} recorded sent)"
        )
        print(f"ratio: {rate / noop_rate:.0%} of RQ's no-op throughput")
    finally:
        stub.stop()
        redis_server.stop()
        bench_db.drop()


if __name__ == "__main__":
    main()
