"""Moving a ticket through its workflow: the only way its state changes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from itsm import workflow_runner
from itsm.accounts.services.access import Actor
from itsm.errors import NotFound, TransitionRefused
from itsm.models.types import Role
from itsm.notify.services import notices
from itsm.sla.models import TICKET
from itsm.sla.services import sla
from itsm.tickets.models import Ticket
from itsm.tickets.services.tickets import (
    check_assignee,
    get_ticket,
    record_event,
    refresh_references,
)
from itsm.workflow_runner import Step
from workflows import ticket as wf
from workflows.engine import SYSTEM_ROLE


@dataclass(frozen=True)
class Position:
    """Where the engineer's device says it is at check-in (WGS 84)."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None


def facts_for(ticket: Ticket, actor: Actor | None, note: str | None = None) -> wf.TicketFacts:
    return wf.TicketFacts(
        actor_role=str(actor.role) if actor else SYSTEM_ROLE,
        has_assignee=ticket.assignee_id is not None,
        note=note,
        paused_from=ticket.paused_from,
        located=ticket.located_at is not None,
    )


def allowed_triggers(ticket: Ticket, actor: Actor) -> list[str]:
    """What this actor may do to the ticket now (the buttons a page shows)."""
    return wf.WORKFLOW.allowed(ticket.state, facts_for(ticket, actor, note="(any)"))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _arrival_data(ticket: Ticket, position: Position | None) -> dict[str, Any]:
    if position is None:
        return {"position": None, "location_refused": True}
    data: dict[str, Any] = {
        "position": {
            "latitude": position.latitude,
            "longitude": position.longitude,
            "accuracy_m": position.accuracy_m,
        },
        "location_refused": False,
    }
    inst = ticket.institution
    if inst.latitude is not None and inst.longitude is not None:
        data["distance_m"] = round(
            distance_m(position.latitude, position.longitude, inst.latitude, inst.longitude)
        )
    return data


def fire(
    session: Session,
    actor: Actor,
    ticket_id: int,
    expected_version: int,
    trigger: str,
    note: str | None = None,
    assignee_id: int | None = None,
    position: Position | None = None,
) -> Ticket:
    """Fire `trigger` on the ticket for `actor`, recording the event; refused with a reason."""
    inputs = {"assignee_id": assignee_id, "position": position}
    return workflow_runner.fire(
        session, KIND, actor, ticket_id, expected_version, trigger, note, inputs
    )


def _load(session: Session, actor: Actor | None, ticket_id: int) -> Ticket:
    if actor is not None:
        return get_ticket(session, actor, ticket_id)
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def _prepare(
    session: Session,
    ticket: Ticket,
    actor: Actor | None,
    trigger: str,
    inputs: Mapping[str, Any],
    data: dict[str, Any],
) -> None:
    """An assignee given with a step that takes one (checked against the contract), and the
    device's position with a step that records it."""
    assignee_id = inputs.get("assignee_id")
    if assignee_id is not None and assignee_id != ticket.assignee_id:
        if not wf.WORKFLOW.takes(trigger, "assignee_id"):
            takers = [t for t in wf.WORKFLOW.triggers if wf.WORKFLOW.takes(t, "assignee_id")]
            raise TransitionRefused(
                f"an assignee can be given only with {', '.join(takers[:-1])} or {takers[-1]}, "
                f"not with {trigger}",
                allowed=allowed_triggers(ticket, actor) if actor else [],
            )
        check_assignee(session, ticket.contract_id, assignee_id)
        data["assignee"] = [ticket.assignee_id, assignee_id]
        ticket.assignee_id = assignee_id
    if wf.WORKFLOW.takes(trigger, "position"):
        data.update(_arrival_data(ticket, inputs.get("position")))


def _record(session: Session, ticket: Ticket, step: Step) -> None:
    record_event(
        session,
        ticket,
        step.actor,
        "transition",
        at=step.now,
        trigger=step.trigger,
        from_state=step.source,
        to_state=step.target,
        note=step.note,
        data=step.data,
    )


def _after(session: Session, ticket: Ticket, step: Step) -> None:
    """A new assignee's references, and word to them unless the step's own event tells them."""
    if "assignee" in step.data:
        refresh_references(session, ticket)
        actor_id = step.actor.user_id if step.actor else None
        if step.transition.emits is None and ticket.assignee_id != actor_id:
            notices.on_assigned(session, ticket, step.now)


def _engineer_takes_it(ticket: Ticket, step: Step) -> None:
    """An engineer who takes an unassigned ticket owns it."""
    if ticket.assignee_id is None and step.actor and step.actor.role == Role.ENGINEER:
        step.data["assignee"] = [None, step.actor.user_id]
        ticket.assignee_id = step.actor.user_id


def _remember_paused_from(ticket: Ticket, step: Step) -> None:
    ticket.paused_from = step.source


def _forget_paused_from(ticket: Ticket, step: Step) -> None:
    ticket.paused_from = None


def _record_location(ticket: Ticket, step: Step) -> None:
    """Where the fault lies, and when that was known (clocks counting from it start now)."""
    ticket.located_at = step.now
    ticket.diagnosis = step.note


def _record_resolution(ticket: Ticket, step: Step) -> None:
    ticket.resolution = step.note
    ticket.resolved_at = step.now


def _count_reopen(ticket: Ticket, step: Step) -> None:
    ticket.reopen_count += 1
    ticket.resolved_at = None


def _record_closed(ticket: Ticket, step: Step) -> None:
    ticket.closed_at = step.now


KIND: workflow_runner.SubjectKind[Ticket, wf.TicketFacts] = workflow_runner.SubjectKind(
    name=TICKET,
    model=Ticket,
    workflow=wf.WORKFLOW,
    load=_load,
    facts=facts_for,
    title=lambda ticket: f"ticket {ticket.number}",
    record_event=_record,
    apply_clocks=sla.apply_clock_effects,
    emit=notices.on_step,
    field_changes={
        "engineer_takes_it": _engineer_takes_it,
        "remember_paused_from": _remember_paused_from,
        "forget_paused_from": _forget_paused_from,
        "record_location": _record_location,
        "record_resolution": _record_resolution,
        "count_reopen": _count_reopen,
        "record_closed": _record_closed,
    },
    prepare=_prepare,
    after=_after,
)
"""The ticket workflow on the one fire path; the ticket's own field changes are named in
its transitions' `sets`."""
