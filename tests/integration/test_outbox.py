"""The outbox's hand-over to RQ: after the outermost commit, from memory, in one MULTI; then
marked in bulk by the redispatch, which hands RQ what it lacks (a flushed Redis).

A redis-server of the test's own on a free port (flushed here), or a socket that never
answers; never the machine's Redis.
"""

from __future__ import annotations

import socket
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm import clock, outbox
from itsm.app import create_app
from itsm.db import Database
from itsm.jobs import job_id_of, rq_enqueuer, rq_queued
from itsm.jobs.outbox import REDISPATCH_AFTER
from itsm.models.outbox import OutboxMessage
from tests.factories import build_world, settle_outbox
from tests.redis_server import RedisServer

pytestmark = pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")


def _rows(app: Flask, ticket_id: int) -> list[OutboxMessage]:
    with app.extensions["itsm.db"].sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.key.contains(f":t{ticket_id}:"))
            )
        )


def test_rq_has_the_jobs_at_commit_and_the_redispatch_repairs_only_what_it_lost(
    web: Flask, own_redis: RedisServer
) -> None:
    settle_outbox(web.extensions["itsm.db"])
    world = build_world(web.extensions["itsm.db"], calendar="24x7")  # no quiet hours
    client = web.test_client()
    redis = Redis.from_url(own_redis.url)
    queue = Queue("notifications", connection=redis)
    lost = world.open_ticket(client, priority="P3", reporter_phone="13912345670")["id"]
    own_redis.flush()  # its job is gone, and only its
    kept = world.open_ticket(client, priority="P3", reporter_phone="13912345671")["id"]
    lost_keys = [row.key for row in _rows(web, lost)]
    kept_keys = [row.key for row in _rows(web, kept)]
    assert lost_keys and kept_keys
    assert rq_queued(redis)(lost_keys + kept_keys) == set(kept_keys)  # enqueued after commit
    assert len(queue.job_ids) == len(kept_keys)
    assert all(row.dispatched_at is None for row in _rows(web, kept))  # marked later, in bulk

    sessions = web.extensions["itsm.db"].sessions
    too_soon = outbox.redispatch(sessions, rq_enqueuer(redis), rq_queued(redis), REDISPATCH_AFTER)
    assert too_soon == outbox.Redispatched(0, 0)  # young rows may still be on their way
    with time_machine.travel(clock.now() + REDISPATCH_AFTER + timedelta(seconds=1)):
        first = outbox.redispatch(sessions, rq_enqueuer(redis), rq_queued(redis), REDISPATCH_AFTER)
        again = outbox.redispatch(sessions, rq_enqueuer(redis), rq_queued(redis), REDISPATCH_AFTER)
    assert first == outbox.Redispatched(confirmed=len(kept_keys), handed=len(lost_keys))
    assert again == outbox.Redispatched(0, 0)
    assert sorted(queue.job_ids) == sorted(job_id_of(k) for k in lost_keys + kept_keys)
    for row in _rows(web, lost) + _rows(web, kept):
        assert row.dispatched_at is not None and row.attempts == 1


def test_a_failed_hand_over_leaves_the_rows_for_the_redispatch(
    web: Flask, own_redis: RedisServer
) -> None:
    settle_outbox(web.extensions["itsm.db"])
    world = build_world(web.extensions["itsm.db"], calendar="24x7")
    own_redis.stop()
    ticket = world.open_ticket(web.test_client(), priority="P3", reporter_phone="13912345672")
    own_redis.start()
    rows = _rows(web, ticket["id"])
    assert rows and all(row.dispatched_at is None for row in rows)
    redis = Redis.from_url(own_redis.url)
    sessions = web.extensions["itsm.db"].sessions
    with time_machine.travel(clock.now() + REDISPATCH_AFTER + timedelta(seconds=1)):
        result = outbox.redispatch(sessions, rq_enqueuer(redis), rq_queued(redis), REDISPATCH_AFTER)
    assert result == outbox.Redispatched(confirmed=0, handed=len(rows))
    assert rq_queued(redis)([row.key for row in rows]) == {row.key for row in rows}


def test_only_the_outermost_commit_hands_messages_over(database_url: str) -> None:
    db = Database(database_url)
    handed: list[list[str]] = []
    outbox.install(db.sessions, lambda messages: handed.append([m.key for m in messages]))
    tag = uuid.uuid4().hex

    def add(session: Session, name: str) -> None:
        message = outbox.Message(f"test:{tag}:{name}", "notification", {"key": name})
        outbox.add_new(session, [message])

    try:
        with db.sessions() as session:
            add(session, "before")
            with session.begin_nested():
                add(session, "kept")
            assert handed == []  # a released savepoint hands nothing over yet
            with pytest.raises(RuntimeError), session.begin_nested():
                add(session, "dropped")
                raise RuntimeError("rolls the savepoint back")
            session.commit()
        assert handed == [[f"test:{tag}:before", f"test:{tag}:kept"]]
        with db.sessions() as session:
            add(session, "abandoned")  # closed without a commit: row and message are gone
        with db.sessions() as session:
            add(session, "next")
            session.commit()
        assert handed[-1] == [f"test:{tag}:next"]
    finally:
        db.dispose()


def test_a_scheduled_job_is_registered_inside_the_batch(own_redis: RedisServer) -> None:
    redis = Redis.from_url(own_redis.url)
    message = outbox.Message(
        "sla:999999:due:1", "sla_timer", {"clock_id": 999999}, clock.now() + timedelta(hours=1)
    )
    with redis.monitor() as monitor:
        rq_enqueuer(redis)([message])
        commands: list[str] = []
        while "EXEC" not in commands:
            commands.append(monitor.next_command()["command"].split()[0].upper())
    # rq's own ScheduledJobRegistry.schedule would ZADD at once, before MULTI … EXEC
    assert commands.index("MULTI") < commands.index("ZADD") < commands.index("EXEC")
    job_id = job_id_of(message.key)
    assert job_id in ScheduledJobRegistry("sla", connection=redis).get_job_ids()
    assert Job.fetch(job_id, connection=redis).get_status() == "scheduled"


def test_a_redis_that_never_answers_holds_a_request_2_s_at_most(
    database_url: str, tmp_path: Path
) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), answers nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        port = silent.getsockname()[1]
        app = create_app(
            instance_path=tmp_path / "instance",
            database_url=database_url,
            redis_url=f"redis://127.0.0.1:{port}/0",
        )
        try:
            world = build_world(app.extensions["itsm.db"], calendar="24x7")
            started = time.monotonic()
            ticket = world.open_ticket(app.test_client(), reporter_phone="13912345673")
            elapsed = time.monotonic() - started
            rows = _rows(app, ticket["id"])
        finally:
            app.extensions["itsm.db"].dispose()
    assert elapsed < 5  # a 2 s read timeout and no retries (redis-py's default: ≈ 25 s)
    assert rows and all(row.dispatched_at is None for row in rows)  # left for the redispatch
