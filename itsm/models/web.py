"""What the pages keep in the database: failed sign-ins and steps already taken from a form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from itsm.db import Base


class SignInFailure(Base):
    """One failed sign-in, counted per account and per address (shared by every process)."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    """"user:<name>" or "addr:<remote address>"."""
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_sign_in_failure_key_at", "key", "at"),
        Index("ix_sign_in_failure_at", "at"),
    )


class FormSubmission(Base):
    """A form's one-time token, recorded with the step it did: a resent form does it once."""

    __tablename__ = "form_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Where the first submission led and what it said, shown again to a resend."""
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("user_id", "token"),)
