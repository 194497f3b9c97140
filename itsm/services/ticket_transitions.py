"""Moving a ticket through its workflow: the only way its state changes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from itsm import clock
from itsm.errors import TransitionRefused
from itsm.models import Role, Ticket
from itsm.services import notices, sla
from itsm.services.access import Actor
from itsm.services.tickets import (
    check_assignee,
    check_version,
    get_ticket,
    record_event,
    refresh_references,
)
from workflows import ticket as wf
from workflows.errors import TriggerRefused


@dataclass(frozen=True)
class Position:
    """Where the engineer's device says it is at check-in (WGS 84)."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None


def facts_for(ticket: Ticket, actor: Actor, note: str | None = None) -> wf.TicketFacts:
    return wf.TicketFacts(
        actor_role=str(actor.role),
        has_assignee=ticket.assignee_id is not None,
        note=note,
        paused_from=ticket.paused_from,
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
    ticket = get_ticket(session, actor, ticket_id)
    check_version(ticket, expected_version)
    now = clock.now()
    data: dict[str, Any] = {}
    if assignee_id is not None and assignee_id != ticket.assignee_id:
        if not wf.WORKFLOW.takes(trigger, "assignee_id"):
            takers = [t for t in wf.WORKFLOW.triggers if wf.WORKFLOW.takes(t, "assignee_id")]
            raise TransitionRefused(
                f"an assignee can be given only with {', '.join(takers[:-1])} or {takers[-1]}, "
                f"not with {trigger}",
                allowed=allowed_triggers(ticket, actor),
            )
        check_assignee(session, ticket.contract_id, assignee_id)
        data["assignee"] = [ticket.assignee_id, assignee_id]
        ticket.assignee_id = assignee_id
    source = ticket.state
    try:
        target = wf.WORKFLOW.fire(source, trigger, facts_for(ticket, actor, note))
    except TriggerRefused as refused:
        raise TransitionRefused(
            f"cannot {trigger} ticket {ticket.number}: {refused.reason}",
            allowed=refused.allowed,
            state=source,
        ) from None
    step = wf.WORKFLOW.transition(source, trigger, target)
    for change in step.sets:
        _FIELD_CHANGES[change](ticket, actor, source, note, now, data)
    if "position" in step.inputs:
        data.update(_arrival_data(ticket, position))
    ticket.state = target
    ticket.updated_at = now
    record_event(
        session,
        ticket,
        actor,
        "transition",
        at=now,
        trigger=trigger,
        from_state=source,
        to_state=target,
        note=note,
        data=data,
    )
    session.flush()
    sla.apply_clock_effects(session, ticket, step.clocks, now)
    if "assignee" in data:
        refresh_references(session, ticket)
        if step.emits is None and ticket.assignee_id != actor.user_id:
            notices.on_assigned(session, ticket, now)  # a step that emits tells the assignee
    if step.emits:
        notices.on_step(session, ticket, step.emits, now)
    return ticket


FieldChange = Callable[[Ticket, Actor, str, str | None, datetime, dict[str, Any]], None]


def _engineer_takes_it(
    ticket: Ticket, actor: Actor, source: str, note: str | None, now: datetime, data: dict[str, Any]
) -> None:
    """An engineer who takes an unassigned ticket owns it."""
    if ticket.assignee_id is None and actor.role == Role.ENGINEER:
        data["assignee"] = [None, actor.user_id]
        ticket.assignee_id = actor.user_id


def _remember_paused_from(
    ticket: Ticket, actor: Actor, source: str, note: str | None, now: datetime, data: dict[str, Any]
) -> None:
    ticket.paused_from = source


def _forget_paused_from(
    ticket: Ticket, actor: Actor, source: str, note: str | None, now: datetime, data: dict[str, Any]
) -> None:
    ticket.paused_from = None


def _record_resolution(
    ticket: Ticket, actor: Actor, source: str, note: str | None, now: datetime, data: dict[str, Any]
) -> None:
    ticket.resolution = note
    ticket.resolved_at = now


def _count_reopen(
    ticket: Ticket, actor: Actor, source: str, note: str | None, now: datetime, data: dict[str, Any]
) -> None:
    ticket.reopen_count += 1
    ticket.resolved_at = None


def _record_closed(
    ticket: Ticket, actor: Actor, source: str, note: str | None, now: datetime, data: dict[str, Any]
) -> None:
    ticket.closed_at = now


_FIELD_CHANGES: dict[str, FieldChange] = {
    "engineer_takes_it": _engineer_takes_it,
    "remember_paused_from": _remember_paused_from,
    "forget_paused_from": _forget_paused_from,
    "record_resolution": _record_resolution,
    "count_reopen": _count_reopen,
    "record_closed": _record_closed,
}
"""The ticket's own field changes that the workflow's transitions name in `sets`."""
_undeclared = {c for t in wf.WORKFLOW.transitions for c in t.sets} - set(_FIELD_CHANGES)
if _undeclared:
    raise RuntimeError(f"ticket workflow names field changes with no function: {_undeclared}")
