"""The directory's API schemas: contracts, districts, institutions, configuration items."""

from __future__ import annotations

from marshmallow import Schema, fields

from itsm.api.fields import Enum
from itsm.api.schemas import Ref
from itsm.models.types import (
    DistrictTier,
    InstitutionKind,
    SystemGroup,
)


class ContractSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    customer = fields.String()
    timezone = fields.String()
    service_hours = fields.String()
    calendar = fields.String()


class DistrictSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    city = fields.String()
    tier = Enum(DistrictTier)


class InstitutionSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = Enum(InstitutionKind)
    district = fields.Nested(DistrictSchema)
    contract = fields.Nested(Ref)
    address = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    phones = fields.List(fields.String())
    remote_area = fields.Boolean()


class ConfigurationItemSchema(Schema):
    id = fields.Integer()
    contract = fields.Nested(Ref)
    code = fields.String()
    name = fields.String()
    description = fields.String()
    group = Enum(SystemGroup, allow_none=True)
