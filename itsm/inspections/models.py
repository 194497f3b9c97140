"""Inspections: the versioned plan of each contract, its occurrences, their history, their
photos and the tickets their faults opened."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itsm.accounts.models import User
from itsm.db import Base
from itsm.directory.models import Contract, Institution
from itsm.models.events import EventRecord
from itsm.models.files import UploadedFile
from itsm.models.terms import PublishedTerms
from itsm.models.types import Name
from itsm.tickets.models import Ticket
from workflows import inspection as inspection_workflow

INSPECTION = "inspection"
"""The subject type of an inspection's clocks and notifications."""

_STATE_LIST = ", ".join(f"'{s}'" for s in inspection_workflow.STATES)


class InspectionPlan(PublishedTerms, Base):
    """One published version of a contract's inspection plan; occurrences keep the version
    they were generated under."""

    __tablename__ = "inspection_plan"


class InspectionSerial(Base):
    """The source of inspection numbers: one row per number handed out (both databases)."""

    __tablename__ = "inspection_serial"

    id: Mapped[int] = mapped_column(primary_key=True)
    issued_at: Mapped[datetime]


class Inspection(Base):
    """One occurrence of an obligation (or an ad-hoc inspection): its window, its assignee,
    its checklist (the plan's template and the answers), its state."""

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    """Where an on-site inspection happens (the contract's main site when not given)."""
    kind: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    title: Mapped[Name]
    occurrence_key: Mapped[str] = mapped_column(String(100))
    """The plan's key for this occurrence ("system:2026-W05"); ad hoc: "ad_hoc:<serial>"."""
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_plan.id"))
    plan_version: Mapped[int | None] = mapped_column(Integer)
    clause: Mapped[str] = mapped_column(String(200), default="")
    day: Mapped[date] = mapped_column(Date)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime]
    scheduled_at: Mapped[datetime | None]
    """When the engineer plans to do it, within the window (set by the assignee or a manager)."""
    state: Mapped[str] = mapped_column(String(32), default=inspection_workflow.PLANNED)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """The plan's checklist template, copied when the occurrence was made."""
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Where the engineer checked in (on-site inspections), with the distance to the site."""
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)

    contract: Mapped[Contract] = relationship(lazy="joined", innerjoin=True)
    institution: Mapped[Institution | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATE_LIST})", name="state"),
        UniqueConstraint("contract_id", "occurrence_key"),
        Index("ix_inspection_contract_day", "contract_id", "day"),
        Index("ix_inspection_state_due_at", "state", "due_at"),
    )

    @property
    def etag(self) -> str:
        return f'"{self.id}-{self.version}"'


class InspectionEvent(EventRecord, Base):
    """An immutable line of an inspection's history."""

    __tablename__ = "inspection_event"
    subject_key = "inspection_id"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)

    actor: Mapped[User | None] = relationship(lazy="joined")


class InspectionTicket(Base):
    """A ticket opened from a fault item of an inspection."""

    __tablename__ = "inspection_ticket"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("inspection_id", "item_key"),)


class InspectionPhoto(UploadedFile, Base):
    """A photo (or other file) attached to an inspection, to one checklist item or to none."""

    __tablename__ = "inspection_photo"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_key: Mapped[str | None] = mapped_column(String(64))


REPORT_KINDS = ("inspection", "inspection_quarter")
"""An occurrence's report (subject: the inspection's id) and a contract's quarterly report
(subject: the contract's code, `params["quarter"]`)."""
REPORT_FORMATS = ("pdf", "xlsx")
REPORT_STATUSES = ("pending", "done", "failed")


class ReportFile(Base):
    """A report asked for: rendered by a job into a file under the instance folder's
    `reports/`, fetched once it is done."""

    __tablename__ = "report_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    path: Mapped[str | None] = mapped_column(String(300))
    """Relative to the reports folder, once done."""
    filename: Mapped[str | None] = mapped_column(String(200))
    """The name the file is downloaded under (Chinese, with the report's number or quarter)."""
    error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    requested_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in REPORT_KINDS)})", name="kind"),
        CheckConstraint(f"format IN ({', '.join(repr(f) for f in REPORT_FORMATS)})", name="format"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in REPORT_STATUSES)})", name="status"
        ),
        Index("ix_report_file_kind_subject", "kind", "subject"),
    )
