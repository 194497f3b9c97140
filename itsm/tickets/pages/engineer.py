"""The engineer's phone: my assigned tickets and inspections, nearest due first, with the way
there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict

from flask import render_template

from itsm import clock
from itsm.inspections.models import Inspection
from itsm.inspections.services import inspections
from itsm.models.types import Role
from itsm.request_scope import current_actor, db_session
from itsm.sla.services import sla
from itsm.tickets.models import Ticket
from itsm.tickets.services import tickets as ticket_service
from itsm.web.common import area, signed_in
from workflows import inspection as inspection_workflow
from workflows.ticket import OPEN_STATES, RESOLVED

bp = area("engineer", __name__)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
INSPECTIONS_SHOWN = 100


class Card(TypedDict):
    """One assigned ticket on the page: its clocks and when the nearest open one is due."""

    ticket: Ticket
    clocks: list[sla.ClockView]
    due: datetime


@bp.get("/my")
@signed_in(Role.ENGINEER, Role.MANAGER, Role.ADMIN)
def my_work() -> Any:
    session, actor, now = db_session(), current_actor(), clock.now()
    flt = ticket_service.TicketFilter(
        state=tuple(sorted(OPEN_STATES | {RESOLVED})), assignee_id=actor.user_id
    )
    tickets, _total = ticket_service.list_tickets(session, actor, flt, 1, 100)
    cards: list[Card] = []
    for ticket in tickets:
        clocks = sla.clocks_of_ticket(session, ticket, now)
        due = min(
            (c.clock.due_at for c in clocks if c.clock.status in sla.OPEN and not c.clock.met_at),
            default=FAR_FUTURE,
        )
        cards.append({"ticket": ticket, "clocks": clocks, "due": due})
    cards.sort(key=lambda card: (card["ticket"].state == RESOLVED, card["due"]))
    return render_template(
        "web/my_work.html", cards=cards, inspection_cards=_inspection_cards(), now=now
    )


class InspectionCard(TypedDict):
    """One open inspection assigned to me: how much of its checklist is still to answer."""

    inspection: Inspection
    missing: int
    faults: int


def _inspection_cards() -> list[InspectionCard]:
    """The open inspections assigned to me, the window closing first first."""
    session, actor = db_session(), current_actor()
    flt = inspections.InspectionFilter(
        state=tuple(sorted(inspection_workflow.OPEN_STATES)), assignee_id=actor.user_id
    )
    found, _total = inspections.list_inspections(session, actor, flt, 1, INSPECTIONS_SHOWN)
    cards: list[InspectionCard] = []
    for inspection in sorted(found, key=lambda i: (i.due_at, i.id)):
        state = inspections.checklist_state(session, inspection)
        cards.append(
            {"inspection": inspection, "missing": len(state.missing), "faults": len(state.faults)}
        )
    return cards
