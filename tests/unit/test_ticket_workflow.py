"""The ticket workflow as data: what may fire from where, for whom, and why not."""

from __future__ import annotations

import pytest

from workflows import ticket as wf
from workflows.errors import TriggerRefused

AGENT = wf.TicketFacts(actor_role="agent", has_assignee=True, note="done")

ALLOWED = [
    ("new", "acknowledge", "acknowledged"),
    ("new", "start_remote", "in_progress"),
    ("new", "dispatch", "dispatched"),
    ("new", "cancel", "cancelled"),
    ("acknowledged", "start_remote", "in_progress"),
    ("acknowledged", "dispatch", "dispatched"),
    ("acknowledged", "cancel", "cancelled"),
    ("in_progress", "dispatch", "dispatched"),
    ("in_progress", "locate", "in_progress"),
    ("in_progress", "restore", "restored"),
    ("in_progress", "resolve", "resolved"),
    ("dispatched", "depart", "en_route"),
    ("dispatched", "arrive", "on_site"),
    ("en_route", "arrive", "on_site"),
    ("on_site", "locate", "on_site"),
    ("on_site", "restore", "restored"),
    ("on_site", "resolve", "resolved"),
    ("restored", "resolve", "resolved"),
    ("resolved", "reopen", "in_progress"),
    ("resolved", "close", "closed"),
    *[(s, "wait_customer", "waiting_customer") for s in wf.PAUSABLE_STATES],
]


@pytest.mark.parametrize(("source", "trigger", "dest"), ALLOWED)
def test_allowed_transition_reaches_its_state(source: str, trigger: str, dest: str) -> None:
    assert wf.WORKFLOW.fire(source, trigger, AGENT) == dest


ALLOWED_PAIRS = {(s, t) for s, t, _ in ALLOWED} | {("waiting_customer", "resume")}
REFUSED = [
    (state, trigger)
    for state in wf.STATES
    for trigger in wf.WORKFLOW.triggers
    if (state, trigger) not in ALLOWED_PAIRS
]


@pytest.mark.parametrize(("source", "trigger"), REFUSED)
def test_every_other_transition_is_refused_with_what_is_allowed(source: str, trigger: str) -> None:
    with pytest.raises(TriggerRefused) as refused:
        wf.WORKFLOW.fire(source, trigger, AGENT)
    assert refused.value.allowed == wf.WORKFLOW.allowed(source, AGENT)
    assert trigger not in refused.value.allowed


def test_closed_and_cancelled_tickets_allow_nothing() -> None:
    for state in wf.FINAL_STATES:
        assert wf.WORKFLOW.allowed(state, AGENT) == []


@pytest.mark.parametrize("paused_from", wf.PAUSABLE_STATES)
def test_resume_returns_to_the_state_the_ticket_paused_from(paused_from: str) -> None:
    facts = wf.TicketFacts(actor_role="engineer", paused_from=paused_from)
    assert wf.WORKFLOW.fire("waiting_customer", "resume", facts) == paused_from


@pytest.mark.parametrize("trigger", ["dispatch", "arrive"])
def test_dispatch_and_arrival_need_an_assigned_engineer(trigger: str) -> None:
    source = "acknowledged" if trigger == "dispatch" else "en_route"
    facts = wf.TicketFacts(actor_role="agent", has_assignee=False)
    with pytest.raises(TriggerRefused, match="assign an engineer first"):
        wf.WORKFLOW.fire(source, trigger, facts)
    assert trigger not in wf.WORKFLOW.allowed(source, facts)


@pytest.mark.parametrize("note", [None, "", "   "])
def test_resolve_needs_a_resolution_note(note: str | None) -> None:
    facts = wf.TicketFacts(actor_role="engineer", has_assignee=True, note=note)
    with pytest.raises(TriggerRefused, match="resolution note is required"):
        wf.WORKFLOW.fire("on_site", "resolve", facts)


@pytest.mark.parametrize("source", ["in_progress", "on_site"])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_locating_the_fault_needs_the_diagnosis(source: str, note: str | None) -> None:
    facts = wf.TicketFacts(actor_role="engineer", has_assignee=True, note=note)
    with pytest.raises(TriggerRefused, match="write the diagnosis"):
        wf.WORKFLOW.fire(source, "locate", facts)


@pytest.mark.parametrize("source", ["in_progress", "on_site"])
def test_the_fault_is_located_once_while_working_remotely_or_on_site(source: str) -> None:
    engineer = wf.TicketFacts(actor_role="engineer", has_assignee=True, note="(any)")
    assert "locate" in wf.WORKFLOW.allowed(source, engineer)
    assert wf.WORKFLOW.fire(source, "locate", engineer) == source
    located = wf.TicketFacts(actor_role="engineer", note="硬盘故障", located=True)
    assert "locate" not in wf.WORKFLOW.allowed(source, located)
    with pytest.raises(TriggerRefused, match="located already"):
        wf.WORKFLOW.fire(source, "locate", located)
    requester = wf.TicketFacts(actor_role="requester", note="(any)")
    assert "locate" not in wf.WORKFLOW.allowed(source, requester)
    for role in ("engineer", "agent", "manager", "admin"):
        assert "locate" in wf.WORKFLOW.allowed(source, wf.TicketFacts(role, note="(any)"))


def test_locating_starts_the_clocks_that_count_from_the_location() -> None:
    """C1-8: repaired within 8 hours 在故障定位以后; the note is what the step records."""
    for t in (t for t in wf.WORKFLOW.transitions if t.trigger == "locate"):
        assert t.inputs == ("note", "files")
        (effect,) = t.clocks
        assert (str(effect.action), effect.clocks, effect.starts) == (
            "start",
            ("restore", "resolution"),
            "located",
        )
    assert {t.sources for t in wf.WORKFLOW.transitions if t.trigger == "locate"} == {
        ("in_progress",),
        ("on_site",),
    }


@pytest.mark.parametrize("trigger", ["close", "reopen"])
def test_only_the_customer_side_accepts_or_rejects_a_fix(trigger: str) -> None:
    with pytest.raises(TriggerRefused, match="'engineer' may not"):
        wf.WORKFLOW.fire("resolved", trigger, wf.TicketFacts(actor_role="engineer"))
    for role in ("requester", "agent", "manager", "admin"):
        wf.WORKFLOW.fire("resolved", trigger, wf.TicketFacts(actor_role=role))


def test_a_requester_cannot_work_a_ticket() -> None:
    facts = wf.TicketFacts(actor_role="requester", has_assignee=True)
    assert wf.WORKFLOW.allowed("new", facts) == ["cancel"]
    with pytest.raises(TriggerRefused):
        wf.WORKFLOW.fire("new", "acknowledge", facts)


def test_unknown_trigger_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(TriggerRefused) as refused:
        wf.WORKFLOW.fire("new", "teleport", AGENT)
    assert refused.value.allowed == ["acknowledge", "start_remote", "dispatch", "cancel"]


def test_workflow_is_described_as_data() -> None:
    described = wf.WORKFLOW.describe()
    assert described["states"] == list(wf.STATES)
    close = next(t for t in described["transitions"] if t["trigger"] == "close")
    assert (close["from"], close["to"], close["emits"], close["system"]) == (
        ["resolved"],
        "closed",
        None,
        False,
    )
    resolve = next(t for t in described["transitions"] if t["trigger"] == "resolve")
    assert resolve["emits"] == "ticket_resolved"
    assert resolve["clocks"] == [
        {"action": "stop", "clocks": ["response", "restore", "resolution"]}
    ]


def test_each_step_declares_what_it_does_to_the_clocks() -> None:
    """The clock rules the contracts are about, read from the declaration alone."""

    def effects(trigger: str) -> set[tuple[str, str]]:
        return {
            (str(e.action), c)
            for t in wf.WORKFLOW.transitions
            if t.trigger == trigger
            for e in t.clocks
            for c in e.clocks
        }

    assert effects("acknowledge") == {("stop", "response")}
    assert effects("dispatch") == {("stop", "response"), ("start", "arrival")}
    assert effects("locate") == {("start", "restore"), ("start", "resolution")}
    assert effects("arrive") == {("stop", "response"), ("stop", "arrival")}
    paused = {("pause", c) for c in ("arrival", "restore", "resolution")}
    assert effects("wait_customer") == paused
    assert effects("resume") == {("resume", c) for c in ("arrival", "restore", "resolution")}
    assert effects("reopen") == {("reopen", "resolution")}
    assert wf.WORKFLOW.takes("dispatch", "assignee_id")
    assert not wf.WORKFLOW.takes("close", "assignee_id")
    assert wf.WORKFLOW.takes("arrive", "position")
    assert wf.WORKFLOW.event_names() == ("ticket_dispatched", "ticket_resolved")


def test_remembered_allowed_triggers_answer_each_question_anew() -> None:
    """The remembered answer is per state and facts, and a caller's copy is its own."""
    first = wf.WORKFLOW.allowed("new", AGENT)
    first.clear()
    everything = ["acknowledge", "start_remote", "dispatch", "cancel"]
    assert wf.WORKFLOW.allowed("new", AGENT) == everything
    unassigned = wf.TicketFacts(actor_role="agent", has_assignee=False)
    assert "dispatch" not in wf.WORKFLOW.allowed("acknowledged", unassigned)
    assert "dispatch" in wf.WORKFLOW.allowed("acknowledged", AGENT)
