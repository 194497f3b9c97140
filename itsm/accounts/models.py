"""People who use the service, the contracts they work on, their API tokens, and what the
pages keep of them: failed sign-ins and steps already taken from a form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itsm.db import Base
from itsm.directory.models import Contract, Institution
from itsm.models.types import Name, Phone, Role, enum_column

user_contract = Table(
    "user_contract",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[Name]
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    phone: Mapped[Phone | None]
    wechat_user_id: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    """Written into each page session at sign-in; raising it ends every session from before
    (sign-out, a new password, deactivation, "sign out everywhere")."""

    institution: Mapped[Institution | None] = relationship(lazy="joined")
    contracts: Mapped[list[Contract]] = relationship(secondary=user_contract, lazy="selectin")

    __table_args__ = (
        CheckConstraint(
            "role <> 'requester' OR institution_id IS NOT NULL", name="requester_institution"
        ),
    )

    @property
    def contract_ids(self) -> frozenset[int]:
        return frozenset(c.id for c in self.contracts)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the token: tokens are 256 random bits, so a fast hash is safe here."""
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


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
