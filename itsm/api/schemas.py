"""Schemas every area's API shares: pages of results and references to records."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


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
