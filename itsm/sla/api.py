"""/api/v1 SLA: a ticket's clocks, the board, contract policies, calendars."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from itsm import clock
from itsm.api.base import Blueprint, current_actor, db_session
from itsm.api.fields import Text
from itsm.api.schemas import Ref
from itsm.directory.services.directory import get_contract
from itsm.errors import Forbidden, InvalidInput, NotFound
from itsm.models.types import Role
from itsm.sla.models import SlaPolicy
from itsm.sla.services import calendars, sla
from itsm.tickets.services import tickets as ticket_service

blp = Blueprint("sla", __name__, description="SLA clocks, policies and business calendars")


class TimelineSchema(Schema):
    at = fields.DateTime()
    kind = fields.String()
    cause = fields.String()
    due_at = fields.DateTime(allow_none=True)
    data = fields.Dict()


class ClockSchema(Schema):
    id = fields.Integer(attribute="clock.id")
    metric = fields.String(attribute="clock.metric")
    status = fields.String(attribute="clock.status")
    at_risk = fields.Boolean()
    rule = fields.String(attribute="clock.rule")
    rule_description = fields.String(
        metadata={"description": "Where the target comes from: the contract's clause or 产品默认值"}
    )
    target = fields.String(attribute="clock.target")
    starts = fields.String(attribute="clock.starts")
    calendar = fields.String(attribute="clock.calendar")
    started_at = fields.DateTime(attribute="clock.started_at")
    due_at = fields.DateTime(attribute="clock.due_at")
    warn_at = fields.DateTime(attribute="clock.warn_at")
    paused_at = fields.DateTime(attribute="clock.paused_at", allow_none=True)
    met_at = fields.DateTime(attribute="clock.met_at", allow_none=True)
    breached_at = fields.DateTime(attribute="clock.breached_at", allow_none=True)
    warned_at = fields.DateTime(attribute="clock.warned_at", allow_none=True)
    business_seconds_elapsed = fields.Integer()
    business_seconds_remaining = fields.Integer()
    timeline = fields.List(fields.Nested(TimelineSchema), attribute="clock.events")


class BoardArgs(Schema):
    status = fields.String(validate=validate.OneOf(["at_risk", "breached"]))
    contract = Text(32)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class BoardRowSchema(Schema):
    ticket = fields.Nested(
        Schema.from_dict(
            {
                "id": fields.Integer(),
                "number": fields.String(),
                "title": fields.String(),
                "state": fields.String(),
                "priority": fields.String(),
                "institution": fields.Nested(Ref),
            }
        )
    )
    clock = fields.Nested(ClockSchema)


class PolicyDocumentSchema(Schema):
    contract = Text(32)
    calendar = Text(64, required=True)
    calendars = fields.List(fields.Dict(), load_default=list)
    rules = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=200))


class PolicySchema(Schema):
    contract = fields.String(attribute="contract.code")
    version = fields.Integer()
    published_at = fields.DateTime()
    document = fields.Dict()


class DaysArgs(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class DaySchema(Schema):
    date = fields.Date()
    is_working_day = fields.Boolean()
    reason = fields.String()
    periods = fields.List(fields.List(fields.DateTime()))


class CalendarDaysSchema(Schema):
    name = fields.String()
    fallback = fields.Boolean(metadata={"description": "Some year had no schedule: Mon–Fri used"})
    fallback_years = fields.List(fields.Integer())
    days = fields.List(fields.Nested(DaySchema))


class YearDocumentSchema(Schema):
    holidays = fields.List(fields.String(validate=validate.Length(max=10)), required=True)
    workdays = fields.List(fields.String(validate=validate.Length(max=10)), required=True)
    year = fields.Integer(validate=validate.Range(1900, 2200))
    source = Text(64)


class YearSchema(Schema):
    year = fields.Integer()
    holidays = fields.List(fields.String())
    workdays = fields.List(fields.String())
    source = fields.String()


def _require_admin() -> None:
    if current_actor().role != Role.ADMIN:
        raise Forbidden("only an admin may do this")


@blp.route("/tickets/<int(max=2147483647):ticket_id>/clocks")
class TicketClocks(MethodView):
    @blp.response(200, ClockSchema(many=True))
    def get(self, ticket_id: int) -> Any:
        """The ticket's SLA clocks, each with its timeline of starts, pauses and re-targets."""
        session = db_session()
        ticket = ticket_service.get_ticket(session, current_actor(), ticket_id)
        return sla.clocks_of_ticket(session, ticket, clock.now())


@blp.route("/sla/clocks")
class Board(MethodView):
    @blp.arguments(BoardArgs(), location="query")
    @blp.response(200, BoardRowSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Open clocks of the tickets you may see, nearest due first."""
        session, actor, now = db_session(), current_actor(), clock.now()
        contract = get_contract(session, actor, args["contract"]) if args.get("contract") else None
        rows = sla.board(session, actor, args.get("status"), contract, now, args["limit"])
        return [{"ticket": t, "clock": sla.view(session, c, now)} for c, t in rows]


@blp.route("/contracts/<string(maxlength=32):code>/policy")
class ContractPolicy(MethodView):
    @blp.response(200, PolicySchema)
    def get(self, code: str) -> Any:
        """The contract's current SLA policy version."""
        session = db_session()
        row = sla.current_policy(session, get_contract(session, current_actor(), code))
        if row is None:
            raise NotFound(f"contract {code} has no SLA policy yet; an admin can PUT one")
        session.commit()
        return row

    @blp.arguments(PolicyDocumentSchema())
    @blp.response(200, PolicySchema)
    def put(self, document: dict[str, Any], code: str) -> SlaPolicy:
        """Publish a new version (admins); only tickets opened after it use it."""
        _require_admin()
        session = db_session()
        contract = get_contract(session, current_actor(), code)
        row = sla.publish_policy(session, current_actor(), contract, document)
        session.commit()
        return row


@blp.route("/calendars/<string(maxlength=64):name>/days")
class CalendarDays(MethodView):
    @blp.arguments(DaysArgs(), location="query")
    @blp.response(200, CalendarDaysSchema)
    def get(self, args: dict[str, date], name: str) -> Any:
        """Working and non-working days, with the reason (holiday, make-up working day, …)."""
        infos, fallback = calendars.days(db_session(), name, args["from_"], args["to"])
        return {"name": name, "fallback": bool(fallback), "fallback_years": fallback, "days": infos}


@blp.route("/calendars/<string(maxlength=64):name>/years/<int(min=1900,max=2200):year>")
class CalendarYearResource(MethodView):
    @blp.arguments(YearDocumentSchema())
    @blp.response(200, YearSchema)
    def put(self, document: dict[str, Any], name: str, year: int) -> Any:
        """Load or correct a year of the working-day schedule (admins)."""
        _require_admin()
        if name == "24x7":
            raise InvalidInput("24x7 is always open; it has no working-day schedule")
        session = db_session()
        calendars.builtin_calendar(name, calendars.schedule_book(session))
        schedule = calendars.load_year(session, current_actor(), year, document)
        session.commit()
        return schedule.to_dict()
