"""Warnings and breaches: mark every running clock whose instant has passed, each once.

The conditional UPDATE is the guard: a timer job and the periodic sweep racing for the same
clock both run it, and only the one whose UPDATE matched the row raises the event. A clock
found already past due is breached without a late warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import String, bindparam, cast, func, insert, literal, null, select, update
from sqlalchemy.orm import Session

from itsm.sla.models import TICKET, Clock, ClockEvent
from itsm.tickets.models import TicketEvent


@dataclass(frozen=True)
class SweepResult:
    warned: list[int]
    breached: list[int]


def sweep(session: Session, now: datetime, clock_ids: Iterable[int] | None = None) -> SweepResult:
    """Mark the clocks (all, or those named) whose warning or due instant has passed."""
    if session.get_bind().dialect.name == "postgresql":
        return _sweep_postgresql(session, now, clock_ids)
    return _sweep_portable(session, now, clock_ids)


def _sweep_postgresql(
    session: Session, now: datetime, clock_ids: Iterable[int] | None
) -> SweepResult:
    """Each mark and its two event INSERTs in one statement (a data-modifying WITH): two
    statements a sweep instead of two per marked clock."""
    ids = list(clock_ids) if clock_ids is not None else None
    params: dict[str, Any] = {"now": now} if ids is None else {"now": now, "ids": ids}
    breached = list(session.scalars(_statement("breach", ids is not None), params))
    warned = list(session.scalars(_statement("warning", ids is not None), params))
    return SweepResult(warned, breached)


@cache
def _statement(kind: str, by_ids: bool) -> Any:
    """Built once per kind: the expression is large, and building it costs ~1 ms a call."""
    now: Any = bindparam("now")
    if kind == "breach":
        return _mark_logged(
            now, by_ids, Clock.due_at, {"status": "breached", "breached_at": Clock.due_at}, kind
        )
    return _mark_logged(
        now, by_ids, Clock.warn_at, {"warned_at": Clock.warn_at}, kind, Clock.warned_at.is_(None)
    )


def _mark_logged(
    now: Any,
    by_ids: bool,
    instant: Any,
    values: dict[str, Any],
    kind: str,
    *extra: Any,
) -> Any:
    statement = update(Clock).where(Clock.status == "running", instant <= now, *extra)
    if by_ids:
        statement = statement.where(Clock.id.in_(bindparam("ids", expanding=True)))
    marked = (
        statement.values(**values)
        .returning(
            Clock.id,
            Clock.subject_type,
            Clock.subject_id,
            Clock.metric,
            instant.label("at"),
            Clock.due_at,
        )
        .cte("marked")
    )
    due_text = func.to_char(
        func.timezone("UTC", marked.c.due_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
    )
    word = "breached" if kind == "breach" else "at risk"
    ticket_events = (
        insert(TicketEvent)
        .from_select(
            [
                "ticket_id",
                "at",
                "actor_id",
                "kind",
                "trigger",
                "from_state",
                "to_state",
                "note",
                "data",
            ],
            select(
                marked.c.subject_id,
                marked.c.at,
                null(),
                literal(f"sla_{kind}"),
                null(),
                null(),
                null(),
                marked.c.metric + literal(f" clock {word}", String),
                func.json_build_object(
                    "metric", marked.c.metric, "clock_id", marked.c.id, "due_at", due_text
                ),
            ).where(marked.c.subject_type == TICKET),
        )
        .cte("ticket_events")
    )
    clock_events = (
        insert(ClockEvent)
        .from_select(
            ["clock_id", "at", "kind", "cause", "due_at", "data"],
            select(
                marked.c.id,
                marked.c.at,
                literal("breached" if kind == "breach" else "warned"),
                literal("due time passed" if kind == "breach" else "warning time passed"),
                marked.c.due_at,
                cast(func.json_build_object(), ClockEvent.data.type),
            ),
        )
        .cte("clock_events")
    )
    return select(marked.c.id).add_cte(ticket_events).add_cte(clock_events)


def _sweep_portable(
    session: Session, now: datetime, clock_ids: Iterable[int] | None
) -> SweepResult:
    """Mark every running clock whose warning or due instant has passed, each exactly once.

    The conditional UPDATE is the guard: a timer job and the periodic sweep racing for the
    same clock both run it, and only the one whose UPDATE matched the row raises the event.
    """
    ids = list(clock_ids) if clock_ids is not None else None
    breached = _mark(
        session, now, ids, Clock.due_at, {"status": "breached", "breached_at": Clock.due_at}
    )
    warned = _mark(
        session, now, ids, Clock.warn_at, {"warned_at": Clock.warn_at}, Clock.warned_at.is_(None)
    )
    events = [("breach", row) for row in breached] + [("warning", row) for row in warned]
    if any(row[1] == TICKET for _kind, row in events):
        session.execute(
            insert(TicketEvent),
            [
                {
                    "ticket_id": ticket_id,
                    "at": at,
                    "actor_id": None,
                    "kind": f"sla_{kind}",
                    "trigger": None,
                    "from_state": None,
                    "to_state": None,
                    "note": f"{metric} clock {'breached' if kind == 'breach' else 'at risk'}",
                    "data": {"metric": metric, "clock_id": clock_id, "due_at": due_at.isoformat()},
                }
                for kind, (clock_id, subject_type, ticket_id, metric, at, due_at) in events
                if subject_type == TICKET
            ],
        )
    if events:
        session.execute(
            insert(ClockEvent),
            [
                {
                    "clock_id": clock_id,
                    "at": at,
                    "kind": "breached" if kind == "breach" else "warned",
                    "cause": "due time passed" if kind == "breach" else "warning time passed",
                    "due_at": due_at,
                    "data": {},
                }
                for kind, (clock_id, _s, _i, _m, at, due_at) in events
            ],
        )
    return SweepResult([row[0] for row in warned], [row[0] for row in breached])


def _mark(
    session: Session,
    now: datetime,
    ids: list[int] | None,
    instant: Any,
    values: dict[str, Any],
    *extra: Any,
) -> list[tuple[int, str, int, str, datetime, datetime]]:
    statement = update(Clock).where(Clock.status == "running", instant <= now, *extra)
    if ids is not None:
        statement = statement.where(Clock.id.in_(ids))
    result = session.execute(
        statement.values(**values)
        .returning(
            Clock.id, Clock.subject_type, Clock.subject_id, Clock.metric, instant, Clock.due_at
        )
        .execution_options(synchronize_session=False)
    )
    return [tuple(row) for row in result.all()]
