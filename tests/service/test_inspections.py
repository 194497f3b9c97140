"""Inspections on the service layer: generated from C1's and C3's plans, worked through the
one fire path, missed by the sweep, counted in the ledger (a rolled-back session, time moved).

GLPI creates recurring tickets twice when their start lies outside opening hours (glpi #6205,
#8168): generating again here creates nothing, at any hour."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm import workflow_runner
from itsm.accounts.models import User
from itsm.accounts.services.access import Actor
from itsm.directory.models import Contract, District, Institution
from itsm.directory.services.directory import institution_values
from itsm.errors import Forbidden, InvalidInput, PreconditionFailed, TransitionRefused
from itsm.inspections.models import INSPECTION, Inspection, InspectionEvent
from itsm.inspections.services import inspections, plans, transitions
from itsm.models.types import Role
from itsm.notify.models import ContractContact, Notification
from itsm.sla.models import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
"""Monday 2 March 2026, 08:00, before the working day starts."""
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def inspection_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inspection kind known to the sweep (as every process has it), whatever another
    test module did to the registry."""
    monkeypatch.setitem(workflow_runner.KINDS, INSPECTION, transitions.KIND)


class People:
    def __init__(self, session: Session, contract: Contract) -> None:
        n = next(_serial)
        self.users: dict[str, User] = {}
        for name, role in (
            ("engineer", Role.ENGINEER),
            ("other_engineer", Role.ENGINEER),
            ("manager", Role.MANAGER),
            ("admin", Role.ADMIN),
        ):
            user = User(
                username=f"{name}{n}",
                display_name=f"{name} {n}",
                role=role,
                phone="13800138000",
                contracts=[contract] if role != Role.ADMIN else [],
            )
            session.add(user)
            self.users[name] = user
        session.flush()
        session.add(
            ContractContact(
                contract_id=contract.id, duty="supervisor", user_id=self.users["manager"].id
            )
        )
        session.flush()

    def actor(self, name: str) -> Actor:
        return Actor.of(self.users[name])


def contract(session: Session, code: str) -> Contract:
    row = Contract(
        code=code,
        name=f"{code} 合同",
        customer="测试客户",
        service_hours="5×8",
        calendar="cn-5x8",
    )
    session.add(row)
    session.flush()
    return row


def site(session: Session, of: Contract) -> Institution:
    n = next(_serial)
    district = District(code=f"D{n}", name=f"区{n}", city="北京市", tier="urban")
    session.add(district)
    session.flush()
    row = Institution(
        **institution_values(
            code=f"I{n}",
            name=f"第{n}医院",
            kind="hospital",
            district_id=district.id,
            contract_id=of.id,
            address="北京市",
            latitude=39.9,
            longitude=116.4,
            phones=[],
        )
    )
    session.add(row)
    session.flush()
    return row


def of_contract(session: Session, c: Contract) -> list[Inspection]:
    return list(
        session.scalars(
            select(Inspection).where(Inspection.contract_id == c.id).order_by(Inspection.day)
        )
    )


def test_generating_again_creates_nothing_and_no_window_already_ended(session: Session) -> None:
    c1 = contract(session, "C1")
    wednesday = MONDAY + timedelta(days=2, hours=12)  # Wed 4 March, 20:00: outside hours
    with time_machine.travel(wednesday, tick=False):
        first = inspections.generate(session, c1, date(2026, 4, 30), wednesday)
        again = inspections.generate(session, c1, date(2026, 4, 30), wednesday)
    made = of_contract(session, c1)
    assert first.created == len(made) > 0 and again.created == 0
    assert again.existing == first.created
    assert all(i.window_end >= date(2026, 3, 4) for i in made)
    weeks = {i.occurrence_key for i in made if i.kind == "system"}
    assert "system:2026-W10" in weeks and "system:2026-W09" not in weeks  # W09 has ended
    assert {i.plan_version for i in made} == {1}
    numbers = [i.number for i in made]
    assert len(set(numbers)) == len(numbers) and numbers[0].startswith("INS-2026-")
    # Each has its window deadline, warned at the start of the window's last working day.
    first_one = made[0]
    deadline = session.scalar(
        select(Clock).where(Clock.subject_type == INSPECTION, Clock.subject_id == first_one.id)
    )
    assert deadline is not None and deadline.due_at == first_one.due_at
    local_due = first_one.due_at.astimezone(SHANGHAI)
    assert local_due.date() == first_one.window_end and local_due.hour == 17
    assert deadline.warn_at.astimezone(SHANGHAI).hour == 9


def test_a_missed_window_is_missed_once_by_the_sweep_told_and_counted(session: Session) -> None:
    c1 = contract(session, "C1")
    people = People(session, c1)
    with time_machine.travel(MONDAY, tick=False):
        inspections.generate(session, c1, date(2026, 3, 8), MONDAY)
    system = next(i for i in of_contract(session, c1) if i.kind == "system")
    assert system.window_end == date(2026, 3, 6)
    transitions.fire(
        session,
        people.actor("manager"),
        system.id,
        system.version,
        "assign",
        assignee_id=people.users["engineer"].id,
    )
    warning = datetime(2026, 3, 6, 9, 0, 1, tzinfo=SHANGHAI)
    with time_machine.travel(warning, tick=False):
        workflow_runner.pass_instants(session, warning)
    told = told_of(session, system)
    assert ("inspection_due_soon", "assignee") in told
    assert ("inspection_due_soon", "supervisor") in told
    closed = datetime(2026, 3, 6, 17, 0, 5, tzinfo=SHANGHAI)
    with time_machine.travel(closed, tick=False):
        workflow_runner.pass_instants(session, closed)
        workflow_runner.pass_instants(session, closed + timedelta(minutes=1))  # and again
    session.refresh(system)
    assert system.state == "missed" and system.missed_at is not None
    misses = session.scalars(
        select(InspectionEvent).where(
            InspectionEvent.inspection_id == system.id, InspectionEvent.trigger == "miss"
        )
    ).all()
    assert len(misses) == 1 and misses[0].actor_id is None
    assert told_of(session, system).count(("inspection_missed", "assignee")) == 1
    ledger = {line.kind: line for line in inspections.ledger(session, c1, 2026, closed)}
    assert ledger["system"].missed == 1 and ledger["system"].required == 52


def told_of(session: Session, inspection: Inspection) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Notification.event, Notification.audience).where(
            Notification.subject_type == INSPECTION, Notification.subject_id == inspection.id
        )
    )
    return [(event, audience) for event, audience in rows]


def test_an_engineer_runs_the_checklist_submits_and_the_customer_accepts(
    session: Session,
) -> None:
    c1 = contract(session, "C1")
    people = People(session, c1)
    with time_machine.travel(MONDAY, tick=False):
        inspections.generate(session, c1, date(2026, 3, 8), MONDAY)
    device = next(i for i in of_contract(session, c1) if i.kind == "device")
    engineer = people.actor("engineer")
    at = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(at, tick=False):
        with pytest.raises(TransitionRefused):  # nobody is assigned yet
            transitions.fire(session, engineer, device.id, device.version, "start")
        transitions.fire(
            session,
            people.actor("manager"),
            device.id,
            device.version,
            "assign",
            assignee_id=people.users["engineer"].id,
        )
        with pytest.raises(TransitionRefused):  # another engineer may not start it
            transitions.fire(
                session, people.actor("other_engineer"), device.id, device.version, "start"
            )
        transitions.fire(session, engineer, device.id, device.version, "start")
        answers: dict[str, Any] = {"hosts": "ok", "cpu": 93, "memory": 40}
        _, state = inspections.put_checklist(session, engineer, device.id, device.version, answers)
        assert state.faults == ("cpu",) and "disk" in state.missing
        with pytest.raises(TransitionRefused, match="checklist"):
            transitions.fire(session, engineer, device.id, device.version, "submit")
        with pytest.raises(InvalidInput, match="cpu"):
            inspections.put_checklist(
                session, engineer, device.id, device.version, {**answers, "cpu": "high"}
            )
        answers.update(disk=50, backup_age=3)
        inspections.put_checklist(session, engineer, device.id, device.version, answers)
        with pytest.raises(PreconditionFailed):
            transitions.fire(session, engineer, device.id, device.version - 1, "submit")
        transitions.fire(session, engineer, device.id, device.version, "submit")
        transitions.fire(session, people.actor("manager"), device.id, device.version, "accept")
    assert device.state == "accepted" and device.submitted_at == at
    window = session.scalar(
        select(Clock).where(Clock.subject_type == INSPECTION, Clock.subject_id == device.id)
    )
    assert window is not None and window.status == "met"
    ledger = {line.kind: line for line in inspections.ledger(session, c1, 2026, at)}
    assert ledger["device"].done == 1 and ledger["device"].remaining == 51


def test_a_fault_item_opens_one_linked_ticket(session: Session) -> None:
    c3 = contract(session, "C3")
    hospital = site(session, c3)
    people = People(session, c3)
    manager = people.actor("manager")
    due = MONDAY + timedelta(days=3)
    with time_machine.travel(MONDAY, tick=False):
        adhoc = inspections.create_ad_hoc(
            session,
            manager,
            c3,
            {
                "kind": "db_server",
                "due_at": due,
                "institution_id": hospital.id,
                "assignee_id": people.users["engineer"].id,
            },
        )
        transitions.fire(session, people.actor("engineer"), adhoc.id, adhoc.version, "start")
        inspections.put_checklist(
            session,
            people.actor("engineer"),
            adhoc.id,
            adhoc.version,
            {"instances": "ok", "cpu": 20, "memory": 30, "tablespace": 97, "backup_age": 2},
        )
        with pytest.raises(InvalidInput, match="not marked a fault"):
            inspections.open_ticket(session, manager, adhoc.id, "cpu", {})
        link = inspections.open_ticket(session, manager, adhoc.id, "tablespace", {})
        with pytest.raises(InvalidInput, match="already has its ticket"):
            inspections.open_ticket(session, manager, adhoc.id, "tablespace", {})
    assert adhoc.occurrence_key.startswith("ad_hoc:") and adhoc.plan_version is None
    assert "表空间使用率" in link.ticket.title and link.ticket.institution_id == hospital.id
    assert [t.ticket_id for t in inspections.linked_tickets(session, adhoc.id)] == [link.ticket_id]


def test_a_plan_version_is_published_on_the_one_read_and_old_occurrences_keep_theirs(
    session: Session,
) -> None:
    c1 = contract(session, "C1")
    people = People(session, c1)
    admin = people.actor("admin")
    with time_machine.travel(MONDAY, tick=False):
        inspections.generate(session, c1, date(2026, 3, 8), MONDAY)
        shipped = plans.current_plan(session, c1)
        assert shipped is not None and shipped.version == 1
        document = dict(shipped.document)
        document["obligations"] = [o for o in document["obligations"] if o["kind"] == "system"]
        with pytest.raises(PreconditionFailed):
            plans.publish(session, admin, c1, document, expected_version=7)
        with pytest.raises(InvalidInput) as bad:
            plans.publish(session, admin, c1, {"obligations": [{"kind": "x"}]}, 1)
        assert any(e.startswith("$.obligations[0]") for e in bad.value.details["errors"]["plan"])
        second = plans.publish(session, admin, c1, document, expected_version=1)
        assert second.version == 2
        made = inspections.generate(session, c1, date(2026, 3, 20), MONDAY)
    kinds = {(i.kind, i.plan_version) for i in of_contract(session, c1)}
    assert ("device", 1) in kinds and ("system", 2) in kinds and ("device", 2) not in kinds
    assert made.created > 0


def test_contracts_without_an_inspection_clause_have_no_plan(session: Session) -> None:
    for code in ("C0", "C2", "C4"):
        assert plans.current_plan(session, contract(session, code)) is None


def test_only_staff_of_the_contract_see_and_assign_its_inspections(session: Session) -> None:
    c1, c3 = contract(session, "C1"), contract(session, "C3")
    here, there = People(session, c1), People(session, c3)
    with time_machine.travel(MONDAY, tick=False):
        inspections.generate(session, c1, date(2026, 3, 8), MONDAY)
    one = of_contract(session, c1)[0]
    with pytest.raises(Exception, match="not found"):
        inspections.get(session, there.actor("manager"), one.id)
    assert inspections.get(session, here.actor("engineer"), one.id) is one
    with pytest.raises(Forbidden):
        inspections.update(
            session,
            here.actor("engineer"),
            one.id,
            one.version,
            {"assignee_id": here.users["engineer"].id},
        )
    count = session.scalar(
        select(func.count())
        .select_from(Inspection)
        .where(inspections.scope(there.actor("manager")), Inspection.contract_id == c1.id)
    )
    assert count == 0


def test_the_ledger_says_at_risk_when_what_remains_cannot_fit(session: Session) -> None:
    c1 = contract(session, "C1")
    late = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(late, tick=False):
        inspections.generate(session, c1, date(2026, 12, 31), late)
        ledger = {line.kind: line for line in inspections.ledger(session, c1, 2026, late)}
    # Nothing done all year: 52 required, about 5 weeks left.
    assert ledger["system"].at_risk and "not_enough_occurrences_left" in ledger["system"].reasons
    assert ledger["system"].planned >= 52 and ledger["system"].next_due is not None


def test_generate_ahead_makes_ninety_days_for_every_contract_with_a_plan(session: Session) -> None:
    c1, c4 = contract(session, "C1"), contract(session, "C4")
    now = MONDAY.astimezone(UTC)
    with time_machine.travel(now, tick=False):
        created = inspections.generate_ahead(session, now)
        assert inspections.generate_ahead(session, now) == 0
    made = of_contract(session, c1)
    assert created >= len(made) > 20 and not of_contract(session, c4)
    assert max(i.day for i in made) <= date(2026, 3, 2) + timedelta(days=90)
