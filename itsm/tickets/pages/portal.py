"""The requester portal: a hospital's IT staff file requests and faults and follow them."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _

from itsm import clock
from itsm.directory.services import directory
from itsm.errors import InvalidInput
from itsm.models.types import Category, Channel, Role, TicketKind
from itsm.request_scope import current_actor, db_session
from itsm.sla.services import sla
from itsm.tickets.services import tickets as ticket_service
from itsm.web.common import area, current_user, new_form_token, once, signed_in

bp = area("portal", __name__)
KINDS = (TicketKind.INCIDENT, TicketKind.REQUEST, TicketKind.CONSULTATION)


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
    session, actor = db_session(), current_actor()
    systems, _total = directory.list_configuration_items(session, actor, None, None, 1, 500)
    return render_template(
        "web/portal_new.html",
        systems=systems,
        kinds=KINDS,
        categories=list(Category),
        user=current_user(),
        form_token=new_form_token(),
    )


@bp.post("/portal/new")
@signed_in(Role.REQUESTER)
def file() -> Any:
    form = request.form
    actor = current_actor()

    def step() -> tuple[str, str]:
        title = form.get("title", "").strip()
        if not title:
            raise InvalidInput(_("Say in a few words what is wrong or what you need."))
        kind, category = form.get("kind", "incident"), form.get("category", "other")
        if kind not in {k.value for k in KINDS} or category not in {c.value for c in Category}:
            raise InvalidInput(_("Choose the kind and the category from the lists."))
        system = form.get("configuration_item_id", "")
        fields = {
            "institution_id": actor.institution_id,
            "title": title[:200],
            "description": form.get("description", "")[:10_000],
            "kind": kind,
            "category": category,
            "channel": Channel.WEB.value,
            "reporter_name": form.get("reporter_name", "").strip()[:100],
            "reporter_phone": form.get("reporter_phone", "").strip()[:32],
            "configuration_item_id": int(system) if system.isdigit() else None,
        }
        created = ticket_service.create_ticket(db_session(), actor, fields)
        message = _("Request %(number)s filed.", number=created.ticket.number)
        return url_for("ticket_pages.show", ticket_id=created.ticket.id), message

    return once(step)
