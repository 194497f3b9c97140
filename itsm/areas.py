"""The one list of the service's areas: the app registers their blueprints from it, the outbox
finds their jobs in it, `itsm cron` runs their periodic jobs, and the schema is their models."""

from __future__ import annotations

import importlib
from typing import Any

from itsm import accounts, directory, inspections, notify, sla, tickets
from itsm.area import Area, JobKind, Periodic

AREAS: tuple[Area, ...] = (
    tickets.AREA,
    sla.AREA,
    directory.AREA,
    notify.AREA,
    accounts.AREA,
    inspections.AREA,
)
"""In the order their API blueprints appear in the OpenAPI document."""

PLATFORM_PERIODIC = (
    Periodic("outbox-redispatch", "itsm.jobs.outbox.redispatch_outbox", "default", 30),
)
"""The platform's own periodic job: the outbox hands RQ what a crash or an outage kept from it."""


def job_kinds() -> dict[str, JobKind]:
    return {job.kind: job for area in AREAS for job in area.jobs}


def periodic() -> tuple[Periodic, ...]:
    return PLATFORM_PERIODIC + tuple(job for area in AREAS for job in area.periodic)


PLATFORM_MODELS = ("itsm.models.outbox", "itsm.models.idempotency")
"""The tables of the platform beside the areas: the outbox and the idempotency records."""


def import_models() -> None:
    """Import every area's models and the platform's, so that the metadata holds every table."""
    for module in PLATFORM_MODELS + tuple(area.models for area in AREAS):
        importlib.import_module(module)


def import_registrations() -> None:
    """Import what each area registers with the platform (workflow kinds, clock notices)."""
    for area in AREAS:
        for module in area.registers:
            importlib.import_module(module)


def attribute(reference: str) -> Any:
    """The object a "package.module:attribute" reference names."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)
