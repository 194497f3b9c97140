"""Service contracts, the districts and institutions they cover, and the systems they maintain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itsm.db import Base
from itsm.models.types import (
    Code,
    DistrictTier,
    InstitutionKind,
    Name,
    SystemGroup,
    enum_column,
)


class Contract(Base):
    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    customer: Mapped[Name]
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    service_hours: Mapped[str] = mapped_column(String(200))
    calendar: Mapped[str] = mapped_column(String(64), default="cn-5x8")
    notification_settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Overrides of the notification defaults (`itsm.notify.services.notices.DEFAULTS`)."""


class District(Base):
    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    city: Mapped[Name]
    tier: Mapped[DistrictTier] = mapped_column(enum_column(DistrictTier, "district_tier"))


class Institution(Base):
    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    kind: Mapped[InstitutionKind] = mapped_column(enum_column(InstitutionKind, "institution_kind"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    remote_area: Mapped[bool] = mapped_column(Boolean, default=False)
    """In a remote part of its district (C1-7 远郊区的偏远地区: 4 h to arrive instead of 2)."""
    search_text: Mapped[str] = mapped_column(String(1000), default="")
    """Lower-case code, name, pinyin initials and phone digits, for `?q=` search."""

    district: Mapped[District] = relationship(lazy="joined", innerjoin=True)
    contract: Mapped[Contract] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("contract_id", "name"),)


class ConfigurationItem(Base):
    """A system a contract maintains (one of C3's 50 HIS subsystems, C0's 11 subsystems, ...)."""

    __tablename__ = "configuration_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    code: Mapped[Code]
    name: Mapped[Name]
    description: Mapped[str] = mapped_column(String(2000), default="")
    group: Mapped[SystemGroup | None] = mapped_column(enum_column(SystemGroup, "system_group"))
    """What kind of system it is (`his`, `interoperability`, …): SLA rules may match on it
    (C4-2 sets limits per service item)."""

    contract: Mapped[Contract] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("contract_id", "code"),)
