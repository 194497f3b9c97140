"""A Redis outage, or a worker killed outright, costs no breach.

Real `itsm cron` and `itsm worker` processes against a redis-server of the test's own, which
the test stops and starts again (empty, as after a restart without persistence); the machine's
Redis is never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import func, select

from itsm import clock
from itsm.jobs.outbox import REDISPATCH_AFTER
from itsm.models.outbox import OutboxMessage
from tests.factories import World, build_world, publish_shipped_policy
from tests.integration.test_sla_timers import open_nearly_due_ticket, sla_events
from tests.processes import stop
from tests.redis_server import RedisServer

pytestmark = pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")

SCHEDULER_LOCK = "rq:scheduler-lock:sla"
LATE = 120
"""How long a test waits for what is due within a minute (plus the outage): a loaded machine
starts processes slowly, and the bound is the product's, not the test's."""


def start_itsm(
    database_url: str, redis: RedisServer, tmp_path: Path, log: Path, *args: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ITSM_DATABASE_URL": database_url,
        "ITSM_REDIS_URL": redis.url,
        "ITSM_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "itsm.cli", *args], env=env, stdout=output, stderr=output
        )


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def breached(web: Flask, ticket_id: int) -> bool:
    return "sla_breach" in sla_events(web, ticket_id)


def scheduler_running(redis: RedisServer) -> bool:
    try:
        return bool(Redis.from_url(redis.url).exists(SCHEDULER_LOCK))
    except Exception:  # noqa: BLE001 - Redis not up
        return False


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def world_on_a_24x7_calendar(web: Flask) -> World:
    world = build_world(web.extensions["itsm.db"], calendar="24x7")
    publish_shipped_policy(web.test_client(), world, "C4")
    return world


def test_cron_outlives_an_outage_sweeping_meanwhile_and_catches_up_when_redis_returns(
    web: Flask, database_url: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    world = world_on_a_24x7_calendar(web)
    since = clock.now()
    after = open_nearly_due_ticket(web, world, seconds_left=15)  # its timer dies with Redis
    cron_log = tmp_path / "cron.log"
    cron = start_itsm(database_url, own_redis, tmp_path, cron_log, "cron", "--sweep-every", "2")
    worker = start_itsm(database_url, own_redis, tmp_path, tmp_path / "worker.log", "worker")
    try:
        assert wait_for(lambda: scheduler_running(own_redis), 30)
        own_redis.stop()
        # The hotline goes on logging calls; only cron's own sweep can find this one due.
        during = open_nearly_due_ticket(web, world, seconds_left=3)
        assert wait_for(lambda: breached(web, during), 30)
        assert cron.poll() is None
        # Back once what the outage wrote is old enough for the redispatch, which cron runs at
        # once then (it stayed due): the test need not wait for its next turn.
        time.sleep(REDISPATCH_AFTER.total_seconds() + 1)
        own_redis.start()  # empty: every scheduled timer and queued job is gone
        # The sweep, enqueued again, catches the clock whose timer was lost, once.
        assert wait_for(lambda: breached(web, after), LATE)

        # What was written during the outage (the call's timers, the breach notices) reaches
        # RQ through the redispatch.
        def pending() -> int:
            with web.extensions["itsm.db"].sessions() as session:
                query = select(func.count()).where(
                    OutboxMessage.created_at >= since, OutboxMessage.dispatched_at.is_(None)
                )
                return session.scalar(query) or 0

        assert wait_for(lambda: pending() == 0, LATE)
        assert cron.poll() is None and worker.poll() is None
    finally:
        stop(worker)
        stop(cron)
    assert sla_events(web, during).count("sla_breach") == 1
    assert sla_events(web, after).count("sla_breach") == 1
    log = cron_log.read_text()
    assert log.count("Redis is unreachable") == 1, log
    assert log.count("Redis is back") == 1, log


def test_the_worker_takes_its_scheduler_back_after_an_outage(
    web: Flask, database_url: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    world = world_on_a_24x7_calendar(web)
    worker = start_itsm(database_url, own_redis, tmp_path, tmp_path / "worker.log", "worker")
    try:
        assert wait_for(lambda: scheduler_running(own_redis), 30)
        own_redis.stop()
        time.sleep(5)  # RQ's scheduler child dies of it
        own_redis.start()
        # No cron runs here: only the worker's scheduler can move the due timer to its queue.
        ticket_id = open_nearly_due_ticket(web, world, seconds_left=3)
        assert wait_for(lambda: breached(web, ticket_id), LATE)
    finally:
        stop(worker)
    assert sla_events(web, ticket_id).count("sla_breach") == 1


def test_a_worker_killed_outright_takes_its_scheduler_along_and_the_next_one_fires_timers(
    web: Flask, database_url: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    world = world_on_a_24x7_calendar(web)
    log = tmp_path / "worker.log"
    first = start_itsm(database_url, own_redis, tmp_path, log, "worker")
    second = None
    try:
        assert wait_for(lambda: scheduler_running(own_redis), 30)
        assert wait_for(lambda: bool(children_of(first.pid)), 10)
        scheduler_children = children_of(first.pid)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert wait_for(lambda: not any(alive(pid) for pid in scheduler_children), 10)
        second = start_itsm(database_url, own_redis, tmp_path, log, "worker")
        ticket_id = open_nearly_due_ticket(web, world, seconds_left=3)
        assert wait_for(lambda: breached(web, ticket_id), LATE)
    finally:
        stop(first)
        if second is not None:
            stop(second)
    assert sla_events(web, ticket_id).count("sla_breach") == 1
