"""The hotline console: find the caller's institution as you type, log the call, watch the queue."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _

from itsm import clock
from itsm.directory.services import directory
from itsm.errors import InvalidInput
from itsm.models.types import Category, Channel, Priority, TicketKind
from itsm.request_scope import current_actor, db_session
from itsm.sla.services import sla
from itsm.tickets.services import tickets as ticket_service
from itsm.web.common import STAFF, area, new_form_token, once, signed_in
from workflows.ticket import OPEN_STATES

bp = area("hotline", __name__)

SEARCH_RESULTS = 8
QUEUE_LENGTH = 50


def _timezone() -> str:
    return str(current_app.config["ITSM_SETTINGS"].timezone)


@bp.get("/hotline")
@signed_in(*STAFF)
def console() -> Any:
    session, actor = db_session(), current_actor()
    q = request.args.get("q", "").strip()[:100]
    chosen = None
    if request.args.get("institution_id", "").isdigit():
        chosen = directory.get_institution(session, actor, int(request.args["institution_id"]))
    items, _total = directory.list_configuration_items(session, actor, None, None, 1, 500)
    now = clock.now()
    return render_template(
        "web/hotline.html",
        q=q,
        results=_search(q) if q else None,
        chosen=chosen,
        systems=items,
        started=now.astimezone(ZoneInfo(_timezone())).strftime("%Y-%m-%dT%H:%M"),
        timezone=_timezone(),
        phone=q if _looks_like_phone(q) else "",
        queue=_queue(),
        now=now,
        form_token=new_form_token(),
        kinds=list(TicketKind),
        priorities=list(Priority),
        categories=list(Category),
    )


def _looks_like_phone(q: str) -> bool:
    return bool(re.fullmatch(r"[\d\s()+-]{4,}", q))


def _search(q: str) -> list[tuple[Any, list[Any]]]:
    session, actor = db_session(), current_actor()
    institutions, _total = directory.list_institutions(
        session, actor, q, None, None, None, 1, SEARCH_RESULTS
    )
    found = []
    for institution in institutions:
        flt = ticket_service.TicketFilter(
            state=tuple(sorted(OPEN_STATES)), institution_id=institution.id
        )
        open_tickets, _count = ticket_service.list_tickets(session, actor, flt, 1, 5)
        found.append((institution, open_tickets))
    return found


@bp.get("/hotline/search")
@signed_in(*STAFF)
def search() -> Any:
    """The institutions matching what the agent typed, with their open tickets (a fragment)."""
    q = request.args.get("q", "").strip()[:100]
    return render_template("web/_search_results.html", q=q, results=_search(q) if q else None)


def _queue() -> list[dict[str, Any]]:
    """Open tickets of the agent's contracts, nearest SLA due time first, one row a ticket."""
    session, actor, now = db_session(), current_actor(), clock.now()
    rows, seen = [], set()
    for clock_row, ticket in sla.board(session, actor, None, None, now, QUEUE_LENGTH * 4):
        if ticket.id in seen:
            continue
        seen.add(ticket.id)
        rows.append({"ticket": ticket, "clock": sla.view(session, clock_row, now)})
        if len(rows) == QUEUE_LENGTH:
            break
    return rows


@bp.get("/hotline/queue")
@signed_in(*STAFF)
def queue() -> Any:
    """The live queue alone, for the console to swap in without touching the agent's typing."""
    return render_template("web/_queue.html", queue=_queue(), now=clock.now())


def _reported_at(value: str) -> datetime | None:
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("The call's start time is not a date and time.")) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(_timezone()))


def _choice(name: str, allowed: type[Any], default: str) -> str:
    value = request.form.get(name) or default
    if value not in {m.value for m in allowed}:
        raise InvalidInput(_("Choose a value for %(field)s from the list.", field=name))
    return value


@bp.post("/hotline/calls")
@signed_in(*STAFF)
def log_call() -> Any:
    """Log a call as a ticket, once per form; the ticket page shows the number to read out."""
    form = request.form

    def step() -> tuple[str, str]:
        if not form.get("institution_id", "").isdigit():
            raise InvalidInput(_("Find and choose the caller's institution first."))
        title = form.get("title", "").strip()
        if not title:
            raise InvalidInput(_("Say in a few words what the caller reports."))
        system = form.get("configuration_item_id", "")
        fields = {
            "institution_id": int(form["institution_id"]),
            "title": title[:200],
            "description": form.get("description", "")[:10_000],
            "kind": _choice("kind", TicketKind, "incident"),
            "priority": _choice("priority", Priority, "P3"),
            "category": _choice("category", Category, "other"),
            "channel": Channel.PHONE.value,
            "reporter_name": form.get("reporter_name", "").strip()[:100],
            "reporter_phone": form.get("reporter_phone", "").strip()[:32],
            "onsite_required": form.get("onsite_required") == "on",
            "configuration_item_id": int(system) if system.isdigit() else None,
            "reported_at": _reported_at(form.get("reported_at", "")),
        }
        created = ticket_service.create_ticket(db_session(), current_actor(), fields)
        number = created.ticket.number
        message = _("Ticket %(number)s logged: read the number to the caller.", number=number)
        return url_for("ticket_pages.show", ticket_id=created.ticket.id), message

    return once(step)
