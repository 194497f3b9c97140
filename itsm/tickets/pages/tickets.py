"""The ticket page: details, clocks, history; every step allowed now is a button."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _

from itsm import clock
from itsm.directory.services import directory
from itsm.errors import InvalidInput
from itsm.models.types import Role
from itsm.notify.services import deliveries
from itsm.request_scope import current_actor, db_session
from itsm.sla.services import sla
from itsm.tickets.models import Ticket
from itsm.tickets.pages.forms import AssignForm, CommentForm, StepForm
from itsm.tickets.services import ticket_files, ticket_transitions
from itsm.tickets.services import tickets as ticket_service
from itsm.uploads import send_uploaded
from itsm.web import forms, labels
from itsm.web.common import STAFF, area, new_form_token, once, signed_in, written_file
from workflows import ticket as ticket_workflow
from workflows.ticket import OPEN_STATES

bp = area("ticket_pages", __name__)

_ID = "<int(max=2147483647):ticket_id>"
MAX_PHOTOS = 5
NOTIFICATIONS_SHOWN = 50


@bp.get(f"/tickets/{_ID}")
@signed_in()
def show(ticket_id: int) -> Any:
    return _page(ticket_id)


def _page(
    ticket_id: int,
    refused_form: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    """The ticket page; with `refused_form`, that form comes back as it was sent (the request's
    form) above `problem`, what is wrong with it."""
    session, actor, now = db_session(), current_actor(), clock.now()
    ticket = ticket_service.get_ticket(session, actor, ticket_id)
    allowed = ticket_transitions.allowed_triggers(ticket, actor)
    engineers: list[Any] = []
    if actor.role != Role.REQUESTER and ticket.state in OPEN_STATES:
        engineers, _total = directory.list_users(
            session, actor, "engineer", ticket.contract_id, None, 1, 200
        )
    if engineers and ticket.assignee_id is None:
        # A step's form may name the engineer, so ask the workflow as if one were assigned.
        facts = replace(ticket_transitions.facts_for(ticket, actor, "(any)"), has_assignee=True)
        workflow = ticket_workflow.WORKFLOW
        allowed += [
            t
            for t in workflow.allowed(ticket.state, facts)
            if t not in allowed and workflow.takes(t, "assignee_id")
        ]
    notifications: list[Any] = []
    notifications_total = 0
    if actor.is_staff:  # the delivery log: was the caller texted, did the engineer hear?
        notifications, notifications_total = deliveries.list_notifications(
            session, actor, ticket_id, per_page=NOTIFICATIONS_SHOWN
        )
    page = render_template(
        "web/ticket.html",
        refused_form=refused_form,
        typed=request.form if refused_form else {},
        problem=problem,
        ticket=ticket,
        notifications=notifications,
        notifications_total=notifications_total,
        tz=ticket.contract.timezone,
        clocks=sla.clocks_of_ticket(session, ticket, now),
        awaited_clocks=sla.awaited_clocks(session, ticket) if ticket.state in OPEN_STATES else [],
        events=ticket_service.list_events(session, actor, ticket_id),
        comments=ticket_files.list_comments(session, actor, ticket_id),
        attachments=ticket_files.list_attachments(session, actor, ticket_id),
        allowed=allowed,
        simple=[t for t in allowed if t not in labels.TRIGGERS_WITH_OWN_FORM],
        engineers=engineers,
        is_staff=actor.is_staff,
        can_assign=actor.is_staff and ticket.state in OPEN_STATES,
        form_token=new_form_token(),
        now=now,
        max_photos=MAX_PHOTOS,
        accept=",".join(ticket_files.ACCEPTED_EXTENSIONS),
    )
    return page, status


def _refused(ticket_id: int, form_id: str) -> Any:
    """What answers a refused form of the ticket page: the page again, that form as sent."""

    def answer(error: InvalidInput) -> Any:
        return _page(ticket_id, form_id, error.message, error.status)

    return answer


def _store_uploads(ticket: Ticket) -> int:
    """Attach the request's uploaded files (field `photos`) to the ticket; how many."""
    uploads = [f for f in request.files.getlist("photos") if f and f.filename]
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput(_("Attach at most %(n)d files at a time.", n=MAX_PHOTOS))
    settings = current_app.config["ITSM_SETTINGS"]
    for upload in uploads:
        content = upload.read(settings.max_attachment_bytes + 1)
        _row, path = ticket_files.add_attachment(
            db_session(),
            current_actor(),
            ticket.id,
            upload.filename or "",
            content,
            settings.attachments_path,
            settings.max_attachment_bytes,
        )
        written_file(path)
    return len(uploads)


def _position(values: dict[str, Any]) -> ticket_transitions.Position | None:
    """The device position the page's script filled in at check-in; None if refused."""
    latitude, longitude = values["latitude"], values["longitude"]
    if values["location_refused"] or latitude is None or longitude is None:
        return None
    return ticket_transitions.Position(latitude, longitude, values["accuracy"])


@bp.post(f"/tickets/{_ID}/steps")
@signed_in()
def step(ticket_id: int) -> Any:
    """Fire the workflow trigger of the pressed button (once per form token)."""

    def do() -> tuple[str, str]:
        values = forms.read(StepForm(), request.form)
        trigger = values["trigger"]
        session, actor = db_session(), current_actor()
        ticket = ticket_transitions.fire(
            session,
            actor,
            ticket_id,
            values["version"],
            trigger,
            note=values["note"],
            assignee_id=values["assignee_id"],
            position=_position(values)
            if ticket_workflow.WORKFLOW.takes(trigger, "position")
            else None,
        )
        takes_files = ticket_workflow.WORKFLOW.takes(trigger, "files")
        photos = _store_uploads(ticket) if takes_files else 0
        step_name = labels.label(trigger, "trigger")
        message = _("%(number)s: %(step)s done.", number=ticket.number, step=step_name)
        if photos:
            message += " " + _("%(n)d file(s) attached.", n=photos)
        return url_for("ticket_pages.show", ticket_id=ticket_id), message

    trigger = request.form.get("trigger", "")
    own_form = trigger in labels.TRIGGERS_WITH_OWN_FORM  # the template's form-<trigger>
    return once(do, _refused(ticket_id, f"form-{trigger}" if own_form else "form-steps"))


@bp.post(f"/tickets/{_ID}/assignee")
@signed_in(*STAFF)
def assign(ticket_id: int) -> Any:
    """Assign (or re-assign) the ticket to an engineer without changing its state."""

    def do() -> tuple[str, str]:
        values = forms.read(AssignForm(), request.form)
        ticket = ticket_service.update_ticket(
            db_session(),
            current_actor(),
            ticket_id,
            values["version"],
            {"assignee_id": values["assignee_id"]},
        )
        name = ticket.assignee.display_name if ticket.assignee else "—"
        message = _("%(number)s assigned to %(name)s.", number=ticket.number, name=name)
        return url_for("ticket_pages.show", ticket_id=ticket_id), message

    return once(do, _refused(ticket_id, "form-assign"))


@bp.post(f"/tickets/{_ID}/comments")
@signed_in()
def comment(ticket_id: int) -> Any:
    """Record work or a remark, with photos or files."""

    def do() -> tuple[str, str]:
        values = forms.read(CommentForm(), request.form)
        body = values["body"]
        session, actor = db_session(), current_actor()
        ticket = ticket_service.get_ticket(session, actor, ticket_id)
        has_files = any(f and f.filename for f in request.files.getlist("photos"))
        if not body and not has_files:
            raise InvalidInput(_("Write something or attach a file."))
        if body:
            ticket_files.add_comment(session, actor, ticket_id, body, values["internal"])
        photos = _store_uploads(ticket)
        message = _("%(number)s: noted.", number=ticket.number)
        if photos:
            message += " " + _("%(n)d file(s) attached.", n=photos)
        return url_for("ticket_pages.show", ticket_id=ticket_id), message

    return once(do, _refused(ticket_id, "form-comment"))


@bp.get(f"/tickets/{_ID}/files/<int(max=2147483647):attachment_id>")
@signed_in()
def attachment(ticket_id: int, attachment_id: int) -> Any:
    row = ticket_files.get_attachment(db_session(), current_actor(), ticket_id, attachment_id)
    return send_uploaded(row, inline_viewable=True)
