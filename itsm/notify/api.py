"""/api/v1 notifications: the delivery log, and who a contract's messages go to."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from itsm.api.base import Blueprint, current_actor, db_session, required_if_match
from itsm.api.fields import Id, Text
from itsm.api.schemas import PageArgs, PageSchema
from itsm.notify.models import STATUSES
from itsm.notify.services import deliveries, notices
from itsm.notify.services import notification_settings as settings_service

blp = Blueprint("notifications", __name__, description="Delivery log and notification settings")

CHANNELS = ("sms", "wechat_app", "wechat_robot", "-")


class NotificationArgs(PageArgs):
    ticket = Id(strict=False, metadata={"description": "Only this ticket's notifications"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))


class NotificationSchema(Schema):
    id = fields.Integer()
    key = fields.String(
        attribute="shown_key",
        metadata={"description": "Idempotency key: cause, recipient, channel"},
    )
    event = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    audience = fields.String()
    channel = fields.String()
    recipient = fields.String(
        metadata={"description": "Phone, WeChat Work id, or the last characters of a robot key"}
    )
    user_id = fields.Integer(allow_none=True)
    status = fields.String()
    urgent = fields.Boolean()
    attempts = fields.Integer()
    provider_id = fields.String(allow_none=True)
    provider_status = fields.String(allow_none=True)
    error_code = fields.String(allow_none=True)
    error_message = fields.String(attribute="shown_error", allow_none=True)
    skip_reason = fields.String(allow_none=True)
    fallback_for_id = fields.Integer(allow_none=True)
    body = fields.String()
    not_before = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)


class NotificationPage(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema))


class SettingsSchema(Schema):
    events = fields.Dict(
        keys=fields.String(validate=validate.OneOf(notices.EVENTS)),
        values=fields.List(fields.String(validate=validate.OneOf(notices.AUDIENCES))),
        metadata={"description": "Event -> audiences; events left out keep the defaults"},
    )
    wechat_fallback_minutes = fields.Integer(validate=validate.Range(1, 1440))
    fallback_priorities = fields.List(
        fields.String(validate=validate.OneOf(["P1", "P2", "P3", "P4"]))
    )
    robot_key = fields.String(
        validate=validate.Regexp(
            r"^(?:[A-Za-z0-9_-]{8,128})?$",
            error="the robot key is the value after key= in the group robot's webhook address "
            "(8 to 128 letters, digits, - or _), or empty for no robot",
        ),
        metadata={
            "description": "The group robot's webhook key; shown whole only to admins "
            "and the contract's managers"
        },
    )
    lang = fields.String(validate=validate.OneOf(["zh_CN", "en"]))


class ContactsSchema(Schema):
    """User names per duty (a name is looked up in the database: no control characters)."""

    on_duty = fields.List(Text(64, min_length=1), load_default=list)
    supervisor = fields.List(Text(64, min_length=1), load_default=list)
    project_manager = fields.List(Text(64, min_length=1), load_default=list)


class ContractNotificationsSchema(Schema):
    settings = fields.Nested(SettingsSchema, required=True)
    contacts = fields.Nested(ContactsSchema, required=True)


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationArgs(), location="query")
    @blp.response(200, NotificationPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Who was told what, on which channel, and what became of it (agents and managers)."""
        items, total = deliveries.list_notifications(
            db_session(),
            current_actor(),
            args.get("ticket"),
            args.get("status"),
            args.get("channel"),
            args["page"],
            args["per_page"],
        )
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@blp.route("/contracts/<string(maxlength=32):code>/notifications")
class ContractNotifications(MethodView):
    @blp.response(200, ContractNotificationsSchema)
    def get(self, code: str) -> Any:
        """The contract's notification settings (defaults filled in) and its contacts, with
        the ETag a replace names in If-Match."""
        document = settings_service.read(db_session(), current_actor(), code)
        return document, {"ETag": settings_service.etag(document)}

    @blp.arguments(ContractNotificationsSchema())
    @blp.response(200, ContractNotificationsSchema)
    @blp.needs_if_match("these notifications", any_version=True)
    def put(self, document: dict[str, Any], code: str) -> Any:
        """Replace the contract's settings and contacts (admins and the contract's managers).
        Needs `If-Match`: 428 without, 412 when they changed since the ETag was read."""
        if_match = required_if_match("these notifications")
        session = db_session()
        result = settings_service.write(session, current_actor(), code, document, if_match)
        session.commit()
        return result, {"ETag": settings_service.etag(result)}
