"""People who use the service, the contracts they work on, and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itsm.db import Base
from itsm.models.contract import Contract, Institution
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
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
