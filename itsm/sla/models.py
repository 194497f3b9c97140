"""SLA policies (versioned, per contract), the clocks they set on tickets, and loaded calendars."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itsm.db import Base
from itsm.models.terms import PublishedTerms

CLOCK_STATUSES = ("running", "paused", "met", "breached", "cancelled")


class SlaPolicy(PublishedTerms, Base):
    """One published version of a contract's policy; tickets keep the version they opened under."""

    __tablename__ = "sla_policy"


class CalendarYear(Base):
    """A year of the Chinese working-day schedule loaded by an operator (wins over the package)."""

    __tablename__ = "calendar_year"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime]
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Clock(Base):
    """One clock or deadline of a subject (a ticket's response clock; later an inspection's
    window, an escalation level's acknowledgement, a change's report date).

    `subject_type` names the kind of record (`ticket`, …) and `subject_id` its id: clocks
    belong to any workflow's subjects, so there is no foreign key. While it runs,
    `due_at = meter.add(started_at, total + paused)` where `meter` is the calendar the target
    is measured on and `paused_seconds` the business time spent paused (waiting for the
    customer, or resolved before a reopen); the timeline explains each move.
    """

    __tablename__ = "sla_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(16))
    """The clock's name within its subject (`response`, `arrival`, …)."""
    status: Mapped[str] = mapped_column(String(16))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy.id"))
    """The SLA policy version that set it; None for a workflow's deadline (no policy)."""
    rule: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(32))
    """The duration as written in the policy, e.g. "4bh" or "2wd"."""
    calendar: Mapped[str] = mapped_column(String(64))
    meter: Mapped[str] = mapped_column(String(64))
    """The calendar that measures the target: `calendar`, or "24x7" for calendar time."""
    starts: Mapped[str] = mapped_column(String(16))
    warn_fraction: Mapped[float] = mapped_column(Float)
    total_seconds: Mapped[int] = mapped_column(Integer)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    warn_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    events: Mapped[list[ClockEvent]] = relationship(
        order_by="ClockEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "metric"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in CLOCK_STATUSES) + ")", name="status"
        ),
        Index(
            "ix_sla_clock_running_due",
            "due_at",
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
        Index(
            "ix_sla_clock_running_warn",
            "warn_at",
            postgresql_where=text("status = 'running' AND warned_at IS NULL"),
            sqlite_where=text("status = 'running' AND warned_at IS NULL"),
        ),
    )


TICKET = "ticket"
"""The subject type of tickets' clocks and notifications."""


class ClockEvent(Base):
    """A line of a clock's timeline: started, paused, resumed, retargeted, warned, met, ..."""

    __tablename__ = "sla_clock_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clock.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None]
    """The due time after this event."""
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
