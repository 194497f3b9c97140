"""The inspection workflow: a planned occurrence of a contract's inspection obligation.

planned → assigned → in_progress → submitted → accepted; `return` (by the customer, or a
manager for them) sends a submitted inspection back to in_progress; a manager may `cancel`
one not yet submitted, with a reason; and when the window ends before submission the system
fires `miss` (the `window` deadline of the planned, assigned and in-progress states).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.engine import ClockAction, ClockEffect, State, Transition, Workflow

PLANNED = "planned"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
ACCEPTED = "accepted"
CANCELLED = "cancelled"
MISSED = "missed"

WINDOW = "window"
"""The deadline: the end of the occurrence's last working day, warned the morning of it."""

STATES = (PLANNED, ASSIGNED, IN_PROGRESS, SUBMITTED, ACCEPTED, CANCELLED, MISSED)
OPEN_STATES = frozenset({PLANNED, ASSIGNED, IN_PROGRESS})
DONE_STATES = frozenset({SUBMITTED, ACCEPTED})
"""What the obligations ledger counts as done."""
FINAL_STATES = frozenset({ACCEPTED, CANCELLED, MISSED})


@dataclass(frozen=True)
class InspectionFacts:
    """What the guards may know about an inspection and the person acting on it."""

    actor_role: str
    is_assignee: bool = False
    has_assignee: bool = False
    checklist_complete: bool = False
    note: str | None = None


def _needs_assignee(facts: InspectionFacts) -> str | None:
    return None if facts.has_assignee else "assign an engineer first"


def _assignee_or_staff(facts: InspectionFacts) -> str | None:
    if facts.actor_role != "engineer" or facts.is_assignee:
        return None
    return "only the assigned engineer may do this"


def _checklist_complete(facts: InspectionFacts) -> str | None:
    return None if facts.checklist_complete else "answer every required checklist item first"


def _needs_note(facts: InspectionFacts) -> str | None:
    return None if facts.note and facts.note.strip() else "say why (a note is required)"


_MEETS = (ClockEffect(ClockAction.STOP, (WINDOW,), "submitted"),)
_CANCELS = (ClockEffect(ClockAction.CANCEL, (WINDOW,), "inspection cancelled"),)
_WORKING = (ASSIGNED, IN_PROGRESS)

TRANSITIONS = (
    Transition(
        "assign",
        (PLANNED, ASSIGNED, IN_PROGRESS),
        ASSIGNED,
        inputs=("assignee_id",),
        guards=("needs_assignee",),
        emits="inspection_assigned",
    ),
    Transition(
        "start",
        _WORKING,
        IN_PROGRESS,
        inputs=("position",),
        guards=("needs_assignee", "assignee_or_staff"),
        sets=("record_started",),
    ),
    Transition(
        "submit",
        (IN_PROGRESS,),
        SUBMITTED,
        guards=("assignee_or_staff", "checklist_complete"),
        clocks=_MEETS,
        sets=("record_submitted",),
    ),
    Transition("accept", (SUBMITTED,), ACCEPTED, sets=("record_accepted",)),
    Transition(
        "return",
        (SUBMITTED,),
        IN_PROGRESS,
        guards=("needs_note",),
        sets=("clear_submitted",),
        emits="inspection_returned",
    ),
    Transition(
        "cancel",
        (PLANNED, ASSIGNED, IN_PROGRESS),
        CANCELLED,
        guards=("needs_note",),
        clocks=_CANCELS,
    ),
    Transition(
        "miss",
        (PLANNED, ASSIGNED, IN_PROGRESS),
        MISSED,
        sets=("record_missed",),
        emits="inspection_missed",
        system=True,
    ),
)

_STAFF = frozenset({"agent", "manager", "admin"})
_MANAGERS = frozenset({"manager", "admin"})

WORKFLOW: Workflow[InspectionFacts] = Workflow(
    "inspection",
    [
        State(PLANNED, deadline=WINDOW, on_deadline="miss"),
        State(ASSIGNED, deadline=WINDOW, on_deadline="miss"),
        State(IN_PROGRESS, deadline=WINDOW, on_deadline="miss"),
        SUBMITTED,
        ACCEPTED,
        CANCELLED,
        MISSED,
    ],
    TRANSITIONS,
    guards={
        "needs_assignee": _needs_assignee,
        "assignee_or_staff": _assignee_or_staff,
        "checklist_complete": _checklist_complete,
        "needs_note": _needs_note,
    },
    roles={
        "assign": _STAFF,
        "start": frozenset({"engineer"}) | _STAFF,
        "submit": frozenset({"engineer"}) | _STAFF,
        "accept": frozenset({"requester"}) | _MANAGERS,
        "return": frozenset({"requester"}) | _MANAGERS,
        "cancel": _MANAGERS,
        "miss": frozenset(),
    },
    role_of=lambda facts: facts.actor_role,
)
