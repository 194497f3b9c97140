"""The hotline console: find the caller's institution as you type, log the call, watch the queue."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _

from itsm import clock
from itsm.directory.models import Institution
from itsm.directory.services import directory
from itsm.errors import CallTimeOutOfRange, InvalidInput, NotFound
from itsm.models.types import Category, Channel, Priority, TicketKind
from itsm.request_scope import current_actor, db_session
from itsm.sla.services import sla
from itsm.tickets.pages.forms import CallForm, ConsoleArgs
from itsm.tickets.services import tickets as ticket_service
from itsm.web import forms
from itsm.web.common import STAFF, area, new_form_token, once, signed_in
from itsm.web.forms import FormRefused
from workflows.ticket import OPEN_STATES

bp = area("hotline", __name__)

SEARCH_RESULTS = 8
QUEUE_LENGTH = 50


def _timezone() -> str:
    return str(current_app.config["ITSM_SETTINGS"].timezone)


@bp.get("/hotline")
@signed_in(*STAFF)
def console() -> Any:
    try:
        args = forms.read(ConsoleArgs(), request.args)
    except FormRefused as refused:
        return _console(request.args.get("q", ""), search_problem=refused.message, status=422)
    chosen = None
    if args["institution_id"] is not None:
        chosen = directory.get_institution(db_session(), current_actor(), args["institution_id"])
    return _console(args["q"], chosen)


def _console(
    q: str,
    chosen: Institution | None = None,
    typed: Mapping[str, str] | None = None,
    problem: str | None = None,
    search_problem: str | None = None,
    status: int = 200,
) -> Any:
    """The console: the search for `q`, the call form for the `chosen` institution (with what
    was typed, if it comes back refused for `problem`), the queue."""
    session, actor = db_session(), current_actor()
    items, _total = directory.list_configuration_items(session, actor, None, None, 1, 500)
    now = clock.now()
    page = render_template(
        "web/hotline.html",
        q=q,
        results=_search(q) if q and not search_problem else None,
        search_problem=search_problem,
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
        typed=typed or {},
        problem=problem,
    )
    return page, status


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
    try:
        q = forms.read(ConsoleArgs(), request.args)["q"]
    except FormRefused as refused:
        page = render_template(
            "web/_search_results.html", q="", results=None, search_problem=refused.message
        )
        return page, 422
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


@bp.post("/hotline/calls")
@signed_in(*STAFF)
def log_call() -> Any:
    """Log a call as a ticket, once per form; the ticket page shows the number to read out."""

    def step() -> tuple[str, str]:
        fields = forms.read(CallForm(_timezone()), request.form)
        fields["channel"] = Channel.PHONE.value
        max_backdate = current_app.config["ITSM_SETTINGS"].max_backdate
        created = ticket_service.create_ticket(
            db_session(), current_actor(), fields, max_backdate=max_backdate
        )
        number = created.ticket.number
        message = _("Ticket %(number)s logged: read the number to the caller.", number=number)
        return url_for("ticket_pages.show", ticket_id=created.ticket.id), message

    return once(step, _call_refused)


def _call_refused(error: InvalidInput) -> Any:
    """The console again, the call form as it was sent, saying what is wrong."""
    institution = None
    try:
        institution_id = forms.read(ConsoleArgs(), request.form)["institution_id"]
        if institution_id is not None:
            institution = directory.get_institution(db_session(), current_actor(), institution_id)
    except (FormRefused, NotFound):
        pass  # not one to show: the agent finds it again
    return _console(
        "",
        institution,
        typed=request.form,
        problem=_call_time_problem(error)
        if isinstance(error, CallTimeOutOfRange)
        else error.message,
        status=error.status,
    )


def _call_time_problem(error: CallTimeOutOfRange) -> str:
    if error.too_early:
        return str(
            _(
                "Call started: give a time within the last %(hours)d hours; "
                "an administrator records older calls.",
                hours=error.max_backdate_hours,
            )
        )
    return str(_("Call started: the call cannot have started in the future."))
