"""Reusable column types and the enumerations stored by value."""

from __future__ import annotations

import enum
from typing import Annotated

from sqlalchemy import Enum, String
from sqlalchemy.orm import mapped_column

from sla_rules.vocabulary import (
    BugClass,
    Category,
    Channel,
    DistrictTier,
    InstitutionKind,
    Priority,
    SystemGroup,
    TicketKind,
)

__all__ = [
    "BugClass",
    "Category",
    "Channel",
    "DistrictTier",
    "InstitutionKind",
    "Priority",
    "Role",
    "SystemGroup",
    "TicketKind",
    "enum_column",
]


class Role(enum.StrEnum):
    AGENT = "agent"
    ENGINEER = "engineer"
    REQUESTER = "requester"
    MANAGER = "manager"
    ADMIN = "admin"


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
