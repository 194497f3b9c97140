"""The one path every workflow's steps take, a person's or the system's at a deadline.

`fire` loads the subject in the actor's scope, checks the version the caller saw, asks the
engine, carries out what the transition declares (the subject's field changes, the history
line, the clock effects, the notification event) and leaves the rest to the subject's kind,
all in the caller's transaction. `pass_instants` is what a timer and the sweep run: it marks
the clocks whose instants passed, tells people, and fires the trigger a state declares for a
deadline that passed while its subject was in it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from itsm import clock
from itsm.accounts.services.access import Actor
from itsm.errors import ItsmError, PreconditionFailed, TransitionRefused
from itsm.notify.services import notices
from itsm.sla.models import Clock
from itsm.sla.services import sla_sweep
from workflows.engine import ClockEffect, Transition, Workflow
from workflows.errors import TriggerRefused

log = logging.getLogger(__name__)


class Subject(Protocol):
    """What the fire path reads and writes on any workflow's record (a mapped class)."""

    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...

    @property
    def state(self) -> str: ...

    @state.setter
    def state(self, value: str) -> None: ...

    @property
    def updated_at(self) -> datetime: ...

    @updated_at.setter
    def updated_at(self, value: datetime) -> None: ...


S = TypeVar("S")
"""A workflow's mapped record, which has what `Subject` names (mypy does not match a mapped
class's columns to a protocol bound of a type variable, so the fire path casts)."""
F = TypeVar("F")


@dataclass(frozen=True)
class Step:
    """One firing, as a subject kind's hooks see it; `actor` None is the system."""

    actor: Actor | None
    trigger: str
    source: str
    target: str
    transition: Transition
    note: str | None
    inputs: Mapping[str, Any]
    now: datetime
    data: dict[str, Any] = field(default_factory=dict)
    """What the history line records beyond the note (an assignee change, a position …)."""


@dataclass(frozen=True)
class SubjectKind(Generic[S, F]):
    """What the fire path needs to know about one kind of record and its workflow."""

    name: str
    """The subject type its clocks and notifications are filed under."""
    model: type[S]
    """The mapped class; it must count versions (`version_id_col`): a step that raced another
    on the same record then fails instead of overwriting it."""
    workflow: Workflow[F]
    load: Callable[[Session, Actor | None, int], S]
    """The record in the actor's scope (NotFound otherwise); None loads for the system."""
    facts: Callable[[S, Actor | None, str | None], F]
    title: Callable[[S], str]
    """How a refusal names the record ("ticket INC-2026-000123")."""
    record_event: Callable[[Session, S, Step], None]
    apply_clocks: Callable[[Session, S, tuple[ClockEffect, ...], datetime], None]
    emit: Callable[[Session, S, str, datetime], None]
    field_changes: Mapping[str, Callable[[S, Step], None]] = field(default_factory=dict)
    prepare: Callable[[Session, S, Actor | None, str, Mapping[str, Any], dict[str, Any]], None] = (
        lambda session, subject, actor, trigger, inputs, data: None
    )
    """Check and apply the caller's inputs before the engine is asked (an assignee …)."""
    after: Callable[[Session, S, Step], None] = lambda session, subject, step: None
    """Anything else of the kind's own once the step is recorded."""

    def __post_init__(self) -> None:
        if sa_inspect(self.model).version_id_col is None:
            raise ValueError(f"{self.name}: {self.model.__name__} must count its versions")
        named = {change for t in self.workflow.transitions for change in t.sets}
        missing = named - set(self.field_changes)
        if missing:
            raise ValueError(f"{self.name}: field changes with no function: {sorted(missing)}")


KINDS: dict[str, SubjectKind[Any, Any]] = {}
"""Kinds whose states declare deadlines, by subject type: the sweep fires their triggers. An
area registers its kind where it declares it; the areas are imported by the worker through
the job functions, before any sweep."""


def register(kind: SubjectKind[Any, Any]) -> SubjectKind[Any, Any]:
    KINDS[kind.name] = kind
    return kind


def lock_clocks(session: Session, subject_type: str, subject_id: int) -> None:
    """Lock the subject's clocks before its own row, the order the sweep takes them in (it
    marks clocks, then fires the subject's step): the other order could deadlock the two."""
    session.execute(
        select(Clock.id)
        .where(Clock.subject_type == subject_type, Clock.subject_id == subject_id)
        .with_for_update()
    ).all()


def check_version(kind: SubjectKind[S, F], subject: S, expected_version: int) -> None:
    record = cast(Subject, subject)
    if record.version != expected_version:
        raise PreconditionFailed(
            f"{kind.title(subject)} changed since you read it (version {expected_version}, "
            f"now {record.version}); reload it and apply your change again",
            current_etag=f'"{record.id}-{record.version}"',
        )


def fire(
    session: Session,
    kind: SubjectKind[S, F],
    actor: Actor,
    subject_id: int,
    expected_version: int,
    trigger: str,
    note: str | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> S:
    """Fire `trigger` on the record for `actor`; refused (409) with a reason and what may."""
    subject = kind.load(session, actor, subject_id)
    check_version(kind, subject, expected_version)
    lock_clocks(session, kind.name, subject_id)
    return _fire_loaded(session, kind, subject, actor, trigger, note, inputs or {}, clock.now())


def _fire_loaded(
    session: Session,
    kind: SubjectKind[S, F],
    subject: S,
    actor: Actor | None,
    trigger: str,
    note: str | None,
    inputs: Mapping[str, Any],
    now: datetime,
    data: dict[str, Any] | None = None,
) -> S:
    data = dict(data or {})
    record = cast(Subject, subject)
    kind.prepare(session, subject, actor, trigger, inputs, data)
    source = record.state
    try:
        target = kind.workflow.fire(source, trigger, kind.facts(subject, actor, note))
    except TriggerRefused as refused:
        raise TransitionRefused(
            f"cannot {trigger} {kind.title(subject)}: {refused.reason}",
            allowed=refused.allowed,
            state=source,
        ) from None
    transition = kind.workflow.transition(source, trigger, target)
    step = Step(actor, trigger, source, target, transition, note, inputs, now, data)
    for change in transition.sets:
        kind.field_changes[change](subject, step)
    record.state = target
    record.updated_at = now
    kind.record_event(session, subject, step)
    session.flush()
    kind.apply_clocks(session, subject, transition.clocks, now)
    kind.after(session, subject, step)
    if transition.emits:
        kind.emit(session, subject, transition.emits, now)
    return subject


@dataclass(frozen=True)
class DeadlineFired:
    subject_type: str
    subject_id: int
    clock: str
    trigger: str


def fire_deadlines(
    session: Session, clock_ids: Iterable[int], now: datetime
) -> list[DeadlineFired]:
    """For each clock just marked breached (once, by its conditional UPDATE), fire the trigger
    its subject's state declares for it, as the system; a subject that has moved on to a state
    without that deadline is left alone.

    Each firing has a savepoint of its own: a subject that cannot take its step (gone, refused
    by a guard) is logged and skipped, and the sweep's other marks and messages still commit.
    """
    ids = list(clock_ids)
    if not ids:
        return []
    rows = session.execute(
        select(Clock.id, Clock.subject_type, Clock.subject_id, Clock.metric)
        .where(Clock.id.in_(ids), Clock.policy_id.is_(None))
        .order_by(Clock.id)
    ).all()
    fired = []
    for clock_id, subject_type, subject_id, name in rows:
        kind = KINDS.get(subject_type)
        if kind is None:
            log.error("clock %s: no workflow registered for %r deadlines", clock_id, subject_type)
            continue
        try:
            with session.begin_nested():
                trigger = _fire_deadline(session, kind, subject_id, name, now)
        except (ItsmError, NoResultFound, KeyError) as error:
            log.error(
                "clock %s: %s %s did not take its deadline step: %s",
                clock_id,
                subject_type,
                subject_id,
                error,
            )
            continue
        if trigger is not None:
            fired.append(DeadlineFired(subject_type, subject_id, name, trigger))
    return fired


def _fire_deadline(
    session: Session, kind: SubjectKind[S, F], subject_id: int, name: str, now: datetime
) -> str | None:
    subject = kind.load(session, None, subject_id)
    state = kind.workflow.state_decls[cast(Subject, subject).state]
    if state.deadline != name or state.on_deadline is None:
        return None
    note = f"{name} deadline passed"
    _fire_loaded(session, kind, subject, None, state.on_deadline, note, {}, now, {"clock": name})
    return state.on_deadline


def pass_instants(
    session: Session, now: datetime, clock_ids: Iterable[int] | None = None
) -> sla_sweep.SweepResult:
    """Mark the clocks (all, or those named) whose warning or due instant has passed, tell
    people, and fire the deadline triggers: what a timer and the periodic sweep both run."""
    result = sla_sweep.sweep(session, now, clock_ids)
    notices.on_clocks(session, result.warned, result.breached, now)
    fire_deadlines(session, result.breached, now)
    return result
