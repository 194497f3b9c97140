"""The requester portal: a hospital's IT staff file requests and faults and follow them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _

from itsm import clock
from itsm.directory.services import directory
from itsm.errors import InvalidInput
from itsm.models.types import Category, Channel, Role
from itsm.request_scope import current_actor, db_session
from itsm.sla.services import sla
from itsm.tickets.pages.forms import PORTAL_KINDS, RequestForm
from itsm.tickets.services import tickets as ticket_service
from itsm.web import forms
from itsm.web.common import area, current_user, new_form_token, once, signed_in

bp = area("portal", __name__)


@bp.get("/portal")
@signed_in(Role.REQUESTER)
def home() -> Any:
    session, actor, now = db_session(), current_actor(), clock.now()
    tickets, total = ticket_service.list_tickets(
        session, actor, ticket_service.TicketFilter(), 1, 100
    )
    rows = [(t, sla.clocks_of_ticket(session, t, now)) for t in tickets]
    return render_template("web/portal.html", rows=rows, total=total, now=now)


@bp.get("/portal/new")
@signed_in(Role.REQUESTER)
def new() -> Any:
    return _new_page()


def _new_page(
    typed: Mapping[str, str] | None = None, problem: str | None = None, status: int = 200
) -> Any:
    """The request form: empty, or as it was sent and refused for `problem`."""
    session, actor = db_session(), current_actor()
    systems, _total = directory.list_configuration_items(session, actor, None, None, 1, 500)
    page = render_template(
        "web/portal_new.html",
        systems=systems,
        kinds=PORTAL_KINDS,
        categories=list(Category),
        user=current_user(),
        form_token=new_form_token(),
        typed=typed or {},
        problem=problem,
    )
    return page, status


@bp.post("/portal/new")
@signed_in(Role.REQUESTER)
def file() -> Any:
    actor = current_actor()

    def step() -> tuple[str, str]:
        fields = forms.read(RequestForm(), request.form)
        fields.update(institution_id=actor.institution_id, channel=Channel.WEB.value)
        created = ticket_service.create_ticket(db_session(), actor, fields)
        message = _("Request %(number)s filed.", number=created.ticket.number)
        return url_for("ticket_pages.show", ticket_id=created.ticket.id), message

    def refused(error: InvalidInput) -> Any:
        return _new_page(request.form, error.message, error.status)

    return once(step, refused)
