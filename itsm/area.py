"""What an area of the service declares to the app, the worker and `itsm cron`: pure data, so
that reading it imports none of the area's code (`itsm.areas` lists them; they load on use)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    """The RQ job that runs an outbox row of this `kind`: `function` is a dotted path."""

    kind: str
    queue: str
    function: str
    retried: bool = True
    """Retried by RQ (3 times, backing off); False for a job that counts its own attempts."""


@dataclass(frozen=True)
class Periodic:
    """A job `itsm cron` enqueues every `seconds`; `id` is its name in RQ's cron registry."""

    id: str
    function: str
    queue: str
    seconds: int
    needs_redis: bool = True
    """False for a job of the database alone, which `itsm cron` runs itself while Redis is away."""


@dataclass(frozen=True)
class Area:
    """One package of `itsm/`: its tables, its API and page blueprints ("module:attribute"),
    the jobs its outbox rows run and the periodic jobs it needs."""

    name: str
    models: str
    api: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    jobs: tuple[JobKind, ...] = ()
    periodic: tuple[Periodic, ...] = ()
    registers: tuple[str, ...] = ()
    """Modules that register the area's workflow kinds (deadline triggers) and the notices
    of its clocks: every process imports them before it serves, works or sweeps."""
