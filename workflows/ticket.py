"""The ticket workflow: from a logged call to a fix the customer has accepted.

new → acknowledged → in_progress (remote) or dispatched → en_route → on_site → restored
(workaround running) → resolved → closed; waiting_customer and back to where it paused;
reopen from resolved; cancel before work starts. While working remotely or on site the
engineer records where the fault lies (locate, with the diagnosis as its note): clocks that
count from the fault's location start then (C1-8: repaired within 8 hours 在故障定位以后).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.engine import ClockAction, ClockEffect, Guard, Transition, Workflow

NEW = "new"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
DISPATCHED = "dispatched"
EN_ROUTE = "en_route"
ON_SITE = "on_site"
RESTORED = "restored"
WAITING_CUSTOMER = "waiting_customer"
RESOLVED = "resolved"
CLOSED = "closed"
CANCELLED = "cancelled"

STATES = (
    NEW,
    ACKNOWLEDGED,
    IN_PROGRESS,
    DISPATCHED,
    EN_ROUTE,
    ON_SITE,
    RESTORED,
    WAITING_CUSTOMER,
    RESOLVED,
    CLOSED,
    CANCELLED,
)
OPEN_STATES = frozenset(STATES) - {RESOLVED, CLOSED, CANCELLED}
FINAL_STATES = frozenset({CLOSED, CANCELLED})
PAUSABLE_STATES = (ACKNOWLEDGED, IN_PROGRESS, DISPATCHED, ON_SITE, RESTORED)


@dataclass(frozen=True)
class TicketFacts:
    """What the guards may know about a ticket and the person acting on it."""

    actor_role: str
    has_assignee: bool = False
    note: str | None = None
    paused_from: str | None = None
    located: bool = False
    """The fault's location (the diagnosis) is recorded already."""


def _needs_assignee(facts: TicketFacts) -> str | None:
    return None if facts.has_assignee else "assign an engineer first"


def _needs_note(facts: TicketFacts) -> str | None:
    return None if facts.note and facts.note.strip() else "a resolution note is required"


def _needs_diagnosis(facts: TicketFacts) -> str | None:
    return None if facts.note and facts.note.strip() else "write the diagnosis as the note"


def _not_located(facts: TicketFacts) -> str | None:
    return "the fault is located already" if facts.located else None


def _paused_from(state: str) -> Guard[TicketFacts]:
    def guard(facts: TicketFacts) -> str | None:
        return None if facts.paused_from == state else f"was not paused from {state}"

    return guard


# Clocks (sla_rules' metrics) and what the steps do to them.
RESPONSE, ARRIVAL, RESTORE, RESOLUTION = "response", "arrival", "restore", "resolution"
PAUSED_BY_CUSTOMER = (ARRIVAL, RESTORE, RESOLUTION)


def _stops(*clocks: str, cause: str) -> ClockEffect:
    return ClockEffect(ClockAction.STOP, clocks, cause)


_ASSIGNS = ("assignee_id",)
_FILES = ("files",)
LOCATED = "located"
"""The clock start `locate` is (sla_rules' Start.LOCATED)."""
LOCATABLE_STATES = (IN_PROGRESS, ON_SITE)

TRANSITIONS = (
    Transition(
        "acknowledge",
        (NEW,),
        ACKNOWLEDGED,
        inputs=_ASSIGNS,
        clocks=(_stops(RESPONSE, cause="acknowledge by the engineer"),),
        sets=("engineer_takes_it",),
    ),
    Transition(
        "start_remote",
        (NEW, ACKNOWLEDGED),
        IN_PROGRESS,
        inputs=_ASSIGNS,
        clocks=(_stops(RESPONSE, cause="start_remote by the engineer"),),
        sets=("engineer_takes_it",),
    ),
    Transition(
        "dispatch",
        (NEW, ACKNOWLEDGED, IN_PROGRESS),
        DISPATCHED,
        ("assignee",),
        inputs=_ASSIGNS,
        clocks=(
            _stops(RESPONSE, cause="dispatch by the engineer"),
            ClockEffect(ClockAction.START, (ARRIVAL,), "dispatched on site", "dispatched"),
        ),
        emits="ticket_dispatched",
    ),
    Transition("depart", (DISPATCHED,), EN_ROUTE, ("assignee",)),
    Transition(
        "arrive",
        (DISPATCHED, EN_ROUTE),
        ON_SITE,
        ("assignee",),
        inputs=("position",),
        clocks=(_stops(RESPONSE, ARRIVAL, cause="arrive by the engineer"),),
    ),
    *(
        Transition(
            "locate",
            (state,),
            state,
            ("diagnosis", "not_located"),
            inputs=("note", *_FILES),
            clocks=(
                ClockEffect(ClockAction.START, (RESTORE, RESOLUTION), "fault located", LOCATED),
            ),
            sets=("record_location",),
        )
        for state in LOCATABLE_STATES
    ),
    Transition(
        "restore",
        (IN_PROGRESS, ON_SITE),
        RESTORED,
        inputs=_FILES,
        clocks=(_stops(RESPONSE, RESTORE, cause="restore by the engineer"),),
    ),
    Transition(
        "resolve",
        (IN_PROGRESS, ON_SITE, RESTORED),
        RESOLVED,
        ("note",),
        inputs=_FILES,
        clocks=(_stops(RESPONSE, RESTORE, RESOLUTION, cause="resolved"),),
        sets=("record_resolution",),
        emits="ticket_resolved",
    ),
    Transition(
        "wait_customer",
        PAUSABLE_STATES,
        WAITING_CUSTOMER,
        clocks=(ClockEffect(ClockAction.PAUSE, PAUSED_BY_CUSTOMER, "waiting for the customer"),),
        sets=("remember_paused_from",),
    ),
    *(
        Transition(
            "resume",
            (WAITING_CUSTOMER,),
            state,
            when=f"paused_from_{state}",
            clocks=(
                ClockEffect(
                    ClockAction.RESUME, PAUSED_BY_CUSTOMER, "the customer answered; work resumed"
                ),
            ),
            sets=("forget_paused_from",),
        )
        for state in PAUSABLE_STATES
    ),
    Transition(
        "reopen",
        (RESOLVED,),
        IN_PROGRESS,
        clocks=(ClockEffect(ClockAction.REOPEN, (RESOLUTION,), "ticket reopened"),),
        sets=("count_reopen",),
    ),
    Transition("close", (RESOLVED,), CLOSED, sets=("record_closed",)),
    Transition(
        "cancel",
        (NEW, ACKNOWLEDGED),
        CANCELLED,
        clocks=(ClockEffect(ClockAction.CANCEL, (), "ticket cancelled"),),
        sets=("record_closed",),
    ),
)

_STAFF = frozenset({"agent", "manager", "admin"})
_WORKERS = _STAFF | {"engineer"}
ROLES = {
    "acknowledge": _WORKERS,
    "start_remote": _WORKERS,
    "dispatch": _WORKERS,
    "depart": _WORKERS,
    "arrive": _WORKERS,
    "locate": _WORKERS,
    "restore": _WORKERS,
    "resolve": _WORKERS,
    "wait_customer": _WORKERS,
    "resume": _WORKERS | {"requester"},
    # Only the requester's institution, or an agent on its behalf, accepts or rejects a fix.
    "reopen": _STAFF | {"requester"},
    "close": _STAFF | {"requester"},
    "cancel": _STAFF | {"requester"},
}

WORKFLOW: Workflow[TicketFacts] = Workflow(
    "ticket",
    STATES,
    TRANSITIONS,
    guards={
        "assignee": _needs_assignee,
        "note": _needs_note,
        "diagnosis": _needs_diagnosis,
        "not_located": _not_located,
        **{f"paused_from_{s}": _paused_from(s) for s in PAUSABLE_STATES},
    },
    roles=ROLES,
    role_of=lambda facts: facts.actor_role,
)
