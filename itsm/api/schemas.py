"""Schemas every area's API shares: pages of results and references to records."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from itsm.api.fields import Id, Text
from workflows.engine import Workflow


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))


class PageSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class Ref(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class UserRef(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class PositionSchema(Schema):
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(allow_none=True, validate=validate.Range(0, 1_000_000))


def transition_schema(name: str, workflow: Workflow[Any]) -> type[Schema]:
    """The body of a step of `workflow`: its trigger, a note, an assignee for a step that takes
    one, and the device's position for the steps that record it."""
    triggers = workflow.triggers
    position_with = " or ".join(t for t in triggers if workflow.takes(t, "position"))
    return Schema.from_dict(
        {
            "trigger": Text(
                32,
                min_length=1,
                required=True,
                metadata={"description": "One of: " + ", ".join(triggers)},
            ),
            "note": Text(10_000, allow_none=True),
            "assignee_id": Id(allow_none=True),
            "position": fields.Nested(
                PositionSchema,
                allow_none=True,
                metadata={
                    "description": f"With {position_with}: the device's position; omit if refused."
                },
            ),
        },
        name=name,
    )
