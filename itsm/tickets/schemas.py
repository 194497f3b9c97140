"""The tickets' API schemas: create, update, transitions, comments, attachments."""

from __future__ import annotations

from marshmallow import Schema, fields

from itsm.api.fields import Enum, Id, Instant, Text
from itsm.api.schemas import PageArgs, PageSchema, Ref, UserRef, transition_schema
from itsm.models.types import (
    BugClass,
    Category,
    Channel,
    Priority,
    TicketKind,
)
from workflows import ticket as ticket_workflow


class TicketCreateSchema(Schema):
    kind = Enum(TicketKind, load_default=TicketKind.INCIDENT.value)
    priority = Enum(Priority, load_default=Priority.P3.value)
    bug_class = Enum(BugClass, allow_none=True)
    category = Enum(Category, load_default=Category.OTHER.value)
    channel = Enum(Channel, load_default=Channel.PHONE.value)
    institution_id = Id(required=True)
    configuration_item_id = Id(allow_none=True)
    reporter_name = Text(100)
    reporter_phone = Text(32)
    title = Text(200, min_length=1, required=True)
    description = Text(10_000)
    reported_at = Instant(
        metadata={
            "description": "When the call started: at most ITSM_MAX_BACKDATE_HOURS (72) ago "
            "(admins: any time), never more than 5 minutes ahead (then taken as now). "
            "Default: now."
        }
    )
    assignee_id = Id(allow_none=True)
    onsite_required = fields.Boolean()


class TicketUpdateSchema(Schema):
    kind = Enum(TicketKind)
    priority = Enum(Priority)
    bug_class = Enum(BugClass, allow_none=True)
    category = Enum(Category)
    channel = Enum(Channel)
    configuration_item_id = Id(allow_none=True)
    reporter_name = Text(100)
    reporter_phone = Text(32)
    title = Text(200, min_length=1)
    description = Text(10_000)
    reported_at = Instant()
    assignee_id = Id(allow_none=True)
    onsite_required = fields.Boolean()


TransitionSchema = transition_schema("TransitionSchema", ticket_workflow.WORKFLOW)


class TicketSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    priority = fields.String()
    bug_class = fields.String(allow_none=True)
    category = fields.String()
    channel = fields.String()
    contract = fields.Nested(Ref)
    institution = fields.Nested(Ref)
    configuration_item = fields.Nested(Ref, allow_none=True)
    reporter_name = fields.String()
    reporter_phone = fields.String()
    title = fields.String()
    description = fields.String()
    reported_at = fields.DateTime()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    assignee = fields.Nested(UserRef, allow_none=True)
    onsite_required = fields.Boolean()
    state = fields.String()
    located_at = fields.DateTime(allow_none=True)
    diagnosis = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    reopen_count = fields.Integer()
    version = fields.Integer()
    allowed_triggers = fields.List(fields.String())


class TicketListArgs(PageArgs):
    state = fields.List(Enum(ticket_workflow.STATES))
    institution_id = Id(strict=False)
    contract = Text(32)
    priority = fields.List(Enum(Priority))
    assignee_id = Id(strict=False)
    reported_from = Instant()
    reported_to = Instant()
    q = Text(100)


class TicketPageSchema(PageSchema):
    items = fields.List(fields.Nested(TicketSchema))


class EventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.Nested(UserRef, allow_none=True)
    kind = fields.String()
    trigger = fields.String(allow_none=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


class CommentCreateSchema(Schema):
    body = Text(10_000, min_length=1, required=True)
    internal = fields.Boolean(load_default=False)


class CommentSchema(Schema):
    id = fields.Integer()
    author = fields.Nested(UserRef)
    body = fields.String()
    internal = fields.Boolean()
    created_at = fields.DateTime()


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.Nested(UserRef)
    created_at = fields.DateTime()


class FileUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
