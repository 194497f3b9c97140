"""/api/v1 look-ups: contracts, districts, institutions, configuration items, users."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from itsm.accounts.models import User
from itsm.accounts.schemas import UserSchema
from itsm.api.base import Blueprint, current_actor, db_session
from itsm.api.fields import Enum, Id, Text
from itsm.api.schemas import PageArgs, PageSchema
from itsm.directory import schemas as s
from itsm.directory.services import directory
from itsm.models.types import InstitutionKind, Role

blp = Blueprint("directory", __name__, description="Contracts, institutions, systems, people")


def _page(items: list[Any], total: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


class InstitutionArgs(PageArgs):
    q = Text(100, metadata={"description": "Code, name, pinyin initials (bjsxc) or phone"})
    contract = Text(32)
    district_id = Id(strict=False)
    kind = Enum(InstitutionKind)


class InstitutionPage(PageSchema):
    items = fields.List(fields.Nested(s.InstitutionSchema))


class SearchArgs(PageArgs):
    q = Text(100)


class DistrictPage(PageSchema):
    items = fields.List(fields.Nested(s.DistrictSchema))


class ConfigurationItemArgs(SearchArgs):
    contract = Text(32)


class ConfigurationItemPage(PageSchema):
    items = fields.List(fields.Nested(s.ConfigurationItemSchema))


class UserArgs(SearchArgs):
    role = Enum(Role)
    contract = Text(32)


class UserPage(PageSchema):
    items = fields.List(fields.Nested(UserSchema))


def _contract_id(args: dict[str, Any]) -> int | None:
    code = args.get("contract")
    return directory.get_contract(db_session(), current_actor(), code).id if code else None


@blp.route("/institutions")
class Institutions(MethodView):
    @blp.arguments(InstitutionArgs(), location="query")
    @blp.response(200, InstitutionPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Search the institutions you may see."""
        items, total = directory.list_institutions(
            db_session(),
            current_actor(),
            args.get("q"),
            _contract_id(args),
            args.get("district_id"),
            args.get("kind"),
            args["page"],
            args["per_page"],
        )
        return _page(items, total, args)


@blp.route("/institutions/<int(max=2147483647):institution_id>")
class InstitutionById(MethodView):
    @blp.response(200, s.InstitutionSchema)
    def get(self, institution_id: int) -> Any:
        """One institution."""
        return directory.get_institution(db_session(), current_actor(), institution_id)


@blp.route("/contracts")
class Contracts(MethodView):
    @blp.response(200, s.ContractSchema(many=True))
    def get(self) -> Any:
        """The contracts you work on."""
        return directory.list_contracts(db_session(), current_actor())


@blp.route("/contracts/<string(maxlength=32):code>")
class ContractByCode(MethodView):
    @blp.response(200, s.ContractSchema)
    def get(self, code: str) -> Any:
        """One contract."""
        return directory.get_contract(db_session(), current_actor(), code)


@blp.route("/districts")
class Districts(MethodView):
    @blp.arguments(SearchArgs(), location="query")
    @blp.response(200, DistrictPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Districts with their tier (urban, near_suburb, far_suburb)."""
        items, total = directory.list_districts(
            db_session(), args.get("q"), args["page"], args["per_page"]
        )
        return _page(items, total, args)


@blp.route("/configuration-items")
class ConfigurationItems(MethodView):
    @blp.arguments(ConfigurationItemArgs(), location="query")
    @blp.response(200, ConfigurationItemPage)
    def get(self, args: dict[str, Any]) -> Any:
        """The systems your contracts maintain."""
        items, total = directory.list_configuration_items(
            db_session(),
            current_actor(),
            _contract_id(args),
            args.get("q"),
            args["page"],
            args["per_page"],
        )
        return _page(items, total, args)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserArgs(), location="query")
    @blp.response(200, UserPage)
    def get(self, args: dict[str, Any]) -> Any:
        """People of your contracts."""
        items, total = directory.list_users(
            db_session(),
            current_actor(),
            args.get("role"),
            _contract_id(args),
            args.get("q"),
            args["page"],
            args["per_page"],
        )
        return _page(items, total, args)


@blp.route("/users/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self) -> Any:
        """Who you are signed in as."""
        return db_session().get_one(User, current_actor().user_id)
