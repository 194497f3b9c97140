"""SLA clocks: set from the contract's policy when a ticket opens, moved by its workflow."""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from itsm import caches, outbox
from itsm.accounts.services.access import Actor, contract_visible, ticket_scope
from itsm.directory.models import Contract
from itsm.errors import InvalidInput, NotFound
from itsm.models import terms
from itsm.sla.models import TICKET, Clock, ClockEvent, SlaPolicy
from itsm.sla.services import calendars
from itsm.tickets.models import Ticket
from sla_rules.calendar import BusinessCalendar
from sla_rules.errors import InvalidPolicy
from sla_rules.policy import (
    Metric,
    Policy,
    Start,
    Target,
    TicketFacts,
    build_calendars,
    shipped_policy,
)
from workflows import ticket as ticket_workflow
from workflows.engine import ClockAction, ClockEffect

OPEN = ("running", "paused", "breached")
"""Statuses of a clock that has not stopped (a breached clock still waits to be met)."""
RETARGETING_FIELDS = frozenset(
    {"priority", "category", "kind", "onsite_required", "configuration_item_id"}
)

_parsed: dict[tuple[int, int, int, datetime], Policy] = {}
"""Keyed by version and publication, not the id alone: a process that talks to two
databases (tests do) has two rows with the same id."""
_parsed_lock = threading.Lock()
caches.register("sla-policies", "each published policy version, parsed", _parsed.clear)


# --- policies -----------------------------------------------------------------------------


def row_key(row: SlaPolicy) -> tuple[int, int, int, datetime]:
    return (row.id, row.contract_id, row.version, row.published_at)


def parse_policy(row: SlaPolicy) -> Policy:
    """The parsed document of a published version (immutable, so cached)."""
    key = row_key(row)
    with _parsed_lock:
        policy = _parsed.get(key)
    if policy is None:
        policy = Policy.from_dict(row.document)
        with _parsed_lock:
            _parsed[key] = policy
    return policy


def current_policy(session: Session, contract: Contract) -> SlaPolicy | None:
    """The contract's newest policy version; the shipped one is published as version 1."""
    return terms.newest(session, SlaPolicy, contract.id) or publish_shipped_policy(
        session, contract
    )


def publish_shipped_policy(session: Session, contract: Contract) -> SlaPolicy | None:
    """Version 1 from the shipped policy of a contract that has none published yet, if any."""
    document = _shipped(contract.code)
    if document is None:
        return None
    return terms.publish_first(session, SlaPolicy, contract.id, copy.deepcopy(document))


@functools.cache
def _shipped(contract_code: str) -> dict[str, Any] | None:
    try:
        return shipped_policy(contract_code)
    except KeyError:
        return None


def publish_policy(
    session: Session, actor: Actor, contract: Contract, document: dict[str, Any]
) -> SlaPolicy:
    """Validate and publish a new version; only tickets opened from now on use it."""
    document = {**document, "contract": document.get("contract", contract.code)}
    if document["contract"] != contract.code:
        raise InvalidInput(f"the policy names contract {document['contract']}, not {contract.code}")
    try:
        policy = Policy.from_dict(document)
    except InvalidPolicy as error:
        raise InvalidInput(f"invalid policy: {error}", errors={"policy": error.errors}) from None
    unstarted = clocks_never_started(policy)
    if unstarted:
        raise InvalidInput(f"invalid policy: {'; '.join(unstarted)}", errors={"policy": unstarted})
    current = session.scalar(
        select(func.max(SlaPolicy.version)).where(SlaPolicy.contract_id == contract.id)
    )
    return terms.publish(
        session, SlaPolicy, contract.id, policy.to_dict(), actor.user_id, (current or 0) + 1
    )


def clocks_never_started(policy: Policy) -> list[str]:
    """Targets counting from a step that starts no such clock (an arrival counting from the
    fault's location would never run), each with its path in the document."""
    startable: dict[str, set[str]] = {}
    for transition in ticket_workflow.WORKFLOW.transitions:
        for effect in transition.clocks:
            if effect.action == ClockAction.START and effect.starts:
                startable.setdefault(effect.starts, set()).update(effect.clocks)
    problems = []
    for i, rule in enumerate(policy.rules):
        for metric, target in rule.targets.items():
            clocks = startable.get(target.starts, set())
            if target.starts == Start.REPORTED or metric in clocks:
                continue
            problems.append(
                f"rules[{i}].targets.{metric}.starts: no step starts the {metric} clock at "
                f"{target.starts} (it starts {', '.join(sorted(clocks)) or 'no clock'})"
            )
    return problems


# --- clocks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meter:
    """How a target is measured: the calendar that counts it and the amount to count."""

    calendar: BusinessCalendar
    name: str
    total: timedelta


_built: dict[tuple[Any, ...], dict[str, BusinessCalendar]] = {}


def _calendars(session: Session, policy_row: SlaPolicy) -> dict[str, BusinessCalendar]:
    """The policy's calendars on the current schedule; built once per version and revision,
    since a calendar caches each year's working periods as it is first used."""
    book = calendars.schedule_book(session)
    key = (row_key(policy_row), id(book))
    with _parsed_lock:
        built = _built.get(key)
    if built is None:
        built = build_calendars(parse_policy(policy_row), book)
        with _parsed_lock:
            if len(_built) > 1000:
                _built.clear()
            _built[key] = built
    return built


def _meter(target: Target, cals: dict[str, BusinessCalendar]) -> Meter:
    calendar = cals[target.calendar]
    if target.duration.is_business:
        return Meter(calendar, target.calendar, target.duration.to_timedelta(calendar))
    return Meter(cals["24x7"], "24x7", target.duration.to_timedelta(calendar))


def _meter_of(clock_row: Clock, cals: dict[str, BusinessCalendar]) -> BusinessCalendar:
    return cals[clock_row.meter]


def ticket_facts(
    ticket: Ticket, policy: Policy, cals: Mapping[str, BusinessCalendar]
) -> TicketFacts:
    """What the policy's rules match: the ticket's own fields, its institution's and its
    system's, and whether it was reported within the policy calendar's service hours."""
    item = ticket.configuration_item
    return TicketFacts(
        kind=str(ticket.kind),
        priority=str(ticket.priority),
        category=str(ticket.category),
        institution_kind=str(ticket.institution.kind),
        district_tier=str(ticket.institution.district.tier),
        onsite=bool(ticket.onsite_required),
        remote_area=bool(ticket.institution.remote_area),
        ci_group=str(item.group) if item is not None and item.group is not None else None,
        in_service_hours=cals[policy.calendar].is_open(ticket.reported_at),
    )


def _due_and_warn(
    meter: BusinessCalendar,
    started_at: datetime,
    total_seconds: int,
    paused_seconds: int,
    warn_fraction: float,
) -> tuple[datetime, datetime]:
    """Due and warning instants from the start, the target and the time spent paused."""
    paused = timedelta(seconds=paused_seconds)
    total = timedelta(seconds=total_seconds)
    return (
        meter.add(started_at, total + paused),
        meter.add(started_at, total * warn_fraction + paused),
    )


def _schedule(clock_row: Clock, meter: BusinessCalendar) -> None:
    clock_row.due_at, clock_row.warn_at = _due_and_warn(
        meter,
        clock_row.started_at,
        clock_row.total_seconds,
        clock_row.paused_seconds,
        clock_row.warn_fraction,
    )


def log_clock_event(clock_row: Clock, at: datetime, kind: str, cause: str, **data: Any) -> None:
    clock_row.events.append(
        ClockEvent(at=at, kind=kind, cause=cause, due_at=clock_row.due_at, data=data)
    )


def _clock_values(
    ticket: Ticket,
    target: Target,
    rule: str,
    cals: dict[str, BusinessCalendar],
    started_at: datetime,
) -> dict[str, Any]:
    """The columns of a clock that starts now, running, with its due and warning instants."""
    meter = _meter(target, cals)
    total_seconds = int(meter.total.total_seconds())
    due_at, warn_at = _due_and_warn(
        meter.calendar, started_at, total_seconds, 0, target.warn_fraction
    )
    return {
        "subject_type": TICKET,
        "subject_id": ticket.id,
        "metric": str(target.metric),
        "status": "running",
        "policy_id": ticket.sla_policy_id,
        "rule": rule,
        "target": str(target.duration),
        "calendar": target.calendar,
        "meter": meter.name,
        "starts": str(target.starts),
        "warn_fraction": target.warn_fraction,
        "total_seconds": total_seconds,
        "paused_seconds": 0,
        "started_at": started_at,
        "due_at": due_at,
        "warn_at": warn_at,
    }


def _start(
    session: Session,
    ticket: Ticket,
    target: Target,
    rule: str,
    cals: dict[str, BusinessCalendar],
    started_at: datetime,
    now: datetime,
    cause: str,
) -> Clock:
    clock_row = Clock(**_clock_values(ticket, target, rule, cals, started_at), events=[])
    log_clock_event(clock_row, now, "started", cause, started_at=started_at.isoformat())
    session.add(clock_row)
    return clock_row


def timers(clock_id: int, due_at: datetime, warn_at: datetime | None) -> list[outbox.Message]:
    """Timers at a running clock's due instant and, unless it warned already, its warning.

    A key names the instant, so a clock whose due time moved gets a new timer; the old one
    still fires, finds nothing due, and does nothing.
    """
    instants = [("due", due_at)] + ([("warn", warn_at)] if warn_at is not None else [])
    timers = []
    for label, when in instants:
        # RQ schedules at whole seconds: round up, or the timer may run just before it.
        second = math.ceil(when.timestamp())
        timers.append(
            outbox.Message(
                f"sla:{clock_id}:{label}:{second}",
                "sla_timer",
                {"clock_id": clock_id},
                datetime.fromtimestamp(second, UTC),
            )
        )
    return timers


def schedule_timers(session: Session, clocks: Iterable[Clock]) -> None:
    """Outbox timers at each running clock's warn and due instants (RQ jobs after commit)."""
    session.flush()
    for c in clocks:
        if c.status != "running":
            continue
        warns = c.warned_at is None and c.warn_at < c.due_at  # a deadline has no warning
        for timer in timers(c.id, c.due_at, c.warn_at if warns else None):
            outbox.add(session, timer.key, timer.kind, timer.payload, timer.run_at)


def _policy_row(session: Session, ticket: Ticket) -> SlaPolicy | None:
    return session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None


INSERT_CLOCKS = insert(cast(Table, Clock.__table__)).returning(
    Clock.id, sort_by_parameter_order=True
)


def open_clocks(session: Session, ticket: Ticket, now: datetime) -> None:
    """Set the clocks a new ticket gets under the policy version it was opened under.

    The clocks, their first timeline lines and their timers are new rows that nothing reads
    in this transaction: one Core INSERT each, not the ORM's unit of work (a third of the
    cost of opening a ticket with clocks).
    """
    policy_row = _policy_row(session, ticket)
    if policy_row is None:
        return
    policy = parse_policy(policy_row)
    cals = _calendars(session, policy_row)
    rule = policy.match(ticket_facts(ticket, policy, cals))
    if rule is None:
        return
    clocks, causes = [], []
    for metric, target in rule.targets.items():
        if target.starts != Start.REPORTED or (
            metric == Metric.ARRIVAL and not ticket.onsite_required
        ):
            continue  # started by the step it counts from (dispatch, locate)
        clocks.append(_clock_values(ticket, target, rule.name, cals, ticket.reported_at))
        causes.append(f"ticket opened; rule {rule.name}: {metric} within {target.duration}")
    if not clocks:
        return
    ids = session.execute(INSERT_CLOCKS, clocks).scalars().all()
    started = {"started_at": ticket.reported_at.isoformat()}
    session.execute(
        insert(cast(Table, ClockEvent.__table__)),
        [
            {
                "clock_id": clock_id,
                "at": now,
                "kind": "started",
                "cause": cause,
                "due_at": values["due_at"],
                "data": started,
            }
            for clock_id, values, cause in zip(ids, clocks, causes, strict=True)
        ],
    )
    outbox.add_new(
        session,
        [
            timer
            for clock_id, values in zip(ids, clocks, strict=True)
            for timer in timers(clock_id, values["due_at"], values["warn_at"])
        ],
    )


def clocks_of(session: Session, subject_type: str, subject_id: int) -> list[Clock]:
    """A subject's clocks (a ticket's SLA clocks, a workflow's deadlines), oldest first."""
    return list(
        session.scalars(
            select(Clock)
            .where(Clock.subject_type == subject_type, Clock.subject_id == subject_id)
            .order_by(Clock.id)
        )
    )


def ticket_clocks(session: Session, ticket_id: int) -> list[Clock]:
    return clocks_of(session, TICKET, ticket_id)


def apply_clock_effects(
    session: Session, ticket: Ticket, effects: Iterable[ClockEffect], now: datetime
) -> None:
    """Start, stop, pause, resume, reopen or cancel the ticket's clocks as a step declares."""
    policy_row = _policy_row(session, ticket)
    if policy_row is None:
        return
    clocks = {c.metric: c for c in ticket_clocks(session, ticket.id)}
    cals = _calendars(session, policy_row)
    moved: list[Clock] = []
    for effect in effects:
        if stop_or_cancel(effect, clocks, now):
            continue
        named = [clocks[m] for m in effect.clocks if m in clocks]
        if effect.action == ClockAction.START:
            onsite = effect.starts == Start.DISPATCHED or Metric.ARRIVAL in clocks
            for metric in effect.clocks:
                if metric not in clocks:
                    started = _start_at_step(
                        session, ticket, Metric(metric), effect, onsite, policy_row, cals, now
                    )
                    if started is not None:
                        clocks[metric] = started
                        moved.append(started)
        elif effect.action == ClockAction.PAUSE:
            for clock_row in named:
                if clock_row.status == "running":
                    clock_row.status, clock_row.paused_at = "paused", now
                    log_clock_event(clock_row, now, "paused", effect.cause)
        elif effect.action == ClockAction.RESUME:
            for clock_row in named:
                if clock_row.status == "paused":
                    _resume(clock_row, cals, now, effect.cause)
                    moved.append(clock_row)
        elif effect.action == ClockAction.REOPEN:
            for clock_row in named:
                _reopen(clock_row, cals, now, effect.cause)
                moved.append(clock_row)
    schedule_timers(session, moved)


def stop_or_cancel(effect: ClockEffect, clocks: Mapping[str, Clock], now: datetime) -> bool:
    """Carry out a STOP (the named clocks met) or CANCEL (the named ones, or all when none is
    named) effect; False for any other action. Tickets' clocks and deadlines alike."""
    if effect.action == ClockAction.STOP:
        for name in effect.clocks:
            if name in clocks:
                stop_clock(clocks[name], now, effect.cause)
        return True
    if effect.action == ClockAction.CANCEL:
        for name in effect.clocks or tuple(clocks):
            if name in clocks:
                cancel_clock(clocks[name], now, effect.cause)
        return True
    return False


def _start_at_step(
    session: Session,
    ticket: Ticket,
    metric: Metric,
    effect: ClockEffect,
    onsite: bool,
    policy_row: SlaPolicy,
    cals: dict[str, BusinessCalendar],
    now: datetime,
) -> Clock | None:
    """Start a clock a step names (arrival at dispatch; restore and resolution once the fault
    is located): now when its target counts from this step, from the report when it counts
    from the report (an arrival once a remote ticket goes on site), not at all when it counts
    from another step. Work sent or gone on site is matched as on-site work."""
    policy = parse_policy(policy_row)
    facts = ticket_facts(ticket, policy, cals)
    rule = policy.match(dataclasses.replace(facts, onsite=facts.onsite or onsite))
    if rule is None or metric not in rule.targets:
        return None
    target = rule.targets[metric]
    if target.starts == Start.REPORTED:
        started_at = ticket.reported_at
    elif target.starts == effect.starts:
        started_at = now
    else:
        return None
    cause = (
        f"{effect.cause}; rule {rule.name}: {metric} within {target.duration} from {target.starts}"
    )
    return _start(session, ticket, target, rule.name, cals, started_at, now, cause)


def cancel_clock(clock_row: Clock, now: datetime, cause: str) -> None:
    """Cancel a clock that has not stopped (a cancelled ticket, a target that no longer
    applies, a deadline its subject no longer faces)."""
    if clock_row.status in OPEN:
        clock_row.status, clock_row.cancelled_at = "cancelled", now
        log_clock_event(clock_row, now, "cancelled", cause)


def stop_clock(clock_row: Clock, now: datetime, cause: str) -> None:
    if clock_row.status in ("running", "paused", "breached") and clock_row.met_at is None:
        if clock_row.status == "paused":
            clock_row.paused_at = None
        if clock_row.status != "breached":
            clock_row.status = "met"
        clock_row.met_at = now
        late = clock_row.breached_at is not None
        log_clock_event(clock_row, now, "met", cause + (" (after the breach)" if late else ""))


def _resume(clock_row: Clock, cals: dict[str, BusinessCalendar], now: datetime, cause: str) -> None:
    assert clock_row.paused_at is not None
    meter = _meter_of(clock_row, cals)
    paused = meter.between(clock_row.paused_at, now)
    clock_row.paused_seconds += int(paused.total_seconds())
    clock_row.status, clock_row.paused_at = "running", None
    _schedule(clock_row, meter)
    log_clock_event(clock_row, now, "resumed", cause, paused_seconds=int(paused.total_seconds()))


def _reopen(clock_row: Clock, cals: dict[str, BusinessCalendar], now: datetime, cause: str) -> None:
    """Resume the resolution clock where it stopped: the time it stood still does not count."""
    if clock_row.met_at is None or clock_row.status == "cancelled":
        return
    meter = _meter_of(clock_row, cals)
    stood = meter.between(clock_row.met_at, now)
    clock_row.met_at = None
    if clock_row.breached_at is None:
        clock_row.paused_seconds += int(stood.total_seconds())
        clock_row.status = "running"
        _schedule(clock_row, meter)
    log_clock_event(clock_row, now, "resumed", cause, paused_seconds=int(stood.total_seconds()))


def retarget(session: Session, ticket: Ticket, changed: Iterable[str], now: datetime) -> None:
    """Re-target the ticket's open clocks from their start after priority or category changed."""
    if not RETARGETING_FIELDS & set(changed):
        return
    policy_row = _policy_row(session, ticket)
    if policy_row is None:
        return
    policy = parse_policy(policy_row)
    cals = _calendars(session, policy_row)
    rule = policy.match(ticket_facts(ticket, policy, cals))
    clocks = ticket_clocks(session, ticket.id)
    existing = {c.metric for c in clocks}
    moved: list[Clock] = []
    for clock_row in clocks:
        if clock_row.status not in ("running", "paused"):
            continue
        target = rule.targets.get(Metric(clock_row.metric)) if rule else None
        if rule is None or target is None:
            cancel_clock(clock_row, now, "no target under the new priority/category")
            continue
        before = (clock_row.target, clock_row.due_at)
        if not _move_start(ticket, clock_row, target):
            cancel_clock(clock_row, now, f"the new target counts from {target.starts}, not yet")
            continue
        meter = _meter(target, cals)
        clock_row.rule, clock_row.target = rule.name, str(target.duration)
        clock_row.calendar, clock_row.meter = target.calendar, meter.name
        clock_row.warn_fraction = target.warn_fraction
        clock_row.total_seconds = int(meter.total.total_seconds())
        _schedule(clock_row, meter.calendar)
        if (clock_row.target, clock_row.due_at) != before:
            cause = (
                f"re-targeted from the start: rule {clock_row.rule}, "
                f"{before[0]} → {clock_row.target}"
            )
            log_clock_event(
                clock_row, now, "retargeted", cause, previous_due_at=before[1].isoformat()
            )
            if clock_row.warned_at and clock_row.warn_at > now:
                clock_row.warned_at = None
            moved.append(clock_row)
    if rule is not None:
        for metric, target in rule.targets.items():
            started_at = _start_of(ticket, target)
            if metric in existing or started_at is None:
                continue
            if metric == Metric.ARRIVAL and not ticket.onsite_required:
                continue
            cause = (
                f"priority/category changed; rule {rule.name}: {metric} within {target.duration}"
                f" from {target.starts}"
            )
            moved.append(_start(session, ticket, target, rule.name, cals, started_at, now, cause))
    schedule_timers(session, moved)


def _start_of(ticket: Ticket, target: Target) -> datetime | None:
    """Where a target newly applying to a ticket counts from, if that step has happened and is
    known (a dispatch's arrival clock is started by the dispatch itself)."""
    if target.starts == Start.REPORTED:
        return ticket.reported_at
    if target.starts == Start.LOCATED:
        return ticket.located_at
    return None


def _move_start(ticket: Ticket, clock_row: Clock, target: Target) -> bool:
    """Count a re-targeted clock from where its new target counts from; False when that is the
    fault's location and it is not recorded yet."""
    if clock_row.starts == str(target.starts):
        return True
    if target.starts == Start.LOCATED and ticket.located_at is None:
        return False
    if target.starts != Start.DISPATCHED:  # the dispatch's instant is its own start already
        clock_row.started_at = _start_of(ticket, target) or clock_row.started_at
    clock_row.starts = str(target.starts)
    return True


# --- views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    clock: Clock
    business_seconds_elapsed: int
    business_seconds_remaining: int
    at_risk: bool
    rule_description: str = ""
    """Where the clock's target comes from: the contract's clause, or 产品默认值."""


def view(session: Session, clock_row: Clock, now: datetime) -> ClockView:
    policy_row = session.get_one(SlaPolicy, clock_row.policy_id)
    meter = _calendars(session, policy_row)[clock_row.meter]
    end = clock_row.met_at or clock_row.cancelled_at or clock_row.paused_at or now
    elapsed = meter.between(clock_row.started_at, max(end, clock_row.started_at))
    active = int(elapsed.total_seconds()) - clock_row.paused_seconds
    remaining = max(clock_row.total_seconds - active, 0)
    at_risk = clock_row.status == "running" and clock_row.warn_at <= now
    rule = parse_policy(policy_row).rule(clock_row.rule)
    return ClockView(clock_row, active, remaining, at_risk, rule.description if rule else "")


def clocks_of_ticket(session: Session, ticket: Ticket, now: datetime) -> list[ClockView]:
    return [view(session, c, now) for c in ticket_clocks(session, ticket.id)]


@dataclass(frozen=True)
class AwaitedClock:
    """A target of the ticket's rule whose clock starts at a step still to come."""

    metric: str
    target: str
    starts: str
    rule: str
    rule_description: str


def awaited_clocks(session: Session, ticket: Ticket) -> list[AwaitedClock]:
    """The targets that will start when the ticket is dispatched or its fault located (the
    clock panel says so before they run: C1-8's 8 hours count from the fault's location)."""
    policy_row = _policy_row(session, ticket)
    if policy_row is None:
        return []
    policy = parse_policy(policy_row)
    cals = _calendars(session, policy_row)
    rule = policy.match(ticket_facts(ticket, policy, cals))
    if rule is None:
        return []
    running = {c.metric for c in ticket_clocks(session, ticket.id)}
    return [
        AwaitedClock(str(m), str(t.duration), str(t.starts), rule.name, rule.description)
        for m, t in rule.targets.items()
        if str(m) not in running and t.starts == Start.LOCATED and ticket.located_at is None
    ]


def board(
    session: Session,
    actor: Actor,
    status: str | None,
    contract: Contract | None,
    now: datetime,
    limit: int,
) -> list[tuple[Clock, Ticket]]:
    """Open clocks, nearest due first: `at_risk` (past warning) or `breached` (not yet met)."""
    query = (
        select(Clock, Ticket)
        .join(Ticket, (Clock.subject_type == TICKET) & (Ticket.id == Clock.subject_id))
        .where(ticket_scope(actor))
    )
    if contract is not None:
        if not contract_visible(actor, contract.id):
            raise NotFound(f"contract {contract.code} not found")
        query = query.where(Ticket.contract_id == contract.id)
    if status == "breached":
        query = query.where(Clock.status == "breached", Clock.met_at.is_(None))
    elif status == "at_risk":
        query = query.where(Clock.status == "running", Clock.warn_at <= now)
    else:
        query = query.where(
            Clock.status.in_(("running", "paused", "breached")), Clock.met_at.is_(None)
        )
    return [(c, t) for c, t in session.execute(query.order_by(Clock.due_at).limit(limit)).all()]
