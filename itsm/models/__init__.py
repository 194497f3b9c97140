"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from itsm.db import Base
from itsm.models.contract import ConfigurationItem, Contract, District, Institution
from itsm.models.idempotency import IdempotencyRecord
from itsm.models.notification import ContractContact, InboundMessage, Notification
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
from itsm.models.web import FormSubmission, SignInFailure

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
    "ContractContact",
    "District",
    "FormSubmission",
    "DistrictTier",
    "IdempotencyRecord",
    "InboundMessage",
    "Institution",
    "InstitutionKind",
    "Notification",
    "OutboxMessage",
    "Priority",
    "Role",
    "SignInFailure",
    "SlaPolicy",
    "Ticket",
    "TicketEvent",
    "TicketKind",
    "TicketSerial",
    "User",
    "user_contract",
]
