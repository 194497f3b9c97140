"""Inspection jobs: occurrences generated ahead for every contract with a plan."""

from __future__ import annotations

from itsm import clock
from itsm.inspections.services import inspections
from itsm.jobs.runtime import database


def generate_ahead() -> dict[str, int]:
    """The next 90 days of every contract's plan (idempotent: nothing is made twice)."""
    with database().transaction() as session:
        created = inspections.generate_ahead(session, clock.now())
    return {"created": created}
