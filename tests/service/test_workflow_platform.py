"""A second workflow, declared here, on the same platform as tickets: a drill whose window
closes at a deadline that fires `miss` as the system. Its deadline is a clock found by the
sweep whatever became of its timer job, the trigger fires once however often the instant is
passed, and its history is written by the same `record_event` and fire path as a ticket's.
(On-call tools lose escalations whose only record is a job in a queue: here the row is the
truth and the job only the fast path.)"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import Engine, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from itsm import clock, workflow_runner
from itsm.accounts.models import User
from itsm.accounts.services.access import Actor
from itsm.db import UTCDateTime
from itsm.directory.models import Contract
from itsm.errors import TransitionRefused
from itsm.models.events import EventRecord, record_event
from itsm.models.outbox import OutboxMessage
from itsm.models.types import Role
from itsm.notify.models import ContractContact, Notification
from itsm.notify.services import notices
from itsm.sla.models import Clock, ClockEvent
from itsm.sla.services import deadlines
from itsm.workflow_runner import Step, SubjectKind
from workflows.engine import SYSTEM_ROLE, ClockAction, ClockEffect, State, Transition, Workflow

DRILL = "drill"
_serial = itertools.count(1)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=2)
SUPERVISOR = Actor(user_id=7, role=Role.MANAGER, contract_ids=frozenset())


class DrillBase(DeclarativeBase):
    """Tables of this test's own, kept out of the product's schema."""

    type_annotation_map = {datetime: UTCDateTime()}


class Drill(DrillBase):
    __tablename__ = "test_drill"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32), default="scheduled")
    window_ends_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class DrillEvent(EventRecord, DrillBase):
    __tablename__ = "test_drill_event"
    subject_key = "drill_id"

    drill_id: Mapped[int] = mapped_column(Integer, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no user table in this metadata


@dataclass(frozen=True)
class DrillFacts:
    role: str


# `miss` is the system's alone: declared system=True, and no person's role may fire it.
WORKFLOW: Workflow[DrillFacts] = Workflow(
    DRILL,
    ["scheduled", State("open", deadline="window", on_deadline="miss"), "done", "missed"],
    [
        Transition(
            "open_window",
            ("scheduled",),
            "open",
            clocks=(ClockEffect(ClockAction.START, ("window",), "window opened"),),
        ),
        Transition(
            "complete",
            ("open",),
            "done",
            clocks=(ClockEffect(ClockAction.STOP, ("window",), "drill done"),),
            emits="drill_done",
        ),
        Transition(
            "miss",
            ("open",),
            "missed",
            sets=("record_missed",),
            emits="drill_missed",
            system=True,
        ),
    ],
    guards={},
    roles={
        "open_window": frozenset({"manager"}),
        "complete": frozenset({"manager"}),
        "miss": frozenset(),
    },
    role_of=lambda facts: facts.role,
)


def _emit(session: Session, drill: Drill, event: str, now: datetime) -> None:
    """Through the same `notices.emit` as a ticket's messages, about a drill."""
    subject = notices.NoticeSubject(
        DRILL,
        drill.id,
        session.get_one(Contract, drill.contract_id),
        lambda clock_row: {"drill": drill.id, "state": drill.state},
        lambda session, audience: None,  # only the contract's audiences
    )
    notices.emit(session, event, subject, now, f"{event}:d{drill.id}")


def _record(session: Session, drill: Drill, step: Step) -> None:
    record_event(
        session,
        DrillEvent,
        drill.id,
        step.actor.user_id if step.actor else None,
        "transition",
        at=step.now,
        trigger=step.trigger,
        from_state=step.source,
        to_state=step.target,
        note=step.note,
        data=step.data,
    )


def _clocks(
    session: Session, drill: Drill, effects: tuple[ClockEffect, ...], now: datetime
) -> None:
    drill.window_ends_at = drill.window_ends_at or now + WINDOW
    deadlines.apply_effects(
        session, DRILL, drill.id, effects, now, lambda name, at: drill.window_ends_at
    )


def _missed(drill: Drill, step: Step) -> None:
    drill.missed_at = step.now


KIND: SubjectKind[Drill, DrillFacts] = SubjectKind(
    name=DRILL,
    model=Drill,
    workflow=WORKFLOW,
    load=lambda session, actor, drill_id: session.get_one(Drill, drill_id),
    facts=lambda drill, actor, note: DrillFacts(str(actor.role) if actor else SYSTEM_ROLE),
    title=lambda drill: f"drill {drill.id}",
    record_event=_record,
    apply_clocks=_clocks,
    emit=_emit,
    field_changes={"record_missed": _missed},
)


@pytest.fixture(scope="module")
def drill_tables(service_engine: Engine) -> Engine:
    """The drill's tables on the module's database (of its own: the product's schema test
    never sees them)."""
    DrillBase.metadata.create_all(service_engine)
    return service_engine


@pytest.fixture
def platform(
    drill_tables: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    """A rolled-back session, with the drill's kind known to the sweep."""
    monkeypatch.setattr(workflow_runner, "KINDS", {})
    workflow_runner.register(KIND)
    yield session


def opened_drill(session: Session) -> Drill:
    """A drill of a round-the-clock contract whose supervisor is told of drills by SMS."""
    contract = Contract(
        code=f"D{next(_serial)}",
        name="演练合同",
        customer="测试客户",
        service_hours="7×24",
        calendar="24x7",
        notification_settings={
            "events": {"drill_done": ["supervisor"], "drill_missed": ["supervisor", "group"]}
        },
    )
    supervisor = User(
        username=f"supervisor{next(_serial)}",
        display_name="值班主管",
        role=Role.MANAGER,
        phone="13912345678",
    )
    session.add_all([contract, supervisor])
    session.flush()
    session.add(ContractContact(contract_id=contract.id, duty="supervisor", user_id=supervisor.id))
    drill = Drill(contract_id=contract.id, updated_at=START)
    session.add(drill)
    session.flush()
    with time_machine.travel(START, tick=False):
        workflow_runner.fire(session, KIND, SUPERVISOR, drill.id, drill.version, "open_window")
    session.flush()
    return drill


def told(session: Session, drill: Drill) -> list[tuple[str, str, str, str]]:
    """The drill's notification rows: event, audience, channel, status."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.subject_type == DRILL, Notification.subject_id == drill.id)
        .order_by(Notification.id)
    )
    return [(n.event, n.audience, n.channel, n.status) for n in rows]


def window_clock(session: Session, drill: Drill) -> Clock:
    return session.scalars(
        select(Clock).where(Clock.subject_type == DRILL, Clock.subject_id == drill.id)
    ).one()


def history(session: Session, drill: Drill) -> list[tuple[str | None, int | None, str | None]]:
    rows = session.scalars(
        select(DrillEvent).where(DrillEvent.drill_id == drill.id).order_by(DrillEvent.id)
    )
    return [(e.trigger, e.actor_id, e.to_state) for e in rows]


def test_a_step_starts_its_deadline_as_a_clock_with_a_timer(platform: Session) -> None:
    drill = opened_drill(platform)
    window = window_clock(platform, drill)
    assert (window.metric, window.status, window.due_at) == ("window", "running", START + WINDOW)
    assert window.policy_id is None  # a deadline, not an SLA target
    timers = platform.scalars(
        select(OutboxMessage.key).where(OutboxMessage.key.like(f"sla:{window.id}:%"))
    ).all()
    assert [key.split(":")[2] for key in timers] == ["due"]  # no warning of its own
    assert history(platform, drill) == [("open_window", SUPERVISOR.user_id, "open")]


def test_the_sweep_fires_the_deadline_trigger_as_the_system_once(platform: Session) -> None:
    drill = opened_drill(platform)
    # No timer job ran (lost with Redis, say): the sweep alone finds the passed instant.
    with time_machine.travel(START + WINDOW + timedelta(seconds=1), tick=False):
        for _ in range(3):
            workflow_runner.pass_instants(platform, clock.now())
        clock_id = window_clock(platform, drill).id
        for _ in range(3):  # and the timer, late, as often as RQ retries it
            workflow_runner.pass_instants(platform, clock.now(), [clock_id])
    assert drill.state == "missed" and drill.missed_at == START + WINDOW + timedelta(seconds=1)
    assert history(platform, drill) == [
        ("open_window", SUPERVISOR.user_id, "open"),
        ("miss", None, "missed"),  # the system, once
    ]
    last = platform.scalars(select(DrillEvent).order_by(DrillEvent.id.desc())).first()
    assert last is not None and last.data == {"clock": "window"}
    assert last.note == "window deadline passed"
    assert told(platform, drill) == [
        ("drill_missed", "supervisor", "sms", "pending"),
        ("drill_missed", "group", "-", "skipped"),  # the contract has no group robot
    ]
    kinds = platform.scalars(
        select(ClockEvent.kind).where(ClockEvent.clock_id == clock_id).order_by(ClockEvent.id)
    ).all()
    assert kinds == ["started", "breached"]


def test_a_drill_done_in_time_meets_its_deadline_and_nothing_fires(platform: Session) -> None:
    drill = opened_drill(platform)
    with time_machine.travel(START + WINDOW - timedelta(minutes=5), tick=False):
        workflow_runner.fire(platform, KIND, SUPERVISOR, drill.id, drill.version, "complete")
    with time_machine.travel(START + WINDOW + timedelta(hours=1), tick=False):
        workflow_runner.pass_instants(platform, clock.now())
    assert drill.state == "done"
    assert window_clock(platform, drill).status == "met"
    assert [t for t, _a, _s in history(platform, drill)] == ["open_window", "complete"]
    assert told(platform, drill) == [("drill_done", "supervisor", "sms", "pending")]


def test_a_person_may_not_fire_the_systems_trigger(platform: Session) -> None:
    drill = opened_drill(platform)
    with pytest.raises(TransitionRefused, match="may not miss"):
        workflow_runner.fire(platform, KIND, SUPERVISOR, drill.id, drill.version, "miss")
    assert drill.state == "open"


def test_a_stale_version_is_refused_before_anything_changes(platform: Session) -> None:
    drill = opened_drill(platform)
    with pytest.raises(Exception, match="changed since you read it"):
        workflow_runner.fire(platform, KIND, SUPERVISOR, drill.id, drill.version - 1, "complete")
    assert drill.state == "open" and window_clock(platform, drill).status == "running"


def test_a_state_whose_deadline_fires_no_system_step_is_refused() -> None:
    with pytest.raises(ValueError, match="no system transition"):
        Workflow(
            "broken",
            ["a", State("b", deadline="d", on_deadline="go"), "c"],
            [Transition("start", ("a",), "b"), Transition("go", ("b",), "c")],
            guards={},
            roles={"start": frozenset({"agent"}), "go": frozenset({"agent"})},
            role_of=lambda facts: "agent",
        )


NUDGE: Workflow[DrillFacts] = Workflow(
    "nudge",
    ["idle", State("waiting", deadline="reply", on_deadline="remind"), "answered"],
    [
        Transition(
            "ask",
            ("idle",),
            "waiting",
            clocks=(ClockEffect(ClockAction.START, ("reply",), "asked"),),
        ),
        # The system reminds and the record stays where its deadline is declared: only the
        # clock's once-only mark keeps the reminder from repeating.
        Transition("remind", ("waiting",), "waiting", system=True),
        Transition("answer", ("waiting",), "answered"),
    ],
    guards={},
    roles={"ask": frozenset({"manager"}), "remind": frozenset(), "answer": frozenset({"manager"})},
    role_of=lambda facts: facts.role,
)
NUDGE_KIND: SubjectKind[Drill, DrillFacts] = SubjectKind(
    name="nudge",
    model=Drill,
    workflow=NUDGE,
    load=KIND.load,
    facts=KIND.facts,
    title=lambda drill: f"nudge {drill.id}",
    record_event=_record,
    apply_clocks=lambda session, drill, effects, now: deadlines.apply_effects(
        session, "nudge", drill.id, effects, now, lambda name, at: at + WINDOW
    ),
    emit=_emit,
)


def test_a_deadline_step_that_leaves_the_state_as_it_was_is_fired_once(
    platform: Session,
) -> None:
    workflow_runner.register(NUDGE_KIND)
    drill = opened_drill(platform)
    drill.state = "idle"
    with time_machine.travel(START, tick=False):
        workflow_runner.fire(platform, NUDGE_KIND, SUPERVISOR, drill.id, drill.version, "ask")
    with time_machine.travel(START + WINDOW + timedelta(minutes=1), tick=False):
        for _ in range(3):
            workflow_runner.pass_instants(platform, clock.now())
    assert drill.state == "waiting"
    assert [t for t, _a, _s in history(platform, drill)][-2:] == ["ask", "remind"]


def test_a_subject_that_cannot_take_its_deadline_step_does_not_stop_the_sweep(
    platform: Session, caplog: pytest.LogCaptureFixture
) -> None:
    gone, kept = opened_drill(platform), opened_drill(platform)
    platform.delete(gone)  # clocks name their subject without a foreign key: it may vanish
    platform.flush()
    with time_machine.travel(START + WINDOW + timedelta(seconds=1), tick=False):
        result = workflow_runner.pass_instants(platform, clock.now())
    assert len(result.breached) == 2  # both marks stand
    assert kept.state == "missed"  # and the other subject took its step
    assert f"drill {gone.id} did not take its deadline step" in caplog.text


def test_a_deadline_of_an_unregistered_kind_is_reported_not_raised(
    platform: Session, caplog: pytest.LogCaptureFixture
) -> None:
    drill = opened_drill(platform)
    workflow_runner.KINDS.clear()  # say, a worker that never imported the area
    with time_machine.travel(START + WINDOW + timedelta(seconds=1), tick=False):
        workflow_runner.pass_instants(platform, clock.now())
    assert drill.state == "open"
    assert "no workflow registered for 'drill' deadlines" in caplog.text


def test_a_kind_whose_records_do_not_count_versions_is_refused() -> None:
    class Unversioned(DrillBase):
        __tablename__ = "test_unversioned"
        id: Mapped[int] = mapped_column(primary_key=True)

    with pytest.raises(ValueError, match="must count its versions"):
        SubjectKind(
            name="unversioned",
            model=Unversioned,
            workflow=WORKFLOW,
            load=KIND.load,
            facts=KIND.facts,
            title=KIND.title,
            record_event=_record,
            apply_clocks=_clocks,
            emit=_emit,
            field_changes={"record_missed": _missed},
        )
