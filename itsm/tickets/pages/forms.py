"""The ticket pages' forms and queries, read with the same field types and limits as the
tickets' API (`itsm/tickets/schemas.py`)."""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from itsm.api.fields import Enum, Id, Instant, Text
from itsm.models.types import Category, Priority, TicketKind
from itsm.web import labels
from itsm.web.forms import FormSchema

PORTAL_KINDS = (TicketKind.INCIDENT, TicketKind.REQUEST, TicketKind.CONSULTATION)


def _label(text: Any) -> dict[str, Any]:
    return {"label": text}


class ConsoleArgs(FormSchema):
    q = Text(
        100,
        load_default="",
        metadata=_label(_l("Phone number, institution name, code or pinyin initials")),
    )
    institution_id = Id(strict=False, load_default=None, metadata=_label(_l("Institution")))


class CallForm(FormSchema):
    """A call logged at the hotline console; the call's start is wall-clock time in the
    console's timezone."""

    institution_id = Id(
        strict=False,
        required=True,
        error_messages={"required": _l("Find and choose the caller's institution first.")},
        metadata=_label(_l("Institution")),
    )
    title = Text(
        200,
        min_length=1,
        required=True,
        error_messages={"required": _l("Say in a few words what the caller reports.")},
        metadata=_label(_l("What is wrong (one line)")),
    )
    description = Text(10_000, load_default="", metadata=_label(_l("Details")))
    kind = Enum(TicketKind, load_default=TicketKind.INCIDENT.value, metadata=_label(_l("Kind")))
    priority = Enum(Priority, load_default=Priority.P3.value, metadata=_label(_l("Priority")))
    category = Enum(Category, load_default=Category.OTHER.value, metadata=_label(_l("Category")))
    reporter_name = Text(100, load_default="", metadata=_label(_l("Caller's name")))
    reporter_phone = Text(32, load_default="", metadata=_label(_l("Caller's phone")))
    onsite_required = fields.Boolean(
        load_default=False, metadata=_label(_l("An engineer must go on site"))
    )
    configuration_item_id = Id(strict=False, load_default=None, metadata=_label(_l("System")))
    reported_at = Instant(load_default=None, metadata=_label(_l("Call started")))

    def __init__(self, timezone: str) -> None:
        super().__init__()
        reported_at = cast(fields.AwareDateTime, self.fields["reported_at"])
        reported_at.default_timezone = ZoneInfo(timezone)


class RequestForm(FormSchema):
    """A request or fault filed by a hospital's IT staff in the portal."""

    title = Text(
        200,
        min_length=1,
        required=True,
        error_messages={"required": _l("Say in a few words what is wrong or what you need.")},
        metadata=_label(_l("What is wrong or what do you need (one line)")),
    )
    description = Text(10_000, load_default="", metadata=_label(_l("Details")))
    kind = Enum(PORTAL_KINDS, load_default=TicketKind.INCIDENT.value, metadata=_label(_l("Kind")))
    category = Enum(Category, load_default=Category.OTHER.value, metadata=_label(_l("Category")))
    configuration_item_id = Id(strict=False, load_default=None, metadata=_label(_l("System")))
    reporter_name = Text(100, load_default="", metadata=_label(_l("Contact person")))
    reporter_phone = Text(32, load_default="", metadata=_label(_l("Contact phone")))


def _version() -> fields.Integer:
    missing = _l("The form does not say which version of the ticket you saw.")
    return Id(
        strict=False,
        required=True,
        error_messages={"required": missing, "invalid": missing},
        metadata=_label(_l("Ticket version")),
    )


class StepForm(FormSchema):
    """A workflow step from the ticket page: the pressed button's trigger and what its form
    adds (a note, an engineer, the device's position at check-in)."""

    trigger = fields.String(
        required=True,
        validate=validate.OneOf(list(labels.TRIGGERS), error=_l("Unknown step.")),
        error_messages={"required": _l("Unknown step.")},
    )
    version = _version()
    note = Text(10_000, load_default=None, metadata=_label(_l("Note")))
    assignee_id = Id(strict=False, load_default=None, metadata=_label(_l("Engineer")))
    latitude = fields.Float(
        load_default=None, validate=validate.Range(-90, 90), metadata=_label(_l("Location"))
    )
    longitude = fields.Float(
        load_default=None, validate=validate.Range(-180, 180), metadata=_label(_l("Location"))
    )
    accuracy = fields.Float(
        load_default=None,
        validate=validate.Range(0, 1_000_000),
        metadata=_label(_l("Location")),
    )
    location_refused = fields.Boolean(load_default=False, metadata=_label(_l("Location")))


class AssignForm(FormSchema):
    version = _version()
    assignee_id = Id(strict=False, load_default=None, metadata=_label(_l("Engineer")))


class CommentForm(FormSchema):
    body = Text(10_000, load_default="", metadata=_label(_l("Text")))
    internal = fields.Boolean(
        load_default=False, metadata=_label(_l("Internal note (hidden from the hospital)"))
    )
