"""The outbox's periodic job: hand RQ the rows a crash or a Redis outage kept from it."""

from __future__ import annotations

from datetime import timedelta

from itsm import outbox
from itsm.jobs import rq_enqueuer, rq_queued
from itsm.jobs.runtime import database, redis

REDISPATCH_AFTER = timedelta(seconds=10)
"""Rows younger than this may still be on their way to the queue after their commit."""
REDISPATCH_BATCH = 5000
REDISPATCH_MAX_BATCHES = 40
"""Up to 200,000 rows a run (every 30 s): far above what the service writes meanwhile."""


def redispatch_outbox() -> dict[str, int]:
    """Mark the outbox rows RQ got after their commit; hand it those a crash or a Redis
    outage (or flush) kept from it."""
    enqueue, queued = rq_enqueuer(redis()), rq_queued(redis())
    totals = {"confirmed": 0, "handed": 0}
    for _ in range(REDISPATCH_MAX_BATCHES):
        batch = outbox.redispatch(
            database().sessions, enqueue, queued, REDISPATCH_AFTER, REDISPATCH_BATCH
        )
        totals["confirmed"] += batch.confirmed
        totals["handed"] += batch.handed
        if batch.confirmed + batch.handed < REDISPATCH_BATCH:
            break
    return totals
