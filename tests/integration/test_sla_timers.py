"""Breaches raised on time by RQ timers, and by the sweep when Redis lost them.

Runs a real `itsm worker` (RQ worker with its scheduler) against a redis-server of the
test's own on a free port, which the test flushes; the machine's Redis is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from itsm import clock
from itsm.jobs import job_id_of, rq_queued
from itsm.models.outbox import OutboxMessage
from itsm.sla.models import Clock
from itsm.tickets.models import TicketEvent
from tests.factories import World, build_world, publish_shipped_policy
from tests.processes import stop
from tests.redis_server import RedisServer

pytestmark = pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")


def start_itsm(
    database_url: str, redis: RedisServer, tmp_path: Path, *args: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ITSM_DATABASE_URL": database_url,
        "ITSM_REDIS_URL": redis.url,
        "ITSM_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    return subprocess.Popen([sys.executable, "-m", "itsm.cli", *args], env=env)


def run_itsm(
    database_url: str, redis: RedisServer, tmp_path: Path, *args: str, seconds: float
) -> None:
    process = start_itsm(database_url, redis, tmp_path, *args)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass
    finally:
        stop(process)


def open_nearly_due_ticket(app: Flask, world: World, seconds_left: int) -> int:
    """A C4 ticket whose 10-minute response clock falls due `seconds_left` from now."""
    reported = clock.now() - timedelta(minutes=10) + timedelta(seconds=seconds_left)
    response = app.test_client().post(
        "/api/v1/tickets",
        json=world.ticket_body(priority="P3", reported_at=reported.isoformat()),
        headers=world.headers("agent"),
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def sla_events(app: Flask, ticket_id: int) -> list[str]:
    with app.extensions["itsm.db"].sessions() as session:
        return list(
            session.scalars(
                select(TicketEvent.kind).where(
                    TicketEvent.ticket_id == ticket_id, TicketEvent.kind.like("sla_%")
                )
            )
        )


def test_timers_raise_warning_and_breach_on_time_once(
    web: Flask, database_url: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    world = build_world(web.extensions["itsm.db"], calendar="24x7")
    publish_shipped_policy(web.test_client(), world, "C4")
    ticket_id = open_nearly_due_ticket(web, world, seconds_left=10)
    with web.extensions["itsm.db"].sessions() as session:
        due_at = session.scalar(
            select(Clock.due_at).where(
                Clock.subject_type == "ticket", Clock.subject_id == ticket_id
            )
        )
        clock_ids = session.scalars(
            select(Clock.id).where(Clock.subject_type == "ticket", Clock.subject_id == ticket_id)
        ).all()
        timers = [
            key
            for key in session.scalars(select(OutboxMessage.key))
            if key.split(":")[:2] in (["sla", str(i)] for i in clock_ids)
        ]
    redis = Redis.from_url(own_redis.url)  # handed to RQ after commit, the due one scheduled
    assert timers and rq_queued(redis)(timers) == set(timers)
    due = [key for key in timers if ":due:" in key]
    assert job_id_of(due[0]) in ScheduledJobRegistry("sla", connection=redis).get_job_ids()
    worker = start_itsm(database_url, own_redis, tmp_path, "worker")
    try:
        deadline = time.monotonic() + 30  # generous: a loaded CI machine starts slowly
        while len(sla_events(web, ticket_id)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # a duplicate, were one coming, would come now
    finally:
        stop(worker)
    assert sorted(sla_events(web, ticket_id)) == ["sla_breach", "sla_warning"]
    with web.extensions["itsm.db"].sessions() as session:
        row = session.scalar(
            select(Clock).where(Clock.subject_type == "ticket", Clock.subject_id == ticket_id)
        )
        assert row is not None and row.status == "breached" and row.breached_at == due_at
    run_itsm(database_url, own_redis, tmp_path, "sla", "sweep", seconds=60)
    assert sorted(sla_events(web, ticket_id)) == ["sla_breach", "sla_warning"]


def test_a_timer_lost_with_a_flushed_redis_is_caught_by_the_sweep(
    web: Flask, database_url: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    world = build_world(web.extensions["itsm.db"], calendar="24x7")
    publish_shipped_policy(web.test_client(), world, "C4")
    ticket_id = open_nearly_due_ticket(web, world, seconds_left=1)
    own_redis.flush()  # every scheduled timer is gone
    time.sleep(1.5)
    run_itsm(database_url, own_redis, tmp_path, "worker", "--burst", seconds=30)
    assert sla_events(web, ticket_id) == []
    run_itsm(database_url, own_redis, tmp_path, "sla", "sweep", seconds=60)
    run_itsm(database_url, own_redis, tmp_path, "sla", "sweep", seconds=60)
    # Found only when already past due: the breach is raised once, and no late warning.
    assert sla_events(web, ticket_id) == ["sla_breach"]
