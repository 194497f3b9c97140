"""Tickets, their append-only history, comments and attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itsm.accounts.models import User
from itsm.db import Base
from itsm.directory.models import ConfigurationItem, Contract, Institution
from itsm.models.events import EventRecord
from itsm.models.files import UploadedFile
from itsm.models.types import (
    BugClass,
    Category,
    Channel,
    Name,
    Phone,
    Priority,
    TicketKind,
    enum_column,
)
from workflows import ticket as ticket_workflow

_STATE_LIST = ", ".join(f"'{s}'" for s in ticket_workflow.STATES)


TICKET_NUMBERS = Sequence("ticket_number_seq", metadata=Base.metadata)
"""PostgreSQL's source of ticket numbers, drawn inside the ticket's INSERT: unique under
concurrency without a hot lock and without a round trip of its own."""


class TicketSerial(Base):
    """SQLite's source of ticket numbers (it has no sequences): one row per number handed out."""

    __tablename__ = "ticket_serial"

    id: Mapped[int] = mapped_column(primary_key=True)


class Ticket(Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[TicketKind] = mapped_column(
        enum_column(TicketKind, "ticket_kind"), default=TicketKind.INCIDENT
    )
    priority: Mapped[Priority] = mapped_column(
        enum_column(Priority, "priority"), default=Priority.P3
    )
    bug_class: Mapped[BugClass | None] = mapped_column(enum_column(BugClass, "bug_class"))
    category: Mapped[Category] = mapped_column(
        enum_column(Category, "category"), default=Category.OTHER
    )
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"), default=Channel.PHONE)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    configuration_item_id: Mapped[int | None] = mapped_column(ForeignKey("configuration_item.id"))
    reporter_name: Mapped[str] = mapped_column(String(100), default="")
    reporter_phone: Mapped[Phone] = mapped_column(default="")
    title: Mapped[Name]
    description: Mapped[str] = mapped_column(String(10_000), default="")
    reported_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    onsite_required: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(32), default=ticket_workflow.NEW)
    paused_from: Mapped[str | None] = mapped_column(String(32))
    located_at: Mapped[datetime | None]
    """When the engineer recorded where the fault lies (C1-8 counts its 8 hours from it)."""
    diagnosis: Mapped[str | None] = mapped_column(String(10_000))
    resolution: Mapped[str | None] = mapped_column(String(10_000))
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy.id"))
    """The policy version the ticket was opened under; later versions never rewrite it."""
    version: Mapped[int] = mapped_column(Integer)

    contract: Mapped[Contract] = relationship(lazy="joined", innerjoin=True)
    institution: Mapped[Institution] = relationship(lazy="joined", innerjoin=True)
    configuration_item: Mapped[ConfigurationItem | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="select")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATE_LIST})", name="state"),
        Index("ix_ticket_contract_state", "contract_id", "state"),
        Index("ix_ticket_reported_at", "reported_at"),
    )

    @property
    def etag(self) -> str:
        return f'"{self.id}-{self.version}"'


class TicketEvent(EventRecord, Base):
    """An immutable line of a ticket's history: who did what, when, from which state to which."""

    __tablename__ = "ticket_event"
    subject_key = "ticket_id"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Comment(Base):
    __tablename__ = "ticket_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(String(10_000))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    """An internal note is hidden from requesters."""
    created_at: Mapped[datetime]

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Attachment(UploadedFile, Base):
    __tablename__ = "ticket_attachment"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
