"""The accounts' API schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from itsm.api.fields import Enum, Id, Instant, Text
from itsm.api.schemas import PageArgs, PageSchema, Ref, UserRef
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


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String(metadata={"description": "What the token is for"})
    user = fields.Nested(UserRef)
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "null: never"})
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(
        metadata={"description": "The secret to send as `Authorization: Bearer …`: shown once"}
    )


class NewTokenArgs(Schema):
    name = Text(100, load_default="")
    expires_at = Instant(
        load_default=None,
        allow_none=True,
        metadata={"description": "When it stops working, e.g. 2026-12-31T23:59:59+08:00"},
    )


class TokenListArgs(PageArgs):
    user_id = Id(strict=False, metadata={"description": "Someone else's tokens (admins)"})


class TokenPage(PageSchema):
    items = fields.List(fields.Nested(TokenSchema))
