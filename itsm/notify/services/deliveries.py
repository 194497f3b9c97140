"""What became of each notification: attempts, retries, SMS fallback, provider receipts, the log.

A worker claims a row (status `sending`, a lease) in one short transaction, sends outside any
transaction, then records the outcome only if its claim still holds. A worker that dies leaves
the lease to run out; the sweep then hands the row to another. So a message may be sent twice
after a crash, but it is recorded once: one row per idempotency key, always.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from itsm.accounts.models import User
from itsm.accounts.services.access import Actor
from itsm.errors import Forbidden
from itsm.notify.models import DELIVERED, FAILED, PENDING, SENDING, SENT, SKIPPED, Notification
from itsm.notify.services import notices
from itsm.sla.models import TICKET
from itsm.tickets.services import tickets
from notifications import DeliveryError, Message, Receipt, RetryableDeliveryError, render


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff: tuple[int, ...]
    """Seconds before the 2nd, 3rd, ... attempt; the last value repeats."""

    def delay(self, attempts_made: int) -> timedelta:
        if not self.backoff:
            return timedelta(0)
        return timedelta(seconds=self.backoff[min(attempts_made, len(self.backoff)) - 1])


@dataclass(frozen=True)
class Claim:
    """What one attempt at a row needs, as its claim returned it."""

    key: str
    attempt: int
    """The number of this attempt: the record below is accepted only while it stands."""
    event: str
    channel: str
    address: str
    lang: str
    context: dict[str, Any]
    subject_type: str | None
    subject_id: int | None


SUBJECT_PAGES = {TICKET: "tickets"}
"""Where a message's subject has its page (the link in a WeChat card), by subject type."""

_TABLE = cast(Table, Notification.__table__)
_ROW = _TABLE.c
_KEY = bindparam("claim_key", type_=_ROW.key.type)
_NOW = bindparam("claim_now", type_=_ROW.updated_at.type)
_UNTIL = bindparam("claim_until", type_=_ROW.lease_until.type)
_ATTEMPT = bindparam("claim_attempt", type_=_ROW.attempts.type)
# Due and nobody on it, or a holder whose lease ran out (it died): one UPDATE ... RETURNING,
# built once, so a claim is a single statement.
_CLAIM = (
    update(_TABLE)
    .where(
        _ROW.key == _KEY,
        or_(
            and_(_ROW.status == PENDING, or_(_ROW.not_before.is_(None), _ROW.not_before <= _NOW)),
            and_(_ROW.status == SENDING, _ROW.lease_until < _NOW),
        ),
    )
    .values(status=SENDING, lease_until=_UNTIL, attempts=_ROW.attempts + 1, updated_at=_NOW)
    .returning(
        _ROW.attempts,
        _ROW.event,
        _ROW.channel,
        _ROW.address,
        _ROW.lang,
        _ROW.context,
        _ROW.subject_type,
        _ROW.subject_id,
    )
)
# The claim of attempt number `claim_attempt` still stands (no sweep handed the row on).
_HELD = and_(_ROW.key == _KEY, _ROW.status == SENDING, _ROW.attempts == _ATTEMPT)
_RECORD_SENT = update(_TABLE).where(_HELD)


def claim(db: Session | Connection, key: str, now: datetime, lease: timedelta) -> Claim | None:
    """Take the row for one attempt, if it is due and nobody holds it (or a holder died).

    One statement, so it needs no transaction of its own (the job runs it in autocommit)."""
    taken = db.execute(
        _CLAIM, {"claim_key": key, "claim_now": now, "claim_until": now + lease}
    ).one_or_none()
    if taken is None:
        return None
    attempt, event, channel, address, lang, context, subject_type, subject_id = taken
    return Claim(key, attempt, event, channel, address, lang, context, subject_type, subject_id)


def message_for(claimed: Claim, public_url: str) -> Message:
    """Render the row's text in its language for its channel (raises on a template error)."""
    base = public_url.rstrip("/")
    page = SUBJECT_PAGES.get(claimed.subject_type or "")
    link = f"{base}/{page}/{claimed.subject_id}" if base and page and claimed.subject_id else ""
    text = render(claimed.event, claimed.channel, {**claimed.context, "url": link}, claimed.lang)
    if claimed.channel == "sms":
        callback = f"{base}/hooks/twilio/status" if base else ""
        return Message("sms", claimed.address, text.body, status_callback=callback)
    if claimed.channel == "wechat_robot":
        return Message("wechat_robot", claimed.address, text.body, format="markdown")
    if link:
        return Message("wechat_app", claimed.address, text.body, "textcard", text.title, link)
    return Message("wechat_app", claimed.address, text.body, title=text.title)


def record_sent(
    db: Session | Connection,
    key: str,
    attempt: int,
    message: Message,
    receipt: Receipt,
    now: datetime,
) -> bool:
    """The provider took the message: recorded if attempt `attempt` still holds the row (one
    statement, like the claim)."""
    delivered = receipt.status == DELIVERED
    done = db.execute(
        _RECORD_SENT,
        {
            "claim_key": key,
            "claim_attempt": attempt,
            "status": DELIVERED if delivered else SENT,
            "provider_id": receipt.provider_id or None,
            "provider_status": receipt.status,
            "title": message.title,
            "body": message.body,
            "sent_at": now,
            "delivered_at": now if delivered else None,
            "lease_until": None,
            "updated_at": now,
        },
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def record_failure(
    session: Session,
    key: str,
    attempt: int,
    error: DeliveryError,
    now: datetime,
    retry: RetryPolicy,
    message: Message | None = None,
) -> str:
    """A retry later (retryable and attempts left), else a final failure and the SMS fallback."""
    row = session.scalars(
        select(Notification).where(_HELD).with_for_update(),
        {"claim_key": key, "claim_attempt": attempt},
    ).one_or_none()
    if row is None:
        return "claim lost"
    row.error_code = error.code[:32]
    row.error_message = error.detail[:500]
    row.lease_until = None
    row.updated_at = now
    if message is not None:
        row.title, row.body = message.title, message.body
    if error.retryable and attempt < retry.max_attempts:
        row.status = PENDING
        # RQ runs a scheduled job at whole seconds: round up, or it may come just too early.
        later = now + retry.delay(attempt)
        row.not_before = later + timedelta(microseconds=(1_000_000 - later.microsecond) % 1_000_000)
        notices.schedule(session, key, attempt + 1, row.not_before)
        return "retry"
    row.status = FAILED
    row.failed_at = now
    fall_back_to_sms(session, row, now)
    return "failed"


def fall_back_to_sms(session: Session, row: Notification, now: datetime) -> Notification | None:
    """The same message by SMS to the person's mobile, once, for a WeChat message that failed."""
    if row.channel != "wechat_app" or row.user_id is None:
        return None
    user = session.get(User, row.user_id)
    mobile = notices.mobile_number(user.phone if user else None)
    if mobile is None:
        return None
    sms = Notification(
        key=f"{row.key}:sms-fallback",
        event=row.event,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        contract_id=row.contract_id,
        user_id=row.user_id,
        audience=row.audience,
        channel="sms",
        address=mobile,
        lang=row.lang,
        context=row.context,
        status=PENDING,
        attempts=0,
        urgent=row.urgent,
        fallback_for_id=row.id,
        created_at=now,
        updated_at=now,
    )
    fresh = notices.record(session, [sms])
    return fresh[0] if fresh else None


def check_fallback(session: Session, key: str, now: datetime) -> Notification | None:
    """The WeChat deadline has come: SMS follows unless the message went out in time."""
    row = session.scalars(select(Notification).where(Notification.key == key)).one_or_none()
    if row is None or row.status in (SENT, DELIVERED, SKIPPED):
        return None
    return fall_back_to_sms(session, row, now)


def unfinished(session: Session, now: datetime, grace: timedelta, limit: int = 500) -> list[str]:
    """Rows whose job is lost: due for a while with nobody on them, or a dead worker's lease."""
    lost = and_(
        Notification.status == PENDING,
        Notification.updated_at <= now - grace,
        or_(Notification.not_before.is_(None), Notification.not_before <= now - grace),
    )
    dead = and_(Notification.status == SENDING, Notification.lease_until < now)
    return list(
        session.scalars(
            select(Notification.key).where(or_(lost, dead)).order_by(Notification.id).limit(limit)
        )
    )


# Twilio's statuses in the order a message moves through them; a later one never goes back.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "read": 4,
}


def apply_sms_status(
    session: Session, provider_id: str, status: str, error_code: str, now: datetime
) -> Notification | None:
    """A Twilio status callback: move the record forward, never back, whatever the order."""
    row = session.scalars(
        select(Notification)
        .where(Notification.provider_id == provider_id, Notification.channel == "sms")
        .with_for_update()
    ).one_or_none()
    if row is None or status not in _RANK:
        return row
    current = _RANK.get(row.provider_status or "", -1)
    if row.status == DELIVERED or _RANK[status] <= current:
        return row
    row.provider_status = status
    row.updated_at = now
    if status in ("delivered", "read"):
        row.status = DELIVERED
        row.delivered_at = now
    elif status in ("failed", "undelivered", "canceled"):
        row.status = FAILED
        row.failed_at = now
        row.error_code = error_code[:32] or status
        row.error_message = f"Twilio reported the message {status}"
    return row


def as_retryable(error: Exception) -> DeliveryError:
    """An unexpected error while sending is retried like a timeout, with what it said."""
    return RetryableDeliveryError("internal", f"{type(error).__name__}: {error}"[:500])


def list_notifications(
    session: Session,
    actor: Actor,
    ticket_id: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Notification], int]:
    """The delivery log, for agents, managers and admins of the ticket's contract."""
    if not actor.is_staff:
        raise Forbidden("the delivery log is for agents and managers")
    query = select(Notification)
    if ticket_id is not None:
        tickets.get_ticket(session, actor, ticket_id)  # 404 unless the actor may see it
        query = query.where(
            Notification.subject_type == TICKET, Notification.subject_id == ticket_id
        )
    elif actor.role != "admin":
        query = query.where(Notification.contract_id.in_(actor.contract_ids))
    if status:
        query = query.where(Notification.status == status)
    if channel:
        query = query.where(Notification.channel == channel)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Notification.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(rows), total
