"""A workflow's deadlines: clocks with an instant and no SLA policy (an inspection's window, an
escalation level's acknowledgement, a change's report date), started, met and cancelled by
the steps their workflow declares, and found by the same sweep as tickets' SLA clocks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from itsm import outbox
from itsm.sla.models import Clock, ClockEvent
from itsm.sla.services.sla import (
    INSERT_CLOCKS,
    clocks_of,
    log_clock_event,
    schedule_timers,
    stop_or_cancel,
    timers,
)
from workflows.engine import ClockAction, ClockEffect

CALENDAR_TIME = "24x7"

DueAt = Callable[[str, datetime], datetime | None]
"""The instant a named deadline of the subject falls due, started now (None: none applies)."""


def start(
    session: Session,
    subject_type: str,
    subject_id: int,
    name: str,
    due_at: datetime,
    now: datetime,
    cause: str,
    warn_at: datetime | None = None,
) -> Clock:
    """A running deadline due at `due_at`, warned at `warn_at` (none when not given)."""
    clock_row = Clock(
        subject_type=subject_type,
        subject_id=subject_id,
        metric=name,
        status="running",
        policy_id=None,
        rule="",
        target="",
        calendar=CALENDAR_TIME,
        meter=CALENDAR_TIME,
        starts="step",
        warn_fraction=1.0,
        total_seconds=max(int((due_at - now).total_seconds()), 0),
        paused_seconds=0,
        started_at=now,
        due_at=due_at,
        warn_at=warn_at if warn_at is not None and warn_at < due_at else due_at,
        events=[],
    )
    log_clock_event(clock_row, now, "started", cause)
    session.add(clock_row)
    return clock_row


@dataclass(frozen=True)
class Deadline:
    subject_id: int
    due_at: datetime
    warn_at: datetime | None = None


def start_many(
    session: Session,
    subject_type: str,
    name: str,
    deadlines: Sequence[Deadline],
    now: datetime,
    cause: str,
) -> list[int]:
    """Running deadlines of many new subjects at once, with their timelines and timers: one
    Core INSERT each (generation makes thousands; nothing reads them in this transaction)."""
    if not deadlines:
        return []
    rows: list[dict[str, Any]] = [
        {
            "subject_type": subject_type,
            "subject_id": d.subject_id,
            "metric": name,
            "status": "running",
            "policy_id": None,
            "rule": "",
            "target": "",
            "calendar": CALENDAR_TIME,
            "meter": CALENDAR_TIME,
            "starts": "step",
            "warn_fraction": 1.0,
            "total_seconds": max(int((d.due_at - now).total_seconds()), 0),
            "paused_seconds": 0,
            "started_at": now,
            "due_at": d.due_at,
            "warn_at": d.warn_at if d.warn_at is not None and d.warn_at < d.due_at else d.due_at,
            "paused_at": None,
            "warned_at": None,
            "breached_at": None,
            "met_at": None,
            "cancelled_at": None,
        }
        for d in deadlines
    ]
    ids = list(session.execute(INSERT_CLOCKS, rows).scalars().all())
    session.execute(
        insert(cast(Table, ClockEvent.__table__)),
        [
            {
                "clock_id": i,
                "at": now,
                "kind": "started",
                "cause": cause,
                "due_at": row["due_at"],
                "data": {},
            }
            for i, row in zip(ids, rows, strict=True)
        ],
    )
    outbox.add_new(
        session,
        [
            timer
            for i, row in zip(ids, rows, strict=True)
            for timer in timers(
                i, row["due_at"], row["warn_at"] if row["warn_at"] < row["due_at"] else None
            )
        ],
    )
    return ids


def _warning(row: dict[str, Any]) -> datetime | None:
    warn_at: datetime = row["warn_at"]
    return warn_at if warn_at < row["due_at"] else None


def apply_effects(
    session: Session,
    subject_type: str,
    subject_id: int,
    effects: Iterable[ClockEffect],
    now: datetime,
    due_at: DueAt,
) -> None:
    """Start, meet or cancel the subject's deadlines as a step declares.

    Deadlines are not paused or reopened (only tickets' SLA clocks are); a workflow that
    declares so for one is refused here rather than silently ignored."""
    clocks = {c.metric: c for c in clocks_of(session, subject_type, subject_id)}
    started: list[Clock] = []
    for effect in effects:
        if stop_or_cancel(effect, clocks, now):
            continue
        if effect.action != ClockAction.START:
            raise ValueError(f"{subject_type}: a deadline cannot {effect.action}")
        for name in effect.clocks:
            instant = due_at(name, now)
            if name not in clocks and instant is not None:
                clocks[name] = start(
                    session, subject_type, subject_id, name, instant, now, effect.cause
                )
                started.append(clocks[name])
    schedule_timers(session, started)
