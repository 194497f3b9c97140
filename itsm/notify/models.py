"""Notifications: who is told what, on which channel, and what became of it; WeChat messages in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from itsm.db import Base
from itsm.sla.models import TICKET

PENDING = "pending"
"""Waiting for its first attempt, a retry, or the end of quiet hours (`not_before`)."""
SENDING = "sending"
"""A worker holds it until `lease_until`; a worker that dies leaves it to the sweep."""
SENT = "sent"
"""The provider accepted it."""
DELIVERED = "delivered"
"""The provider reported it delivered (Twilio's callback; the console channel at once)."""
FAILED = "failed"
SKIPPED = "skipped"
"""Never attempted: the recipient has no address on any channel; `skip_reason` says why."""
STATUSES = (PENDING, SENDING, SENT, DELIVERED, FAILED, SKIPPED)
FINISHED = (SENT, DELIVERED, FAILED, SKIPPED)


def shown_secret(value: str) -> str:
    """A credential as pages and the API show it: its last four characters (none of a short
    one)."""
    if not value:
        return ""
    return "…" + value[-4:] if len(value) >= 8 else "…"


class Notification(Base):
    """One message to one recipient on one channel: the delivery record, written with its cause."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    """Idempotency key (cause, recipient, channel): the same message is recorded once."""
    event: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    """The kind of record the message is about (`ticket`, …), with `subject_id` its id."""
    subject_id: Mapped[int | None] = mapped_column(Integer)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    audience: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128), default="")
    lang: Mapped[str] = mapped_column(String(8), default="zh_CN")
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What the message says, as facts; rendered in the recipient's language when sent."""
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    """The text as sent (empty until the first attempt renders it)."""
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    fallback_at: Mapped[datetime | None]
    """For a WeChat message of a P1/P2 ticket: SMS follows if it is not sent by then."""
    fallback_for_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    provider_status: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(String(500))
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    @property
    def recipient(self) -> str:
        """The address as the log shows it: of a group robot's key, a credential that lets
        anyone post to the group, only the last four characters."""
        return self._without_robot_key(self.address)

    @property
    def shown_key(self) -> str:
        """The idempotency key as the log shows it (rows written before the key left out the
        robot's key carry it)."""
        return self._without_robot_key(self.key)

    @property
    def shown_error(self) -> str | None:
        return None if self.error_message is None else self._without_robot_key(self.error_message)

    def _without_robot_key(self, text: str) -> str:
        if self.channel == "wechat_robot" and self.address:
            return text.replace(self.address, shown_secret(self.address))
        return text

    @property
    def ticket_id(self) -> int | None:
        """The ticket the message is about, if its subject is a ticket."""
        return self.subject_id if self.subject_type == TICKET else None

    __table_args__ = (
        Index("ix_notification_subject", "subject_type", "subject_id"),
        Index("ix_notification_provider_id", "provider_id"),
        Index(
            "ix_notification_unfinished",
            "status",
            "not_before",
            postgresql_where=text("status IN ('pending', 'sending')"),
            sqlite_where=text("status IN ('pending', 'sending')"),
        ),
    )


class ContractContact(Base):
    """Who a contract's notifications go to beyond the ticket's own people (on duty, ...)."""

    __tablename__ = "contract_contact"

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True
    )
    duty: Mapped[str] = mapped_column(String(32), primary_key=True)
    """`on_duty`, `supervisor` or `project_manager`."""
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )


class InboundMessage(Base):
    """A message received from WeChat Work; its provider id makes a re-delivery a no-op."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_msg_id: Mapped[str] = mapped_column(String(64))
    from_user: Mapped[str] = mapped_column(String(64))
    msg_type: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    """`ticket_created`, `commented`, `unknown_sender`, `unsupported`."""
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))

    __table_args__ = (UniqueConstraint("provider", "provider_msg_id"),)
