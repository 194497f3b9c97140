"""Who is told what: notification rows and their jobs, written with the event that causes them.

Each event has audiences: the record's own people (a ticket's reporter and engineer), and the
contract's on-duty engineer, supervisor, project manager and WeChat group. Each audience
resolves to people, and each person to one channel: WeChat Work when they have an id, else
SMS to a mobile number, else a row that records why nobody was told. Messages that are not
urgent wait for the contract's next working period (quiet hours). The text is rendered when
sent, from the facts kept in `context`. Any workflow's records are told through `emit`, given
as a `NoticeSubject`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

import notifications
from itsm import outbox
from itsm.accounts.models import User
from itsm.db import column_values
from itsm.directory.models import Contract
from itsm.models.types import Channel, Priority
from itsm.notify.models import PENDING, SKIPPED, ContractContact, Notification
from itsm.sla.models import TICKET, Clock
from itsm.sla.services import calendars
from itsm.tickets.models import Ticket

EVENTS = notifications.EVENTS
"""The event catalogue, in one place: the texts' package (notifications/rendering.py)."""
AUDIENCES = ("reporter", "assignee", "on_duty", "supervisor", "project_manager", "group")
DUTIES = ("on_duty", "supervisor", "project_manager")

DEFAULTS: dict[str, Any] = {
    "events": {
        "ticket_opened": ["reporter"],
        "ticket_assigned": ["assignee"],
        "ticket_dispatched": ["assignee"],
        "p1_opened": ["on_duty", "group"],
        "sla_warning": ["assignee", "supervisor"],
        "sla_breach": ["assignee", "supervisor", "project_manager"],
        "ticket_resolved": ["reporter"],
        "inspection_assigned": ["assignee"],
        "inspection_due_soon": ["assignee", "supervisor"],
        "inspection_missed": ["assignee", "supervisor", "project_manager"],
        "inspection_returned": ["assignee"],
    },
    "wechat_fallback_minutes": 10,
    "fallback_priorities": ["P1", "P2"],
    "robot_key": "",
    "lang": "zh_CN",
}
"""Per contract, `Contract.notification_settings` overrides any of these keys (and any event)."""

_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


def settings_of(contract: Contract) -> dict[str, Any]:
    own = contract.notification_settings or {}
    merged = {**DEFAULTS, **{k: v for k, v in own.items() if k != "events"}}
    merged["events"] = {**DEFAULTS["events"], **own.get("events", {})}
    return merged


def mobile_number(phone: str | None) -> str | None:
    """The +86 mobile number in `phone`, or None for a landline, an extension or nothing."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    match = _MOBILE.match(digits)
    return f"+86{match.group(1)}" if match else None


@dataclass(frozen=True)
class Recipient:
    audience: str
    channel: str
    address: str
    user_id: int | None = None
    skip_reason: str | None = None
    mobile: str | None = None
    """The person's mobile number, for SMS when WeChat fails."""

    @property
    def ident(self) -> str:
        """Who, in the idempotency key: a person, a number, or the group (whose robot key is
        a credential, kept out of keys)."""
        if self.channel == "wechat_robot":
            return "group"
        return f"u{self.user_id}" if self.user_id else (self.address or "none")


@dataclass(frozen=True)
class NoticeSubject:
    """What notifications need of the record they are about, whichever workflow it is in:
    its contract (audiences, quiet hours, settings), its facts for the text, its own people
    (a ticket's reporter and engineer), what never waits, and what falls back to SMS."""

    subject_type: str
    subject_id: int
    contract: Contract
    context: Callable[[Clock | None], dict[str, Any]]
    own_recipients: Callable[[Session, str], list[Recipient] | None]
    """The people of an audience that is the record's own; None for the contract's audiences."""
    urgent: Callable[[str, str, Clock | None], bool] = lambda event, audience, clock_row: (
        audience == "on_duty"
    )
    falls_back: Callable[[Recipient, Mapping[str, Any]], bool] = lambda recipient, config: False


# Why a message could go to nobody, as recorded (and given by the API) in English; the pages
# show them in their own language, matching these patterns (itsm.web.labels.skip_reason).
SKIP_REASONS = {
    "inactive": "user {who} is inactive",
    "no_address": "user {who} has neither a WeChat Work id nor a mobile number",
    "no_mobile": "the reporter gave no mobile number",
    "not_mobile": "the reporter's phone is not a mobile number",
    "no_engineer": "the ticket has no engineer",
    "no_assignee": "nobody is assigned yet",
    "no_contact": "contract {code} names no {duty}",
    "no_robot": "contract {code} has no WeChat group robot",
}


def person(audience: str, user: User) -> Recipient:
    """One person's channel: WeChat Work if they have an id, else SMS to their mobile."""
    if not user.active:
        return Recipient(
            audience, "-", "", user.id, SKIP_REASONS["inactive"].format(who=user.username)
        )
    mobile = mobile_number(user.phone)
    if user.wechat_user_id:
        return Recipient(audience, "wechat_app", user.wechat_user_id, user.id, mobile=mobile)
    if mobile:
        return Recipient(audience, "sms", mobile, user.id)
    reason = SKIP_REASONS["no_address"].format(who=user.username)
    return Recipient(audience, "-", "", user.id, reason)


def contacts(session: Session, contract_id: int, duty: str) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(ContractContact, ContractContact.user_id == User.id)
            .where(ContractContact.contract_id == contract_id, ContractContact.duty == duty)
            .order_by(User.id)
        )
    )


def recipients(
    session: Session, audience: str, subject: NoticeSubject, config: Mapping[str, Any]
) -> list[Recipient]:
    own = subject.own_recipients(session, audience)
    if own is not None:
        return own
    contract = subject.contract
    if audience in DUTIES:
        people = contacts(session, contract.id, audience)
        if not people:
            reason = SKIP_REASONS["no_contact"].format(
                code=contract.code, duty=audience.replace("_", " ")
            )
            return [Recipient(audience, "-", "", None, reason)]
        return [person(audience, user) for user in people]
    if audience == "group":
        key = str(config.get("robot_key") or "")
        if not key:
            reason = SKIP_REASONS["no_robot"].format(code=contract.code)
            return [Recipient(audience, "-", "", None, reason)]
        return [Recipient(audience, "wechat_robot", key)]
    raise ValueError(f"unknown audience {audience!r}")


def _ticket_people(ticket: Ticket, audience: str) -> list[Recipient] | None:
    """A ticket's own audiences: who reported it and its engineer."""
    if audience == "reporter":
        creator = ticket.created_by if ticket.channel == Channel.WECHAT else None
        if creator is not None and creator.wechat_user_id:
            return [person(audience, creator)]
        mobile = mobile_number(ticket.reporter_phone)
        if mobile is None:
            reason = SKIP_REASONS["not_mobile" if ticket.reporter_phone else "no_mobile"]
            return [Recipient(audience, "-", "", None, reason)]
        return [Recipient(audience, "sms", mobile)]
    if audience == "assignee":
        if ticket.assignee is None:
            return [Recipient(audience, "-", "", None, SKIP_REASONS["no_engineer"])]
        return [person(audience, ticket.assignee)]
    return None


def about_ticket(ticket: Ticket) -> NoticeSubject:
    return NoticeSubject(
        TICKET,
        ticket.id,
        ticket.contract,
        lambda clock_row: message_context(ticket, clock_row),
        lambda session, audience: _ticket_people(ticket, audience),
        lambda event, audience, clock_row: _is_urgent(event, ticket, audience, clock_row),
        lambda recipient, config: _falls_back(recipient, ticket, config),
    )


def message_context(ticket: Ticket, clock_row: Clock | None) -> dict[str, Any]:
    zone = ZoneInfo(ticket.contract.timezone)
    context: dict[str, Any] = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "institution": ticket.institution.name,
        "title": ticket.title,
        "priority": str(ticket.priority),
        "state": ticket.state,
        "engineer": ticket.assignee.display_name if ticket.assignee else "",
        "contract": ticket.contract.code,
        "clock": "",
        "due_at": "",
    }
    if clock_row is not None:
        context["clock"] = clock_row.metric
        context["due_at"] = clock_row.due_at.astimezone(zone).strftime("%m-%d %H:%M")
    return context


def _is_urgent(event: str, ticket: Ticket, audience: str, clock_row: Clock | None) -> bool:
    """P1 tickets, breaches of round-the-clock clocks and on-duty messages never wait."""
    if ticket.priority == Priority.P1 or audience == "on_duty":
        return True
    return event == "sla_breach" and clock_row is not None and clock_row.meter == "24x7"


def _quiet_until(session: Session, contract: Contract, now: datetime) -> datetime | None:
    calendar = calendars.contract_calendar(session, contract.calendar)
    return None if calendar.is_open(now) else calendar.next_open(now)


def emit(
    session: Session,
    event: str,
    subject: NoticeSubject,
    now: datetime,
    cause: str,
    clock_row: Clock | None = None,
    known_new: bool = False,
) -> list[Notification]:
    """Record the event's notifications and their delivery jobs, in the caller's transaction.

    `cause` makes the idempotency keys: emitting the same cause twice records nothing new
    (`known_new` skips that check for a cause that cannot have happened before).
    """
    config = settings_of(subject.contract)
    audiences: Iterable[str] = config["events"].get(event, ())
    context = subject.context(clock_row)
    quiet_until: datetime | None = None
    quiet_checked = False
    rows = []
    for audience in audiences:
        for recipient in recipients(session, audience, subject, config):
            key = f"{cause}:{audience}:{recipient.ident}:{recipient.channel}"
            urgent = subject.urgent(event, audience, clock_row)
            if not urgent and not quiet_checked and recipient.skip_reason is None:
                quiet_until, quiet_checked = _quiet_until(session, subject.contract, now), True
            row = _row(event, subject, recipient, key, context, config, now)
            row.urgent = urgent
            if recipient.skip_reason is None:
                row.not_before = None if urgent else quiet_until
                if subject.falls_back(recipient, config):
                    start = row.not_before or now
                    row.fallback_at = start + timedelta(minutes=config["wechat_fallback_minutes"])
            rows.append(row)
    return record(session, rows, known_new)


def _row(
    event: str,
    subject: NoticeSubject,
    recipient: Recipient,
    key: str,
    context: dict[str, Any],
    config: Mapping[str, Any],
    now: datetime,
) -> Notification:
    skipped = recipient.skip_reason is not None
    return Notification(
        key=key,
        event=event,
        subject_type=subject.subject_type,
        subject_id=subject.subject_id,
        contract_id=subject.contract.id,
        user_id=recipient.user_id,
        audience=recipient.audience,
        channel=recipient.channel,
        address=recipient.address,
        lang=config["lang"],
        context=context,
        status=SKIPPED if skipped else PENDING,
        skip_reason=recipient.skip_reason,
        attempts=0,
        urgent=False,
        created_at=now,
        updated_at=now,
    )


def _falls_back(recipient: Recipient, ticket: Ticket, config: Mapping[str, Any]) -> bool:
    """A WeChat message on a P1/P2 ticket to someone who also has a mobile number."""
    return (
        recipient.channel == "wechat_app"
        and recipient.mobile is not None
        and str(ticket.priority) in config["fallback_priorities"]
    )


_TABLE = cast(Table, Notification.__table__)


def record(
    session: Session, rows: list[Notification], known_new: bool = False
) -> list[Notification]:
    """Write the rows that are new (by key) and an outbox job for each one to send; returns
    them as written (by one Core INSERT: they are not attached to the session)."""
    if not rows:
        return []
    existing: set[str] = set()
    if not known_new:
        keys = [r.key for r in rows]
        existing = set(session.scalars(select(Notification.key).where(Notification.key.in_(keys))))
    fresh = [r for r in rows if r.key not in existing]
    if not fresh:
        return []
    session.execute(insert(_TABLE), [column_values(_TABLE, r.__dict__) for r in fresh])
    jobs = []
    for row in fresh:
        if row.status == PENDING:
            jobs.append(_attempt_job(row.key, 1, row.not_before))
            if row.fallback_at is not None:
                jobs.append(
                    outbox.Message(
                        f"notify-fallback:{row.key}",
                        "notification_fallback",
                        {"key": row.key},
                        row.fallback_at,
                    )
                )
    outbox.add_new(session, jobs)
    return fresh


def _attempt_job(key: str, attempt: int, at: datetime | None) -> outbox.Message:
    return outbox.Message(f"notify:{key}:{attempt}", "notification", {"key": key}, at)


def schedule(session: Session, key: str, attempt: int, at: datetime | None) -> None:
    """An outbox job for a notification's attempt (at `at`, or at once)."""
    outbox.add_new(session, [_attempt_job(key, attempt, at)])


def on_ticket_opened(session: Session, ticket: Ticket, now: datetime) -> None:
    subject = about_ticket(ticket)
    emit(session, "ticket_opened", subject, now, f"ticket_opened:t{ticket.id}", known_new=True)
    if ticket.priority == Priority.P1:
        emit(session, "p1_opened", subject, now, f"p1_opened:t{ticket.id}", known_new=True)


def on_step(session: Session, ticket: Ticket, event: str, now: datetime) -> None:
    """The event a workflow step declares it emits (`Transition.emits`)."""
    emit(session, event, about_ticket(ticket), now, f"{event}:t{ticket.id}:v{ticket.version}")


def on_assigned(session: Session, ticket: Ticket, now: datetime) -> None:
    cause = f"ticket_assigned:t{ticket.id}:u{ticket.assignee_id}:v{ticket.version}"
    emit(session, "ticket_assigned", about_ticket(ticket), now, cause)


@dataclass(frozen=True)
class ClockNotices:
    """How the warnings and breaches of one subject type's clocks are told: the subjects of
    a set of ids, and the event of each mark (None: not told; e.g. a deadline whose breach
    fires a step that emits its own event)."""

    subjects: Callable[[Session, set[int]], Mapping[int, NoticeSubject]]
    warning: str | None
    breach: str | None


def _tickets(session: Session, ids: set[int]) -> dict[int, NoticeSubject]:
    return {
        t.id: about_ticket(t) for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))
    }


CLOCK_NOTICES: dict[str, ClockNotices] = {
    TICKET: ClockNotices(_tickets, "sla_warning", "sla_breach")
}
"""By subject type; an area registers its own where it declares its workflow's kind."""


def register_clock_notices(subject_type: str, notices: ClockNotices) -> None:
    CLOCK_NOTICES[subject_type] = notices


def on_clocks(
    session: Session, warned: Iterable[int], breached: Iterable[int], now: datetime
) -> int:
    """Warnings and breaches the sweep just marked; returns how many rows were recorded."""
    marked = [("warning", i) for i in warned] + [("breach", i) for i in breached]
    if not marked:
        return 0
    clocks = {
        c.id: c for c in session.scalars(select(Clock).where(Clock.id.in_([i for _, i in marked])))
    }
    subjects: dict[str, Mapping[int, NoticeSubject]] = {}
    for subject_type in {c.subject_type for c in clocks.values()} & set(CLOCK_NOTICES):
        ids = {c.subject_id for c in clocks.values() if c.subject_type == subject_type}
        subjects[subject_type] = CLOCK_NOTICES[subject_type].subjects(session, ids)
    count = 0
    for mark, clock_id in marked:
        clock_row = clocks[clock_id]
        told = CLOCK_NOTICES.get(clock_row.subject_type)
        event = told and (told.warning if mark == "warning" else told.breach)
        subject = subjects.get(clock_row.subject_type, {}).get(clock_row.subject_id)
        if not event or subject is None:
            continue
        cause = f"{event}:c{clock_id}"
        count += len(emit(session, event, subject, now, cause, clock_row))
    return count
