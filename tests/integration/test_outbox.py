"""The outbox's hand-over to RQ: after commit from memory, then marked in bulk by the
redispatch, which hands RQ what it lacks (a flushed Redis) and nothing twice.

A redis-server of the test's own on a free port (flushed here); never the machine's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import select, update

from itsm import clock, outbox
from itsm.jobs import job_id_of, rq_enqueuer, rq_queued
from itsm.jobs.sla import REDISPATCH_AFTER
from itsm.models import OutboxMessage
from tests.factories import build_world
from tests.redis_server import RedisServer

pytestmark = pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")


def _settle_earlier_rows(app: Flask) -> None:
    """Mark what earlier tests left in this run's shared database: the redispatch takes every
    row, and these tests count what it does with their own."""
    with app.extensions["itsm.db"].transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dispatched_at.is_(None))
            .values(dispatched_at=clock.now())
        )


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
    _settle_earlier_rows(web)
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
    _settle_earlier_rows(web)
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
