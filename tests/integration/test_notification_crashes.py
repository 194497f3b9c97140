"""Crash safety with real worker processes: a worker killed before sending or mid-retry, and
Redis down while tickets are opened, still end in one recorded delivery per idempotency key.

Each test has a redis-server of its own on a free port (stopped and restarted here); the
providers are the local stub; the workers are `itsm worker` processes killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from redis import Redis
from sqlalchemy import select

from itsm import clock
from itsm.jobs import outbox as outbox_jobs
from itsm.jobs import rq_queued
from itsm.models.outbox import OutboxMessage
from itsm.notify import jobs
from itsm.notify.models import Notification
from tests.factories import build_world, settle_outbox
from tests.integration.notify_env import provider_env, worker_runtime
from tests.processes import stop
from tests.provider_stub import ProviderStub
from tests.redis_server import RedisServer

pytestmark = [
    pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server"),
    pytest.mark.slow,
]
REPORTER = "+8613912345678"
LEASE_SECONDS = 3


@pytest.fixture
def stub() -> Iterator[ProviderStub]:
    with ProviderStub() as server:
        yield server


@pytest.fixture
def env(
    database_url: str, own_redis: RedisServer, stub: ProviderStub, tmp_path: Path
) -> dict[str, str]:
    return provider_env(
        database_url,
        own_redis.url,
        stub,
        tmp_path / "instance",
        notify_lease_seconds=str(LEASE_SECONDS),
        notify_retry_backoff="1",
    )


class Worker:
    """An `itsm worker` process on the notifications queue."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "itsm.cli", "worker", "--queues", "notifications,default"],
            env={**os.environ, **env},
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture
def workers(env: dict[str, str]) -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(env))
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def wait_for(condition: Callable[[], bool], seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds  # generous: a loaded CI machine starts slowly
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def notification(app: Flask, ticket_id: int, event: str) -> Notification:
    with app.extensions["itsm.db"].sessions() as session:
        return session.scalars(
            select(Notification).where(
                Notification.subject_type == "ticket",
                Notification.subject_id == ticket_id,
                Notification.event == event,
            )
        ).one()  # one row per idempotency key, whatever happened


def hand_on_lost(env: dict[str, str]) -> None:
    """What `itsm cron` does every 30 s: redispatch the outbox, hand on lost deliveries."""
    with worker_runtime(env):
        outbox_jobs.redispatch_outbox()
        jobs.sweep_unfinished()


def test_a_worker_killed_after_its_claim_but_before_sending(  # type: ignore[no-untyped-def]
    web, stub, env, workers
) -> None:
    world = build_world(web.extensions["itsm.db"], calendar="24x7")  # no quiet hours
    stub.script("delay", endpoint="wechat_token", seconds=30)  # the worker hangs before its send
    ticket = world.open_ticket(
        web.test_client(), priority="P3", assignee_id=world.users["engineer"]
    )
    first = workers()
    wait_for(lambda: notification(web, ticket["id"], "ticket_assigned").status == "sending")
    time.sleep(0.5)  # it is now waiting for its access token (answered only after 30 s)
    first.kill()
    engineer = notification(web, ticket["id"], "ticket_assigned").address
    assert stub.counts()["sends"].get(engineer, 0) == 0 and stub.requests_to("wechat_app") == []
    time.sleep(LEASE_SECONDS + 0.5)  # the dead worker's lease runs out
    hand_on_lost(env)
    workers()
    wait_for(lambda: notification(web, ticket["id"], "ticket_assigned").status == "sent")
    row = notification(web, ticket["id"], "ticket_assigned")
    assert row.attempts == 2
    assert stub.counts()["sends"][engineer] == 1


def test_a_worker_killed_mid_retry(web, stub, env, workers) -> None:  # type: ignore[no-untyped-def]
    world = build_world(web.extensions["itsm.db"], calendar="24x7")  # no quiet hours
    stub.script("server_error", recipient=REPORTER)  # the first attempt fails, retryable
    stub.script("delay", recipient=REPORTER, seconds=20)  # the retry hangs in the provider
    ticket = world.open_ticket(web.test_client(), priority="P3")
    first = workers()
    wait_for(
        lambda: (
            (row := notification(web, ticket["id"], "ticket_opened")).attempts == 2
            and row.status == "sending"
        )
    )
    time.sleep(1.0)  # its request is now waiting in the provider
    first.kill()
    time.sleep(LEASE_SECONDS + 0.5)
    hand_on_lost(env)
    workers()
    wait_for(lambda: notification(web, ticket["id"], "ticket_opened").status == "sent")
    row = notification(web, ticket["id"], "ticket_opened")
    assert row.attempts >= 3 and row.error_code in ("503", "timeout")
    accepted = [
        r
        for r in stub.requests_to("twilio")
        if r["status"] == 201 and r["answer"]["sid"] == row.provider_id
    ]
    assert len(accepted) == 1  # the record is the attempt that succeeded


def test_tickets_opened_while_redis_is_down_lose_no_message(  # type: ignore[no-untyped-def]
    web, stub, env, workers, own_redis
) -> None:
    settle_outbox(web.extensions["itsm.db"])
    world = build_world(web.extensions["itsm.db"], calendar="24x7")  # no quiet hours
    own_redis.stop()
    client = web.test_client()
    numbers = [f"+861391234560{i}" for i in range(5)]
    ids = [world.open_ticket(client, priority="P3", reporter_phone=n[3:])["id"] for n in numbers]
    own_redis.start()
    with web.extensions["itsm.db"].sessions() as session:
        waiting = session.scalars(
            select(OutboxMessage.key).where(
                OutboxMessage.dispatched_at.is_(None), OutboxMessage.kind == "notification"
            )
        ).all()
    assert len(waiting) == 5
    assert rq_queued(Redis.from_url(own_redis.url))(waiting) == set()  # RQ never got them
    with time_machine.travel(clock.now() + timedelta(seconds=15)):  # rows older than 10 s
        hand_on_lost(env)
    workers()
    wait_for(lambda: all(notification(web, i, "ticket_opened").status == "sent" for i in ids))
    assert {n: stub.counts()["sends"].get(n) for n in numbers} == dict.fromkeys(numbers, 1)
