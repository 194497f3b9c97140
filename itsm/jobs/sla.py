"""SLA jobs: a clock's timer, the periodic sweep (each telling people), the outbox redispatch."""

from __future__ import annotations

from datetime import timedelta

from itsm import clock, outbox
from itsm.jobs import rq_enqueuer
from itsm.jobs.runtime import database, redis
from itsm.services import notices, sla_sweep


def fire_timer(clock_id: int) -> dict[str, list[int]]:
    """A clock's warn or due instant has come: mark it (once, whoever else does too)."""
    with database().transaction() as session:
        now = clock.now()
        result = sla_sweep.sweep(session, now, [clock_id])
        notices.on_clocks(session, result.warned, result.breached, now)
    return {"warned": result.warned, "breached": result.breached}


def sweep_all() -> dict[str, int]:
    """The safety net: clocks whose instant passed without their timer (lost job, flush)."""
    with database().transaction() as session:
        now = clock.now()
        result = sla_sweep.sweep(session, now)
        notices.on_clocks(session, result.warned, result.breached, now)
    return {"warned": len(result.warned), "breached": len(result.breached)}


def redispatch_outbox() -> int:
    """Hand RQ the outbox rows a crash or a Redis outage left behind."""
    db = database()
    with db.sessions() as session:
        ids = outbox.pending_ids(session, older_than=timedelta(seconds=10))
    if not ids:
        return 0
    return outbox.dispatch(db.sessions, ids, rq_enqueuer(redis()))
