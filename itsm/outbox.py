"""The outbox: effects are rows in the causing transaction, enqueued on RQ only after commit.

A crash between commit and enqueue, or Redis being down, leaves rows undispatched; the
periodic redispatch (`itsm.jobs.maintenance.redispatch_outbox`) hands them over later.
Job ids are the rows' keys, so a row enqueued twice is still one job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from itsm import clock
from itsm.models.outbox import OutboxMessage

log = logging.getLogger(__name__)
_PENDING = "itsm.outbox.pending"

Enqueue = Callable[[OutboxMessage], None]
"""Hands one row to the queue; raises when the queue cannot be reached."""


@dataclass(frozen=True)
class Message:
    """An effect to write: `key` names it, so the same effect is written once."""

    key: str
    kind: str
    payload: dict[str, Any]
    run_at: datetime | None = None


def add(
    session: Session,
    key: str,
    kind: str,
    payload: dict[str, Any],
    run_at: datetime | None = None,
    known_new: bool = False,
) -> None:
    """Write an effect to the outbox unless one with this key exists already."""
    if not known_new and session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
        return
    add_new(session, [Message(key, kind, payload, run_at)])


_INSERT = insert(OutboxMessage.__table__).returning(OutboxMessage.id)


def add_new(session: Session, messages: Sequence[Message]) -> None:
    """Write effects whose keys cannot exist yet (they name rows of this transaction), with
    one INSERT; they are dispatched after commit."""
    if not messages:
        return
    now = clock.now()
    rows = [
        {
            "key": m.key,
            "kind": m.kind,
            "payload": m.payload,
            "run_at": m.run_at,
            "created_at": now,
            "attempts": 0,
        }
        for m in messages
    ]
    ids = session.execute(_INSERT, rows).scalars().all()
    session.info.setdefault(_PENDING, []).extend(ids)


def install(sessions: sessionmaker[Session], enqueue: Enqueue) -> None:
    """Dispatch each transaction's outbox rows after it commits, with `enqueue`."""

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        ids = session.info.pop(_PENDING, None)
        if ids:
            dispatch(sessions, ids, enqueue)

    @event.listens_for(sessions, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(_PENDING, None)


def dispatch(sessions: sessionmaker[Session], ids: Iterable[int], enqueue: Enqueue) -> int:
    """Enqueue the given rows (those not yet dispatched); returns how many were handed over."""
    handed: list[int] = []
    failed: list[int] = []
    with sessions() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.id.in_(list(ids)), OutboxMessage.dispatched_at.is_(None)
            )
        ).all()
        for row in rows:
            try:
                enqueue(row)
            except Exception as error:  # noqa: BLE001 - any queue failure leaves the row pending
                log.warning(
                    "outbox %s not dispatched (%s); the redispatch will retry", row.key, error
                )
                failed.append(row.id)
                continue
            handed.append(row.id)
        attempt = {"attempts": OutboxMessage.attempts + 1}
        if handed:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(handed))
                .values(dispatched_at=clock.now(), **attempt)
            )
        if failed:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(failed)).values(**attempt)
            )
        session.commit()
    return len(handed)


def pending_ids(session: Session, older_than: timedelta, limit: int = 1000) -> list[int]:
    """Rows left undispatched for longer than `older_than` (a crash, or Redis was down)."""
    cutoff = clock.now() - older_than
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.dispatched_at.is_(None), OutboxMessage.created_at <= cutoff)
            .order_by(OutboxMessage.created_at)
            .limit(limit)
        )
    )
