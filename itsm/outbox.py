"""The outbox: effects are rows in the causing transaction, enqueued on RQ only after commit.

After commit the transaction's rows go to the queue in one batch, from memory: the request
writes nothing more. Rows are marked dispatched later, in bulk, by the periodic redispatch
(`itsm.jobs.sla.redispatch_outbox`): it marks the rows whose jobs the queue holds and hands
the queue the rows it lacks (a crash between commit and enqueue, Redis down or flushed).
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


@dataclass(frozen=True)
class Message:
    """An effect to write: `key` names it, so the same effect is written once."""

    key: str
    kind: str
    payload: dict[str, Any]
    run_at: datetime | None = None


Enqueue = Callable[[Sequence[Message]], None]
"""Hands a batch of messages to the queue; raises when the queue cannot be reached."""

Queued = Callable[[Sequence[str]], set[str]]
"""Of the given keys, those whose jobs the queue holds (waiting, scheduled or done)."""


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


_INSERT = insert(OutboxMessage.__table__)


def add_new(session: Session, messages: Sequence[Message]) -> None:
    """Write effects whose keys cannot exist yet (they name rows of this transaction), with
    one INSERT; they are handed to the queue after commit."""
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
    session.execute(_INSERT, rows)
    session.info.setdefault(_PENDING, []).extend(messages)


def install(sessions: sessionmaker[Session], enqueue: Enqueue) -> None:
    """Hand each transaction's outbox messages to `enqueue` after it commits."""

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        messages = session.info.pop(_PENDING, None)
        if not messages:
            return
        try:
            enqueue(messages)
        except Exception as error:  # noqa: BLE001 - any queue failure leaves the rows pending
            log.warning(
                "%d outbox message(s) not handed to the queue (%s); the redispatch will",
                len(messages),
                error,
            )

    @event.listens_for(sessions, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(_PENDING, None)


def _message(row: OutboxMessage) -> Message:
    return Message(row.key, row.kind, row.payload, row.run_at)


def dispatch(sessions: sessionmaker[Session], ids: Iterable[int], enqueue: Enqueue) -> int:
    """Enqueue the given rows (those not yet dispatched) as one batch and mark them; returns
    how many were handed over."""
    with sessions() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.id.in_(list(ids)), OutboxMessage.dispatched_at.is_(None)
            )
        ).all()
        handed = _hand_over(session, rows, enqueue)
        session.commit()
    return handed


def _hand_over(session: Session, rows: Sequence[OutboxMessage], enqueue: Enqueue) -> int:
    if not rows:
        return 0
    ids = [row.id for row in rows]
    values: dict[str, Any] = {"attempts": OutboxMessage.attempts + 1}
    try:
        enqueue([_message(row) for row in rows])
    except Exception as error:  # noqa: BLE001 - the rows stay pending for the next round
        log.warning("%d outbox row(s) not dispatched (%s); will retry", len(rows), error)
        handed = 0
    else:
        values["dispatched_at"] = clock.now()
        handed = len(rows)
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values))
    return handed


@dataclass(frozen=True)
class Redispatched:
    confirmed: int
    """Rows whose jobs the queue held: handed over after their commit, now marked."""
    handed: int
    """Rows whose jobs the queue lacked, handed to it now."""


def redispatch(
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
    queued: Queued,
    older_than: timedelta,
    limit: int = 5000,
) -> Redispatched:
    """Mark the rows left undispatched for longer than `older_than` whose jobs the queue
    holds, and hand it the others (a crash after commit, Redis down or flushed)."""
    cutoff = clock.now() - older_than
    with sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dispatched_at.is_(None), OutboxMessage.created_at <= cutoff)
            .order_by(OutboxMessage.created_at)
            .limit(limit)
        ).all()
        if not rows:
            return Redispatched(0, 0)
        held = queued([row.key for row in rows])
        confirmed = [row.id for row in rows if row.key in held]
        if confirmed:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(confirmed))
                .values(dispatched_at=clock.now(), attempts=OutboxMessage.attempts + 1)
            )
        handed = _hand_over(session, [row for row in rows if row.key not in held], enqueue)
        session.commit()
    return Redispatched(len(confirmed), handed)
