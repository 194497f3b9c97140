"""WeChat Work messages in: a requester's text becomes a ticket, or a comment on one it names.

The callback only records the message (its WeChat id makes a re-delivery a no-op) and answers
at once; the work happens in a job, after WeChat has had its answer.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from itsm import outbox
from itsm.accounts.models import User
from itsm.accounts.services.access import Actor
from itsm.models.types import Channel, Role
from itsm.notify.models import InboundMessage
from itsm.tickets.models import Ticket
from itsm.tickets.services import ticket_files, tickets
from notifications import InboundMessage as Received
from workflows import ticket as ticket_workflow

_NUMBER = re.compile(r"(?<![A-Z0-9])[A-Z]{2,5}-\d{4}-\d{6,}(?!\d)")
"""A ticket number in a message, also between Chinese characters (工单INC-2026-000123还是…),
with six digits or more."""
TITLE_LENGTH = 60


def receive(session: Session, message: Received, now: datetime) -> InboundMessage | None:
    """Record a message and its processing job; None (and nothing written) for a re-delivery."""
    msg_id = (
        message.msg_id
        or (f"{message.from_user}-{int(message.created_at.timestamp())}-{message.msg_type}")[:64]
    )
    exists = select(InboundMessage.id).where(
        InboundMessage.provider == "wechat", InboundMessage.provider_msg_id == msg_id
    )
    if session.scalar(exists) is not None:
        return None
    row = InboundMessage(
        provider="wechat",
        provider_msg_id=msg_id,
        from_user=message.from_user[:64],
        msg_type=message.msg_type[:16],
        content=message.content[:10_000],
        sent_at=message.created_at,
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same message, re-delivered while we were recording it
        return None
    outbox.add(session, f"wechat-in:{row.id}", "wechat_inbound", {"id": row.id}, None, True)
    return row


def process(session: Session, inbound_id: int, now: datetime) -> str:
    """Turn the recorded message into a ticket or a comment, once; returns the outcome."""
    row = session.get(InboundMessage, inbound_id, with_for_update=True)
    if row is None:
        return "missing"
    if row.outcome is not None:
        return row.outcome
    user = session.scalar(
        select(User).where(User.wechat_user_id == row.from_user, User.active.is_(True))
    )
    row.outcome = _handle(session, row, user)
    row.processed_at = now
    return row.outcome


def _handle(session: Session, row: InboundMessage, user: User | None) -> str:
    if user is None or user.role != Role.REQUESTER or user.institution_id is None:
        return "unknown_sender"
    if row.msg_type != "text" or not row.content.strip():
        return "unsupported"
    actor = Actor.of(user)
    named = _open_ticket_named(session, actor, row.content)
    if named is not None:
        ticket_files.add_comment(session, actor, named.id, row.content.strip()[:10_000])
        row.ticket_id = named.id
        return "commented"
    text = row.content.strip()
    created = tickets.create_ticket(
        session,
        actor,
        {
            "institution_id": user.institution_id,
            "title": text.splitlines()[0][:TITLE_LENGTH],
            "description": text[:10_000],
            "channel": Channel.WECHAT,
            "reporter_name": user.display_name,
            "reporter_phone": user.phone or "",
            "reported_at": _reported_at(row),
        },
    )
    row.ticket_id = created.ticket.id
    return "ticket_created"


def _reported_at(row: InboundMessage) -> datetime:
    """When the user wrote, if WeChat's timestamp is plausible; else when it reached us."""
    if row.received_at - timedelta(days=1) < row.sent_at <= row.received_at:
        return row.sent_at
    return row.received_at


def _open_ticket_named(session: Session, actor: Actor, content: str) -> Ticket | None:
    for number in _NUMBER.findall(content.upper()):
        ticket = session.scalar(
            select(Ticket).where(
                Ticket.number == number,
                Ticket.institution_id == actor.institution_id,
                Ticket.state.in_(ticket_workflow.OPEN_STATES),
            )
        )
        if ticket is not None:
            return ticket
    return None
