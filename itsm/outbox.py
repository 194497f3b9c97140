"""The outbox: effects are rows in the causing transaction, enqueued on RQ only after commit.

After commit the transaction's rows go to the queue in one batch, from memory: the request
writes nothing more. Rows are marked dispatched later, in bulk, by the periodic redispatch
(`itsm.jobs.outbox.redispatch_outbox`): it marks the rows whose jobs the queue holds and hands
the queue the rows it lacks (a crash between commit and enqueue, Redis down or flushed).
Job ids are the rows' keys, so a row enqueued twice is still one job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from itsm import clock
from itsm.models.outbox import OutboxMessage

log = logging.getLogger(__name__)
_PENDING = "itsm.outbox.pending"
_MARKS = "itsm.outbox.savepoints"
"""Per open savepoint: how many messages were pending when it began."""


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


_INSERT = insert(cast(Table, OutboxMessage.__table__))


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
    """Hand each transaction's outbox messages to `enqueue` after it commits.

    Only the outermost transaction counts: a released savepoint hands nothing over yet, and
    one rolled back drops what was written inside it. A transaction that ends without a
    commit (a rollback, a session closed mid-way) drops its messages with its rows.
    """

    @event.listens_for(sessions, "after_transaction_create")
    def _begin(session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            marks = session.info.setdefault(_MARKS, {})
            marks[transaction] = len(session.info.get(_PENDING, ()))

    @event.listens_for(sessions, "after_soft_rollback")
    def _rolled_back(session: Session, previous: SessionTransaction) -> None:
        mark = session.info.get(_MARKS, {}).pop(previous, None)
        if mark is not None and _PENDING in session.info:
            del session.info[_PENDING][mark:]

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
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

    @event.listens_for(sessions, "after_transaction_end")
    def _end(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and not transaction.nested:
            session.info.pop(_PENDING, None)  # a commit handed them over just before
            session.info.pop(_MARKS, None)


def _message(row: OutboxMessage) -> Message:
    return Message(row.key, row.kind, row.payload, row.run_at)


def dispatch(sessions: sessionmaker[Session], ids: Iterable[int], enqueue: Enqueue) -> int:
    """Enqueue the given rows (those not yet dispatched) as one batch and mark them; returns
    how many were handed over (for callers that wrote rows without `install`: scripts,
    benchmarks)."""
    with sessions() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.id.in_(list(ids)), OutboxMessage.dispatched_at.is_(None)
            )
        ).all()
    handed, failed = _hand_over(rows, enqueue)
    _mark(sessions, handed, failed)
    return len(handed)


def _hand_over(rows: Sequence[OutboxMessage], enqueue: Enqueue) -> tuple[list[int], list[int]]:
    """Enqueue the rows: the ids handed over and those that failed. A batch that fails for
    another reason than an unreachable queue is tried row by row, so that one bad row (a
    kind this code does not know, during a rolling deploy) holds back only itself."""
    ids = [row.id for row in rows]
    if not rows:
        return [], []
    try:
        enqueue([_message(row) for row in rows])
    except (RedisConnectionError, RedisTimeoutError) as error:
        log.warning("%d outbox row(s) not dispatched (%s); will retry", len(rows), error)
        return [], ids
    except Exception:  # noqa: BLE001 - find the rows that fail
        if len(rows) == 1:
            log.exception("outbox row %s not dispatched; will retry", rows[0].key)
            return [], ids
        handed: list[int] = []
        failed: list[int] = []
        for row in rows:
            done, lost = _hand_over([row], enqueue)
            handed += done
            failed += lost
        return handed, failed
    return ids, []


def _mark(sessions: sessionmaker[Session], handed: list[int], failed: list[int]) -> None:
    """One short transaction, after the queue was asked: its rows are not locked meanwhile."""
    if not (handed or failed):
        return
    attempt = {"attempts": OutboxMessage.attempts + 1}
    with sessions() as session, session.begin():
        for ids, values in ((handed, {"dispatched_at": clock.now()}), (failed, {})):
            if ids:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(**values, **attempt)
                )


@dataclass(frozen=True)
class Redispatched:
    """What one redispatch did with the rows it found."""

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
    holds, and hand it the others (a crash after commit, Redis down or flushed).

    Run by one process (`itsm cron`). Should a commit's own hand-over land between the check
    and the hand-over here, that job runs twice; every job is idempotent."""
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
    handed, failed = _hand_over([row for row in rows if row.key not in held], enqueue)
    _mark(sessions, handed + confirmed, failed)
    return Redispatched(len(confirmed), len(handed))
