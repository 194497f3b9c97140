"""/api/v1/tickets: open, list, read, edit, move through the workflow, comment, attach."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError

from itsm.accounts.services.access import Actor
from itsm.api.base import Blueprint, current_actor, db_session, required_if_match
from itsm.directory.services.directory import get_contract
from itsm.errors import PreconditionFailed
from itsm.tickets import schemas as s
from itsm.tickets.models import Ticket
from itsm.tickets.services import ticket_files, ticket_transitions
from itsm.tickets.services import tickets as ticket_service
from itsm.uploads import commit_keeping, send_uploaded

blp = Blueprint("tickets", __name__, description="Tickets from call to close")

_ID = "<int(max=2147483647):ticket_id>"
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
_ETAG = re.compile(r'(?:W/)?"(\d{1,10})-(\d{1,10})"')  # ids and versions are 32-bit


def _present(ticket: Ticket, actor: Actor) -> Ticket:
    ticket.allowed_triggers = ticket_transitions.allowed_triggers(ticket, actor)  # type: ignore[attr-defined]
    return ticket


def _etag_headers(ticket: Ticket) -> dict[str, str]:
    return {"ETag": ticket.etag}


def _expected_version(ticket_id: int) -> int:
    """The version named by If-Match; 428 without one, 412 for one of another record."""
    header = required_if_match("this ticket")
    match = _ETAG.fullmatch(header.strip())
    if match is None or int(match.group(1)) != ticket_id:
        raise PreconditionFailed(f"If-Match {header!r} is not an ETag of ticket {ticket_id}")
    return int(match.group(2))


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        abort(400, message="Idempotency-Key must be 1 to 200 printable ASCII characters")
    return key


@blp.route("/tickets")
class Tickets(MethodView):
    @blp.arguments(s.TicketListArgs(), location="query")
    @blp.response(200, s.TicketPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the tickets you may see, newest first, with filters and a total."""
        session, actor = db_session(), current_actor()
        contract_id = None
        if args.get("contract"):
            contract_id = get_contract(session, actor, args["contract"]).id
        flt = ticket_service.TicketFilter(
            state=tuple(args.get("state", ())),
            institution_id=args.get("institution_id"),
            contract_id=contract_id,
            priority=tuple(args.get("priority", ())),
            assignee_id=args.get("assignee_id"),
            reported_from=args.get("reported_from"),
            reported_to=args.get("reported_to"),
            q=args.get("q"),
        )
        items, total = ticket_service.list_tickets(
            session, actor, flt, args["page"], args["per_page"]
        )
        return {
            "items": [_present(t, actor) for t in items],
            "total": total,
            "page": args["page"],
            "per_page": args["per_page"],
        }

    @blp.arguments(s.TicketCreateSchema())
    @blp.response(201, s.TicketSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Open a ticket. With `Idempotency-Key`, a retried request gives the same ticket once."""
        session, actor = db_session(), current_actor()
        key = _idempotency_key()
        try:
            created = ticket_service.create_ticket(
                session, actor, fields, key, current_app.config["ITSM_SETTINGS"].max_backdate
            )
            session.commit()
        except IntegrityError:
            session.rollback()
            replay = key and ticket_service.replay_created(session, actor, fields, key)
            if not replay:
                raise
            created = replay
        headers = _etag_headers(created.ticket)
        headers["Location"] = f"{request.path}/{created.ticket.id}"
        if created.replayed:
            headers["Idempotent-Replayed"] = "true"
        return _present(created.ticket, actor), headers


@blp.route(f"/tickets/{_ID}")
class TicketById(MethodView):
    @blp.response(200, s.TicketSchema)
    def get(self, ticket_id: int) -> Any:
        """A ticket, with its ETag for a later PATCH or transition."""
        actor = current_actor()
        ticket = ticket_service.get_ticket(db_session(), actor, ticket_id)
        return _present(ticket, actor), _etag_headers(ticket)

    @blp.arguments(s.TicketUpdateSchema())
    @blp.response(200, s.TicketSchema)
    @blp.needs_if_match("this ticket")
    def patch(self, changes: dict[str, Any], ticket_id: int) -> Any:
        """Change fields (not the state). Needs `If-Match`: 428 without, 412 when stale."""
        session, actor = db_session(), current_actor()
        version = _expected_version(ticket_id)
        max_backdate = current_app.config["ITSM_SETTINGS"].max_backdate
        ticket = ticket_service.update_ticket(
            session, actor, ticket_id, version, changes, max_backdate
        )
        session.commit()
        return _present(ticket, actor), _etag_headers(ticket)


@blp.route(f"/tickets/{_ID}/transitions")
class TicketTransitions(MethodView):
    @blp.arguments(s.TransitionSchema())
    @blp.response(200, s.TicketSchema)
    @blp.needs_if_match("this ticket")
    def post(self, body: dict[str, Any], ticket_id: int) -> Any:
        """Fire a workflow trigger; 409 with the triggers allowed now when it may not fire."""
        session, actor = db_session(), current_actor()
        version = _expected_version(ticket_id)
        position = body.get("position")
        ticket = ticket_transitions.fire(
            session,
            actor,
            ticket_id,
            version,
            body["trigger"],
            note=body.get("note"),
            assignee_id=body.get("assignee_id"),
            position=ticket_transitions.Position(**position) if position else None,
        )
        session.commit()
        return _present(ticket, actor), _etag_headers(ticket)


@blp.route(f"/tickets/{_ID}/events")
class TicketEvents(MethodView):
    @blp.response(200, s.EventSchema(many=True))
    def get(self, ticket_id: int) -> Any:
        """The ticket's history, oldest first: who, when, from, to, note."""
        return ticket_service.list_events(db_session(), current_actor(), ticket_id)


@blp.route(f"/tickets/{_ID}/comments")
class TicketComments(MethodView):
    @blp.response(200, s.CommentSchema(many=True))
    def get(self, ticket_id: int) -> Any:
        """Comments, oldest first (requesters do not see internal notes)."""
        return ticket_files.list_comments(db_session(), current_actor(), ticket_id)

    @blp.arguments(s.CommentCreateSchema())
    @blp.response(201, s.CommentSchema)
    def post(self, body: dict[str, Any], ticket_id: int) -> Any:
        """Add a comment."""
        session = db_session()
        comment = ticket_files.add_comment(
            session, current_actor(), ticket_id, body["body"], body["internal"]
        )
        session.commit()
        return comment


@blp.route(f"/tickets/{_ID}/attachments")
class TicketAttachments(MethodView):
    @blp.response(200, s.AttachmentSchema(many=True))
    def get(self, ticket_id: int) -> Any:
        """The ticket's attachments."""
        return ticket_files.list_attachments(db_session(), current_actor(), ticket_id)

    @blp.arguments(s.FileUploadSchema(), location="files")
    @blp.response(201, s.AttachmentSchema)
    def post(self, files: dict[str, Any], ticket_id: int) -> Any:
        """Upload a file (multipart field `file`): images, PDF, text, docx, xlsx; size-limited."""
        session = db_session()
        upload = files["file"]
        settings = current_app.config["ITSM_SETTINGS"]
        content = upload.read(settings.max_attachment_bytes + 1)
        attachment, path = ticket_files.add_attachment(
            session,
            current_actor(),
            ticket_id,
            upload.filename or "",
            content,
            settings.attachments_path,
            settings.max_attachment_bytes,
        )
        commit_keeping(path)
        return attachment


@blp.route(f"/tickets/{_ID}/attachments/<int(max=2147483647):attachment_id>")
class TicketAttachmentContent(MethodView):
    @blp.response(200, content_type="application/octet-stream")
    def get(self, ticket_id: int, attachment_id: int) -> Any:
        """The attachment's content."""
        attachment = ticket_files.get_attachment(
            db_session(), current_actor(), ticket_id, attachment_id
        )
        return send_uploaded(attachment)
