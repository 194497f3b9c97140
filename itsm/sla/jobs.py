"""SLA jobs: a clock's timer and the periodic sweep (each telling people, each firing the
deadline triggers of every subject)."""

from __future__ import annotations

from itsm import clock, workflow_runner
from itsm.jobs.runtime import database


def fire_timer(clock_id: int) -> dict[str, list[int]]:
    """A clock's warn or due instant has come: mark it (once, whoever else does too), and
    fire the trigger its subject's state declares for a deadline."""
    with database().transaction() as session:
        now = clock.now()
        result = workflow_runner.pass_instants(session, now, [clock_id])
    return {"warned": result.warned, "breached": result.breached}


def sweep_all() -> dict[str, int]:
    """The safety net: clocks whose instant passed without their timer (lost job, flush)."""
    with database().transaction() as session:
        now = clock.now()
        result = workflow_runner.pass_instants(session, now)
    return {"warned": len(result.warned), "breached": len(result.breached)}
