"""A workflow declared as data and run by `transitions`, one machine per workflow.

A record is bound to the machine only for the duration of one question ("what may fire?")
or one firing, with its persisted state as `initial`; guards read plain facts and give the
reason they refuse, so a caller can tell a person why a button is not there.

Each transition also says, as data, what firing it does beyond the state: the inputs it
takes, the clocks it starts, stops, pauses, resumes or cancels, the subject's own field
changes, the event it emits for notifications, and whether the system may fire it when a
deadline passes. `itsm`'s one fire path carries these out; no trigger name is written there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from transitions import EventData, Machine, MachineError

from workflows.errors import TriggerRefused

F = TypeVar("F")

ALLOWED_CACHE_SIZE = 1024
"""Answers of `Workflow.allowed` remembered per workflow (cleared when full)."""

Guard = Callable[[F], str | None]
"""Returns None when the transition may fire, else the reason (for a person) why not."""


SYSTEM_ROLE = "system"
"""The actor that fires a transition when a deadline passes (a timer or the sweep)."""


class ClockAction(StrEnum):
    """What a transition does to a subject's clocks."""

    START = "start"
    """Start the named clocks that are not running yet (their targets come from the policy)."""
    STOP = "stop"
    """Stop the named clocks: met, or met late when already breached."""
    PAUSE = "pause"
    """Pause the named clocks that are running (the time until they resume does not count)."""
    RESUME = "resume"
    """Resume the named clocks that are paused."""
    REOPEN = "reopen"
    """Run a stopped clock on from where it stopped (the time it stood still does not count)."""
    CANCEL = "cancel"
    """Cancel every clock still open (the named ones, or all when none is named)."""


@dataclass(frozen=True)
class ClockEffect:
    action: ClockAction
    clocks: tuple[str, ...] = ()
    cause: str = ""
    """Why, in the clock's timeline (e.g. "waiting for the customer")."""
    starts: str | None = None
    """For START: the clock start this step is (a policy target's `starts`: "dispatched",
    "located"). A named clock whose target counts from here starts now, one that counts from
    the report starts counted from the report, one that counts from another step waits for
    that step."""


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    guards: tuple[str, ...] = ()
    when: str | None = None
    """Name of a guard that selects this transition among several with the same trigger."""
    inputs: tuple[str, ...] = ()
    """What the caller may give with it (`assignee_id`, `position`, files …). Every step takes
    a note; `note` is named where the note is what the step records (a diagnosis), so that a
    form asks for it as a required field."""
    clocks: tuple[ClockEffect, ...] = ()
    sets: tuple[str, ...] = ()
    """Named changes to the subject's own fields, carried out by the subject's area."""
    emits: str | None = None
    """The notification event it raises, if any."""
    system: bool = False
    """Whether the system may fire it when a deadline passes."""


@dataclass(frozen=True)
class State:
    name: str
    deadline: str | None = None
    """The clock whose passing, while the subject is in this state, fires `on_deadline`."""
    on_deadline: str | None = None
    """The trigger the system fires then (declared `system=True`)."""


@dataclass
class _Subject(Generic[F]):
    state: str
    facts: F
    refusals: list[str] = field(default_factory=list)

    if TYPE_CHECKING:  # added by the machine when the subject is bound

        def trigger(self, name: str) -> bool: ...

        def may_trigger(self, name: str) -> bool: ...


class Workflow(Generic[F]):
    """States, transitions and guards of one kind of record."""

    def __init__(
        self,
        name: str,
        states: Sequence[str | State],
        transitions: Sequence[Transition],
        guards: Mapping[str, Guard[F]],
        roles: Mapping[str, frozenset[str]],
        role_of: Callable[[F], str],
    ) -> None:
        self.name = name
        declared = [s if isinstance(s, State) else State(s) for s in states]
        self.states = tuple(s.name for s in declared)
        self.state_decls = {s.name: s for s in declared}
        self.transitions = tuple(transitions)
        self.triggers = tuple(dict.fromkeys(t.trigger for t in transitions))
        self._guards = dict(guards)
        self._roles = {
            trigger: frozenset(who) | ({SYSTEM_ROLE} if self._system(trigger) else frozenset())
            for trigger, who in roles.items()
        }
        self._role_of = role_of
        unknown = {g for t in transitions for g in (*t.guards, t.when or "")} - {""} - set(guards)
        if unknown:
            raise ValueError(f"{name}: transitions name unknown guards {sorted(unknown)}")
        for state in declared:
            if state.on_deadline and not any(
                t.trigger == state.on_deadline and t.system and state.name in t.sources
                for t in transitions
            ):
                raise ValueError(
                    f"{name}: state {state.name!r} fires {state.on_deadline!r} at its deadline, "
                    "which no system transition from that state declares"
                )
        self._lock = threading.Lock()
        self._allowed: dict[tuple[str, F], tuple[str, ...]] = {}
        self._machine = Machine(
            model=None,
            states=list(self.states),
            initial=self.states[0],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for t in transitions:
            conditions: list[str | Callable[..., bool | None]] = [
                self._condition(g) for g in ((t.when,) if t.when else ()) + t.guards
            ]
            self._machine.add_transition(t.trigger, list(t.sources), t.dest, conditions=conditions)

    def _system(self, trigger: str) -> bool:
        return any(t.system for t in self.transitions if t.trigger == trigger)

    def transition(self, source: str, trigger: str, dest: str) -> Transition:
        """The declaration that took `source` to `dest` by `trigger` (its effects)."""
        for t in self.transitions:
            if t.trigger == trigger and source in t.sources and t.dest == dest:
                return t
        raise ValueError(f"{self.name}: no transition {trigger!r} from {source!r} to {dest!r}")

    def takes(self, trigger: str, name: str) -> bool:
        """Whether `trigger` accepts the input `name` (from any of its sources)."""
        return any(name in t.inputs for t in self.transitions if t.trigger == trigger)

    def event_names(self) -> tuple[str, ...]:
        """Every notification event the workflow's transitions emit."""
        return tuple(dict.fromkeys(t.emits for t in self.transitions if t.emits))

    def _condition(self, guard_name: str) -> Callable[[EventData], bool]:
        guard = self._guards[guard_name]

        def condition(event: EventData) -> bool:
            subject = event.model
            assert isinstance(subject, _Subject)
            reason = guard(subject.facts)
            if reason is not None:
                subject.refusals.append(reason)
            return reason is None

        return condition

    @contextmanager
    def _bound(self, state: str, facts: F) -> Iterator[_Subject[F]]:
        if state not in self.states:
            raise ValueError(f"{self.name}: unknown state {state!r}")
        subject: _Subject[F] = _Subject(state, facts)
        with self._lock:
            self._machine.add_model(subject, initial=state)
            try:
                yield subject
            finally:
                self._machine.remove_model(subject)

    def _role_permits(self, trigger: str, facts: F) -> bool:
        return self._role_of(facts) in self._roles.get(trigger, frozenset())

    def allowed(self, state: str, facts: F) -> list[str]:
        """The triggers this actor may fire now, in declaration order.

        Guards are pure functions of the facts, so the answer is remembered per state and
        facts (hashable, e.g. a frozen dataclass; a few hundred distinct ones in practice):
        asking the machine costs far more.
        """
        key = (state, facts)
        answer = self._allowed.get(key)
        if answer is None:
            answer = self._ask_allowed(state, facts)
            if len(self._allowed) >= ALLOWED_CACHE_SIZE:
                self._allowed.clear()
            self._allowed[key] = answer
        return list(answer)

    def _ask_allowed(self, state: str, facts: F) -> tuple[str, ...]:
        with self._bound(state, facts) as subject:
            return tuple(
                t
                for t in self._machine.get_triggers(state)
                if self._role_permits(t, facts) and subject.may_trigger(t)
            )

    def fire(self, state: str, trigger: str, facts: F) -> str:
        """The state after `trigger`, or TriggerRefused saying why and what is allowed now."""
        if trigger not in self.triggers:
            reason = f"unknown trigger {trigger!r}"
        elif not self._role_permits(trigger, facts):
            reason = f"the role {self._role_of(facts)!r} may not {trigger}"
        else:
            with self._bound(state, facts) as subject:
                try:
                    fired = subject.trigger(trigger)
                except MachineError:
                    fired, subject.refusals = False, [f"cannot {trigger} when {state}"]
                if fired:
                    new_state: str = subject.state
                    return new_state
                reason = "; ".join(dict.fromkeys(subject.refusals)) or f"cannot {trigger} now"
        # Not remembered: these facts carry the caller's free text (a note).
        raise TriggerRefused(trigger, state, reason, list(self._ask_allowed(state, facts)))

    def describe(self) -> dict[str, Any]:
        """The workflow as plain data (for documentation and the API)."""
        return {
            "name": self.name,
            "states": list(self.states),
            "transitions": [
                {
                    "trigger": t.trigger,
                    "from": list(t.sources),
                    "to": t.dest,
                    "inputs": list(t.inputs),
                    "clocks": [
                        {
                            "action": str(e.action),
                            "clocks": list(e.clocks),
                            **({"starts": e.starts} if e.starts else {}),
                        }
                        for e in t.clocks
                    ],
                    "emits": t.emits,
                    "system": t.system,
                }
                for t in self.transitions
            ],
            "deadlines": {
                s.name: {"clock": s.deadline, "fires": s.on_deadline}
                for s in self.state_decls.values()
                if s.on_deadline
            },
        }
