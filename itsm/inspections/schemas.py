"""The inspections' API schemas: occurrences, their checklists, plans and the ledger."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from itsm.api.fields import Enum, Id, Instant, Text
from itsm.api.schemas import PageArgs, PageSchema, Ref, UserRef, transition_schema
from itsm.inspections.models import REPORT_FORMATS
from sla_rules.inspections import Mode, ObligationKind
from workflows import inspection as inspection_workflow


class InspectionListArgs(PageArgs):
    contract = Text(32)
    kind = fields.List(Enum(ObligationKind))
    state = fields.List(Enum(inspection_workflow.STATES))
    assignee = Id(strict=False, metadata={"description": "The assigned engineer's user id."})
    from_ = fields.Date(data_key="from", metadata={"description": "Planned on or after."})
    to = fields.Date(metadata={"description": "Planned on or before."})


class ChecklistLineSchema(Schema):
    key = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    unit = fields.String()
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    answer = fields.Raw(allow_none=True)
    fault = fields.Boolean()
    photos = fields.Integer()


class LinkedTicketSchema(Schema):
    id = fields.Integer(attribute="ticket.id")
    number = fields.String(attribute="ticket.number")
    state = fields.String(attribute="ticket.state")
    item_key = fields.String()
    created_at = fields.AwareDateTime()


class InspectionSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    mode = fields.String()
    state = fields.String()
    title = fields.String()
    clause = fields.String()
    contract = fields.Nested(Ref)
    institution = fields.Nested(Ref, allow_none=True)
    day = fields.Date()
    window_start = fields.Date()
    window_end = fields.Date()
    due_at = fields.AwareDateTime()
    scheduled_at = fields.AwareDateTime(allow_none=True)
    assignee = fields.Nested(UserRef, allow_none=True)
    plan_version = fields.Integer(allow_none=True)
    checklist = fields.List(fields.Nested(ChecklistLineSchema))
    checklist_complete = fields.Boolean()
    missing = fields.List(fields.String())
    faults = fields.List(fields.String())
    tickets = fields.List(fields.Nested(LinkedTicketSchema))
    position = fields.Dict(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    submitted_at = fields.AwareDateTime(allow_none=True)
    accepted_at = fields.AwareDateTime(allow_none=True)
    missed_at = fields.AwareDateTime(allow_none=True)
    allowed_triggers = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    version = fields.Integer()


class InspectionPageSchema(PageSchema):
    items = fields.List(fields.Nested(InspectionSchema))


class InspectionCreateSchema(Schema):
    contract = Text(32, required=True)
    kind = Enum(ObligationKind, load_default=ObligationKind.AD_HOC.value)
    due_at = Instant(required=True)
    title = Text(200, min_length=1)
    institution_id = Id(allow_none=True)
    mode = Enum(Mode, load_default=Mode.EITHER.value)
    assignee_id = Id(allow_none=True)
    note = Text(10_000, allow_none=True)


class InspectionUpdateSchema(Schema):
    assignee_id = Id(allow_none=True)
    scheduled_at = Instant(allow_none=True)


InspectionTransitionSchema = transition_schema(
    "InspectionTransitionSchema", inspection_workflow.WORKFLOW
)


class ChecklistAnswersSchema(Schema):
    answers = fields.Dict(
        keys=Text(64),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "Item key → ok | fault | not_applicable, a number, or a text."},
    )


class InspectionTicketCreateSchema(Schema):
    item_key = Text(64, min_length=1, required=True)
    institution_id = Id(allow_none=True)
    title = Text(200, min_length=1)
    description = Text(10_000)
    priority = fields.String(validate=validate.OneOf(["P1", "P2", "P3", "P4"]))


class PhotoSchema(Schema):
    id = fields.Integer()
    item_key = fields.String(allow_none=True)
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    created_at = fields.AwareDateTime()
    uploaded_by = fields.Nested(UserRef)


class PhotoUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class PhotoItemSchema(Schema):
    item_key = Text(64, allow_none=True)


class InspectionEventSchema(Schema):
    at = fields.AwareDateTime()
    actor = fields.Nested(UserRef, allow_none=True)
    kind = fields.String()
    trigger = fields.String(allow_none=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


class PlanSchema(Schema):
    contract = fields.String(attribute="contract.code")
    version = fields.Integer()
    published_at = fields.AwareDateTime()
    document = fields.Dict()


class PlanDocumentSchema(Schema):
    """A plan document; checked in full by the plan's own rules (errors with paths)."""

    class Meta:
        unknown = "include"


class LedgerArgs(Schema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))


class LedgerLineSchema(Schema):
    kind = fields.String()
    title = fields.String()
    clause = fields.String()
    required = fields.Integer()
    planned = fields.Integer()
    done = fields.Integer()
    missed = fields.Integer()
    open = fields.Integer()
    remaining = fields.Integer()
    next_due = fields.AwareDateTime(allow_none=True)
    at_risk = fields.Boolean()
    reasons = fields.List(fields.String())


class LedgerSchema(Schema):
    contract = fields.String()
    year = fields.Integer()
    plan_version = fields.Integer(allow_none=True)
    obligations = fields.List(fields.Nested(LedgerLineSchema))


class ReportArgs(Schema):
    format = Enum(
        REPORT_FORMATS,
        load_default="pdf",
        metadata={"description": "pdf (A4, for print and the seal) or xlsx"},
    )


class QuarterReportArgs(ReportArgs):
    quarter = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{4}-Q[1-4]$", error="write the quarter as 2026-Q1"),
        metadata={"description": "The quarter, e.g. 2026-Q1: every inspection planned in it"},
    )


class ReportSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "inspection or inspection_quarter"})
    subject = fields.String(metadata={"description": "The inspection's id or the contract"})
    format = fields.String()
    params = fields.Dict()
    status = fields.String(metadata={"description": "pending, done or failed"})
    error = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    file = fields.String(
        allow_none=True, metadata={"description": "Where to fetch the file, once done"}
    )
    requested_by = fields.Nested(UserRef)
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
