"""Reusable column types and the enumerations stored by value."""

from __future__ import annotations

import enum
from typing import Annotated

from sqlalchemy import Enum, String
from sqlalchemy.orm import mapped_column


class Role(enum.StrEnum):
    AGENT = "agent"
    ENGINEER = "engineer"
    REQUESTER = "requester"
    MANAGER = "manager"
    ADMIN = "admin"


class DistrictTier(enum.StrEnum):
    URBAN = "urban"
    NEAR_SUBURB = "near_suburb"
    FAR_SUBURB = "far_suburb"


class InstitutionKind(enum.StrEnum):
    COMMISSION = "commission"
    QC_CENTER = "qc_center"
    COMMUNITY_CENTER = "community_center"
    COMMUNITY_STATION = "community_station"
    CLINIC = "clinic"
    HOSPITAL = "hospital"
    OTHER = "other"


class TicketKind(enum.StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"
    CONSULTATION = "consultation"


class Priority(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class BugClass(enum.StrEnum):
    """Software defect classes of C3-2 (严重 / 普通 / 轻微)."""

    SEVERE = "severe"
    NORMAL = "normal"
    MINOR = "minor"


class Category(enum.StrEnum):
    SOFTWARE = "software"
    HARDWARE = "hardware"
    NETWORK = "network"
    DATABASE = "database"
    DATA = "data"
    TRAINING = "training"
    OTHER = "other"


class Channel(enum.StrEnum):
    PHONE = "phone"
    WEB = "web"
    WECHAT = "wechat"
    MOBILE = "mobile"
    EMAIL = "email"
    MONITORING = "monitoring"


def enum_column(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """An enum stored by its value in a VARCHAR with a named CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


Code = Annotated[str, mapped_column(String(32))]
Name = Annotated[str, mapped_column(String(200))]
Phone = Annotated[str, mapped_column(String(32))]
