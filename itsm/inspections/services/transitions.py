"""Moving an inspection through its workflow, on the one fire path every workflow takes; and
how its steps and its window's warning are told."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm import workflow_runner
from itsm.accounts.services.access import Actor
from itsm.errors import TransitionRefused
from itsm.inspections.models import INSPECTION, Inspection
from itsm.inspections.services import inspections
from itsm.models.types import Role
from itsm.notify.services import notices
from itsm.sla.models import Clock
from itsm.sla.services import deadlines
from itsm.tickets.services.tickets import check_assignee
from itsm.workflow_runner import Step
from workflows import inspection as wf
from workflows.engine import SYSTEM_ROLE, ClockEffect


def facts_for(
    inspection: Inspection, actor: Actor | None, note: str | None = None, complete: bool = False
) -> wf.InspectionFacts:
    return wf.InspectionFacts(
        actor_role=str(actor.role) if actor else SYSTEM_ROLE,
        is_assignee=actor is not None and actor.user_id == inspection.assignee_id,
        has_assignee=inspection.assignee_id is not None,
        checklist_complete=complete,
        note=note,
    )


def allowed_triggers(session: Session, inspection: Inspection, actor: Actor) -> list[str]:
    """What this actor may do to the inspection now (the buttons a page shows)."""
    complete = inspections.checklist_state(session, inspection).complete
    facts = facts_for(inspection, actor, note="(any)", complete=complete)
    allowed = wf.WORKFLOW.allowed(inspection.state, facts)
    # A step that takes an engineer is offered with one to choose, before one is chosen.
    with_engineer = wf.WORKFLOW.allowed(inspection.state, replace(facts, has_assignee=True))
    for trigger in wf.WORKFLOW.triggers:
        if wf.WORKFLOW.takes(trigger, "assignee_id") and trigger in with_engineer:
            if trigger not in allowed:
                allowed.insert(0, trigger)
    return allowed


def fire(
    session: Session,
    actor: Actor,
    inspection_id: int,
    expected_version: int,
    trigger: str,
    note: str | None = None,
    assignee_id: int | None = None,
    position: Mapping[str, float | None] | None = None,
) -> Inspection:
    """Fire `trigger` for `actor`; refused (409) with the reason and what may fire now."""
    inputs = {"assignee_id": assignee_id, "position": position}
    return workflow_runner.fire(
        session, KIND, actor, inspection_id, expected_version, trigger, note, inputs
    )


def _facts(inspection: Inspection, actor: Actor | None, note: str | None) -> wf.InspectionFacts:
    session = Session.object_session(inspection)
    assert session is not None
    complete = inspections.checklist_state(session, inspection).complete
    return facts_for(inspection, actor, note, complete)


def _prepare(
    session: Session,
    inspection: Inspection,
    actor: Actor | None,
    trigger: str,
    inputs: Mapping[str, Any],
    data: dict[str, Any],
) -> None:
    """An assignee given with `assign` (checked against the contract); the device's position
    with `start` (its distance from the site, or that the engineer refused to share it)."""
    assignee_id = inputs.get("assignee_id")
    if assignee_id is not None and assignee_id != inspection.assignee_id:
        if not wf.WORKFLOW.takes(trigger, "assignee_id"):
            raise TransitionRefused(
                f"an engineer is given with assign, not with {trigger}",
                allowed=[],
            )
        check_assignee(session, inspection.contract_id, assignee_id)
        data["assignee"] = [inspection.assignee_id, assignee_id]
        inspection.assignee_id = assignee_id
    if wf.WORKFLOW.takes(trigger, "position") and inspection.mode == "on_site":
        position = inputs.get("position")
        if not position:
            data.update(position=None, location_refused=True)
            return
        latitude, longitude = float(position["latitude"] or 0), float(position["longitude"] or 0)
        data["position"] = dict(position)
        data["location_refused"] = False
        distance = inspections.distance_to_site(inspection, latitude, longitude)
        if distance is not None:
            data["distance_m"] = distance
        inspection.position = {**data["position"], "distance_m": distance}


def _record(session: Session, inspection: Inspection, step: Step) -> None:
    inspections.record(
        session,
        inspection,
        step.actor,
        "transition",
        step.now,
        trigger=step.trigger,
        from_state=step.source,
        to_state=step.target,
        note=step.note,
        data=step.data,
    )


def _apply_clocks(
    session: Session, inspection: Inspection, effects: tuple[ClockEffect, ...], now: datetime
) -> None:
    deadlines.apply_effects(session, INSPECTION, inspection.id, effects, now, lambda name, at: None)


def _engineer_takes_it(inspection: Inspection, step: Step) -> None:
    if step.actor and step.actor.role == Role.ENGINEER and inspection.assignee_id is None:
        step.data["assignee"] = [None, step.actor.user_id]
        inspection.assignee_id = step.actor.user_id


def _record_started(inspection: Inspection, step: Step) -> None:
    _engineer_takes_it(inspection, step)
    if inspection.started_at is None:
        inspection.started_at = step.now


def _record_submitted(inspection: Inspection, step: Step) -> None:
    inspection.submitted_at = step.now


def _clear_submitted(inspection: Inspection, step: Step) -> None:
    inspection.submitted_at = None


def _record_accepted(inspection: Inspection, step: Step) -> None:
    inspection.accepted_at = step.now


def _record_missed(inspection: Inspection, step: Step) -> None:
    inspection.missed_at = step.now


def _after(session: Session, inspection: Inspection, step: Step) -> None:
    """Word to a new assignee given outside `assign` (whose own event tells them)."""
    actor_id = step.actor.user_id if step.actor else None
    if "assignee" in step.data and step.transition.emits is None:
        if inspection.assignee_id != actor_id:
            _emit(session, inspection, "inspection_assigned", step.now)


# --- notices ------------------------------------------------------------------------------


def about(inspection: Inspection) -> notices.NoticeSubject:
    """An inspection as notifications see it: its contract, its facts, its engineer."""

    def context(clock_row: Clock | None) -> dict[str, Any]:
        zone = ZoneInfo(inspection.contract.timezone)
        site = inspection.institution.name if inspection.institution else inspection.contract.name
        return {
            "number": inspection.number,
            "institution": site,
            "title": inspection.title,
            "priority": "",
            "state": inspection.state,
            "engineer": inspection.assignee.display_name if inspection.assignee else "",
            "contract": inspection.contract.code,
            "clock": "",
            "due_at": inspection.due_at.astimezone(zone).strftime("%m-%d %H:%M"),
        }

    def own(session: Session, audience: str) -> list[notices.Recipient] | None:
        if audience != "assignee":
            return None
        if inspection.assignee is None:
            reason = notices.SKIP_REASONS["no_assignee"]
            return [notices.Recipient(audience, "-", "", None, reason)]
        return [notices.person(audience, inspection.assignee)]

    return notices.NoticeSubject(INSPECTION, inspection.id, inspection.contract, context, own)


def _emit(session: Session, inspection: Inspection, event: str, now: datetime) -> None:
    cause = f"{event}:i{inspection.id}:v{inspection.version}"
    notices.emit(session, event, about(inspection), now, cause)


def _subjects(session: Session, ids: set[int]) -> dict[int, notices.NoticeSubject]:
    found = session.scalars(select(Inspection).where(Inspection.id.in_(ids)))
    return {inspection.id: about(inspection) for inspection in found}


KIND: workflow_runner.SubjectKind[Inspection, wf.InspectionFacts] = workflow_runner.register(
    workflow_runner.SubjectKind(
        name=INSPECTION,
        model=Inspection,
        workflow=wf.WORKFLOW,
        load=inspections.load,
        facts=_facts,
        title=lambda inspection: f"inspection {inspection.number}",
        record_event=_record,
        apply_clocks=_apply_clocks,
        emit=_emit,
        field_changes={
            "record_started": _record_started,
            "record_submitted": _record_submitted,
            "clear_submitted": _clear_submitted,
            "record_accepted": _record_accepted,
            "record_missed": _record_missed,
        },
        prepare=_prepare,
        after=_after,
    )
)
"""The inspection workflow on the one fire path; its window's passing fires `miss`."""

notices.register_clock_notices(
    INSPECTION, notices.ClockNotices(_subjects, warning="inspection_due_soon", breach=None)
)
"""The window's warning tells the engineer and the supervisor; its passing fires `miss`,
whose own event tells them it was missed."""
