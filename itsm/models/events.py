"""One shape for every aggregate's history (as pypi/warehouse's `HasEvents`): an immutable line
of who did what, when, from which state to which, with a note and structured data.

An aggregate's event class mixes `EventRecord` in and adds the column that points at its
subject; `record_event` writes any of them, so the one fire path and the sweep write history
the same way for tickets, inspections, escalations and changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column


class EventRecord:
    """The columns of a history line; `subject_key` names the column of its subject's id."""

    subject_key: ClassVar[str]

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    """None: the system (a deadline that passed, the sweep)."""
    kind: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str | None] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(10_000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


E = TypeVar("E", bound=EventRecord)


def record_event(
    session: Session,
    event_class: type[E],
    subject_id: int,
    actor_id: int | None,
    kind: str,
    *,
    at: datetime,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> E:
    """Append one line to a subject's history, in the caller's transaction."""
    make: Any = event_class  # a mapped subclass: its constructor takes the columns
    event: E = make(
        **{event_class.subject_key: subject_id},
        at=at,
        actor_id=actor_id,
        kind=kind,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
    )
    session.add(event)
    return event
