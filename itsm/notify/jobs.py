"""Notification jobs: send one message, fall back to SMS, hand lost ones on, process WeChat in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from itsm import clock
from itsm.jobs import enqueue_delivery
from itsm.jobs.runtime import channels, database, redis, settings, single_statements
from itsm.notify.services import deliveries, wechat_inbound
from notifications import DeliveryError, FinalDeliveryError, Message

log = logging.getLogger(__name__)
SWEEP_GRACE = timedelta(seconds=60)
T = TypeVar("T")


def _retry_policy() -> deliveries.RetryPolicy:
    s = settings()
    return deliveries.RetryPolicy(s.notify_max_attempts, s.retry_backoff)


def _single_statement(step: Callable[[Connection], T]) -> T:
    """Run a one-statement step (a claim, a record); once more on a new connection if the
    pooled one turned out dead (PostgreSQL restarted): the pool pings only idle connections,
    and both steps are safe to repeat (a repeated claim finds the row taken and yields None)."""
    engine = single_statements()
    try:
        with engine.connect() as connection, connection.begin():
            return step(connection)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as connection, connection.begin():
        return step(connection)


def deliver(key: str) -> str:
    """One attempt at one notification; safe to run twice (the claim lets one through).

    The claim and the record of a sent message are one statement each, outside any
    transaction while the provider is asked."""
    s = settings()
    lease = timedelta(seconds=s.notify_lease_seconds)
    row = _single_statement(lambda c: deliveries.claim(c, key, clock.now(), lease))
    if row is None:
        return "not due, or done"
    try:
        message: Message | None = deliveries.message_for(row, s.public_url)
    except Exception as error:  # noqa: BLE001 - a template bug fails the message, not the worker
        message = None
        failure: DeliveryError = FinalDeliveryError("render", str(error)[:500])
    if message is not None:
        try:
            receipt = channels()[message.channel].send(message)
        except DeliveryError as error:
            failure = error
        except Exception as error:  # noqa: BLE001 - an unexpected error is retried, and kept
            failure = deliveries.as_retryable(error)
        else:
            sent, attempt = message, row.attempt
            _single_statement(
                lambda c: deliveries.record_sent(c, key, attempt, sent, receipt, clock.now())
            )
            return "sent"
    with database().transaction() as session:
        outcome = deliveries.record_failure(
            session, key, row.attempt, failure, clock.now(), _retry_policy(), message
        )
    log.warning("notification %s attempt %s: %s (%s)", key, row.attempt, failure, outcome)
    return outcome


def check_fallback(key: str) -> str:
    """A P1/P2 WeChat message's deadline: SMS follows unless it went out in time."""
    with database().transaction() as session:
        sms = deliveries.check_fallback(session, key, clock.now())
    return f"fell back to SMS ({sms.key})" if sms else "no fallback needed"


def sweep_unfinished() -> int:
    """Hand on notifications whose job was lost (Redis flushed, a worker killed mid-send)."""
    with database().sessions() as session:
        keys = deliveries.unfinished(session, clock.now(), SWEEP_GRACE)
    for key in keys:
        enqueue_delivery(redis(), key, f"sweep-{int(clock.now().timestamp())}")
    return len(keys)


def process_wechat(id: int) -> str:  # noqa: A002 - the outbox payload's name
    with database().transaction() as session:
        return wechat_inbound.process(session, id, clock.now())
