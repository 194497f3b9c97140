"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from itsm.db import Base
from itsm.models.contract import ConfigurationItem, Contract, District, Institution
from itsm.models.idempotency import IdempotencyRecord
from itsm.models.outbox import OutboxMessage
from itsm.models.sla import CalendarYear, Clock, ClockEvent, SlaPolicy
from itsm.models.ticket import (
    TICKET_NUMBERS,
    Attachment,
    Comment,
    Ticket,
    TicketEvent,
    TicketSerial,
)
from itsm.models.types import (
    BugClass,
    Category,
    Channel,
    DistrictTier,
    InstitutionKind,
    Priority,
    Role,
    TicketKind,
)
from itsm.models.user import ApiToken, User, user_contract

__all__ = [
    "TICKET_NUMBERS",
    "ApiToken",
    "Attachment",
    "Base",
    "BugClass",
    "CalendarYear",
    "Category",
    "Channel",
    "Clock",
    "ClockEvent",
    "Comment",
    "ConfigurationItem",
    "Contract",
    "District",
    "DistrictTier",
    "IdempotencyRecord",
    "Institution",
    "InstitutionKind",
    "OutboxMessage",
    "Priority",
    "Role",
    "SlaPolicy",
    "Ticket",
    "TicketEvent",
    "TicketKind",
    "TicketSerial",
    "User",
    "user_contract",
]
