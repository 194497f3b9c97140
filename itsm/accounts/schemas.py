"""The accounts' API schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from itsm.api.fields import Enum
from itsm.api.schemas import Ref
from itsm.models.types import (
    Role,
)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = Enum(Role)
    phone = fields.String(allow_none=True)
    wechat_user_id = fields.String(allow_none=True)
    institution = fields.Nested(Ref, allow_none=True)
    contracts = fields.List(fields.Nested(Ref))
    active = fields.Boolean()
