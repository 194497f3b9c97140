"""Inspections: generated from the contract's plan on its working days, found and changed in
the actor's scope, their checklists answered, their faults turned into tickets, and the
ledger of what each obligation still owes this year."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, func, insert, select
from sqlalchemy.orm import Session

from itsm import clock
from itsm.accounts.models import User
from itsm.accounts.services.access import Actor, work_scope
from itsm.db import column_values
from itsm.directory.models import Contract, Institution
from itsm.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed
from itsm.inspections.models import (
    INSPECTION,
    Inspection,
    InspectionEvent,
    InspectionPhoto,
    InspectionSerial,
    InspectionTicket,
)
from itsm.inspections.services import plans
from itsm.models.events import record_event
from itsm.sla.services import calendars, deadlines
from itsm.sla.services.sla import schedule_timers
from itsm.tickets.services import ticket_files
from itsm.tickets.services import tickets as ticket_service
from sla_rules.calendar import BusinessCalendar
from sla_rules.inspections import (
    ChecklistItem,
    ChecklistState,
    ItemType,
    Mode,
    ObligationKind,
    Occurrence,
    Plan,
    evaluate,
    occurrences,
)
from workflows import inspection as wf

GENERATE_DAYS_AHEAD = 90
MAX_GENERATE_DAYS = 800
"""`itsm inspections generate --through` may reach at most this far ahead."""
MAX_AD_HOC_DAYS = 366
"""How far ahead an ad-hoc inspection may fall due."""

AD_HOC_CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("result", "巡检结果", ItemType.CHECK),
    ChecklistItem("findings", "发现与建议", ItemType.TEXT),
)


# --- scope --------------------------------------------------------------------------------


def scope(actor: Actor) -> ColumnElement[bool]:
    """The inspections this actor may see, by the tickets' rules (`access.work_scope`)."""
    return work_scope(
        actor,
        Inspection.contract_id,
        Inspection.assignee_id,
        Inspection.state,
        wf.OPEN_STATES,
        Inspection.institution_id,
    )


def get(session: Session, actor: Actor, inspection_id: int) -> Inspection:
    found = session.scalar(select(Inspection).where(Inspection.id == inspection_id, scope(actor)))
    if found is None:
        raise NotFound(f"inspection {inspection_id} not found")
    return found


def load(session: Session, actor: Actor | None, inspection_id: int) -> Inspection:
    """In the actor's scope; for the system (a deadline), any."""
    if actor is not None:
        return get(session, actor, inspection_id)
    found = session.get(Inspection, inspection_id)
    if found is None:
        raise NotFound(f"inspection {inspection_id} not found")
    return found


def record(
    session: Session,
    inspection: Inspection,
    actor: Actor | None,
    kind: str,
    at: datetime,
    **line: Any,
) -> InspectionEvent:
    return record_event(
        session,
        InspectionEvent,
        inspection.id,
        actor.user_id if actor else None,
        kind,
        at=at,
        **line,
    )


# --- generation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    created: int
    existing: int
    skipped_ended: int


def window_instants(calendar: BusinessCalendar, window_end: date) -> tuple[datetime, datetime]:
    """(warn, due) of a window: the start and the end of its last working day's business
    hours on the contract's calendar (a 24x7 calendar: that day's midnight and the next)."""
    periods = calendar.days(window_end, window_end)[0].periods
    if periods:
        return periods[0][0], periods[-1][1]
    zone = ZoneInfo(calendar.timezone)
    start = datetime.combine(window_end, time(0), tzinfo=zone)
    return start, start + timedelta(days=1)


def generate(session: Session, contract: Contract, through: date, now: datetime) -> Generated:
    """Make the plan's occurrences from today to `through` that do not exist yet.

    Generating again creates nothing twice (each occurrence has a key unique in its
    contract), nothing is made for a window that has already ended, and each occurrence
    keeps the plan version it was made under."""
    plan_row = plans.current_plan(session, contract)
    if plan_row is None:
        return Generated(0, 0, 0)
    zone = ZoneInfo(contract.timezone)
    today = now.astimezone(zone).date()
    if through < today:
        raise InvalidInput(f"{through} has passed; generate through a day from {today} on")
    if (through - today).days > MAX_GENERATE_DAYS:
        raise InvalidInput(f"generate at most {MAX_GENERATE_DAYS} days ahead")
    plan = plans.parsed(plan_row)
    book = calendars.schedule_book(session)
    found = occurrences(plan, book, today - timedelta(days=40), through)
    ended = [o for o in found if o.window_end < today]
    live = [o for o in found if o.window_end >= today]
    existing = set(
        session.scalars(
            select(Inspection.occurrence_key).where(
                Inspection.contract_id == contract.id,
                Inspection.occurrence_key.in_([o.key for o in live]),
            )
        )
    )
    fresh = [o for o in live if o.key not in existing]
    if fresh:
        calendar = calendars.contract_calendar(session, contract.calendar)
        assignees = _usernames(session, contract, {o.assignee for o in fresh if o.assignee})
        obligations = {o.kind: o for o in plan.obligations}
        sites = _sites(session, contract, {o.site for o in plan.obligations if o.site})
        _insert(
            session,
            contract,
            plan_row.id,
            plan_row.version,
            fresh,
            obligations,
            calendar,
            assignees,
            sites,
            now,
        )
    return Generated(len(fresh), len(live) - len(fresh), len(ended))


def _sites(session: Session, contract: Contract, codes: set[str]) -> dict[str | None, int]:
    """The contract's institutions a plan names, by code; None: its only one, if it has one."""
    found: dict[str | None, int] = {}
    if codes:
        rows = session.execute(
            select(Institution.code, Institution.id).where(
                Institution.contract_id == contract.id, Institution.code.in_(codes)
            )
        )
        found.update({code: institution_id for code, institution_id in rows})
    only = session.scalars(
        select(Institution.id).where(Institution.contract_id == contract.id).limit(2)
    ).all()
    if len(only) == 1:
        found[None] = only[0]
    return found


def _usernames(session: Session, contract: Contract, names: set[str]) -> dict[str, int]:
    """The plan's assignees that are active engineers or staff of the contract, by name."""
    if not names:
        return {}
    users = session.scalars(select(User).where(User.username.in_(names), User.active))
    return {u.username: u.id for u in users if contract.id in u.contract_ids}


_INSPECTIONS = cast(Table, Inspection.__table__)
_SERIALS = insert(InspectionSerial).returning(InspectionSerial.id, sort_by_parameter_order=True)


def _numbers(session: Session, count: int, now: datetime) -> list[str]:
    serials = session.scalars(_SERIALS, [{"issued_at": now}] * count).all()
    return [f"INS-{now.year}-{serial:06d}" for serial in serials]


def _insert(
    session: Session,
    contract: Contract,
    plan_id: int,
    plan_version: int,
    fresh: Sequence[Occurrence],
    obligations: dict[ObligationKind, Any],
    calendar: BusinessCalendar,
    assignees: dict[str, int],
    sites: dict[str | None, int],
    now: datetime,
) -> None:
    numbers = _numbers(session, len(fresh), now)
    rows = []
    instants = []
    for number, occurrence in zip(numbers, fresh, strict=True):
        obligation = obligations[occurrence.kind]
        warn_at, due_at = window_instants(calendar, occurrence.window_end)
        instants.append(warn_at)
        assignee_id = assignees.get(occurrence.assignee or "")
        rows.append(
            column_values(
                _INSPECTIONS,
                {
                    "number": number,
                    "contract_id": contract.id,
                    "institution_id": sites.get(obligation.site),
                    "kind": occurrence.kind.value,
                    "mode": occurrence.mode.value,
                    "title": obligation.title,
                    "occurrence_key": occurrence.key,
                    "plan_id": plan_id,
                    "plan_version": plan_version,
                    "clause": obligation.clause,
                    "day": occurrence.day,
                    "window_start": occurrence.window_start,
                    "window_end": occurrence.window_end,
                    "due_at": due_at,
                    "state": wf.ASSIGNED if assignee_id else wf.PLANNED,
                    "assignee_id": assignee_id,
                    "checklist": [_item_dict(item) for item in obligation.checklist],
                    "answers": {},
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                },
            )
        )
    ids = session.scalars(
        insert(_INSPECTIONS).returning(_INSPECTIONS.c.id, sort_by_parameter_order=True), rows
    ).all()
    session.execute(
        insert(cast(Table, InspectionEvent.__table__)),
        [
            {
                "inspection_id": inspection_id,
                "at": now,
                "actor_id": None,
                "kind": "generated",
                "trigger": None,
                "from_state": None,
                "to_state": row["state"],
                "note": None,
                "data": {"plan_version": plan_version, "key": row["occurrence_key"]},
            }
            for inspection_id, row in zip(ids, rows, strict=True)
        ],
    )
    deadlines.start_many(
        session,
        INSPECTION,
        wf.WINDOW,
        [
            deadlines.Deadline(inspection_id, row["due_at"], warn_at)
            for inspection_id, row, warn_at in zip(ids, rows, instants, strict=True)
        ],
        now,
        "window opened",
    )


def _item_dict(item: ChecklistItem) -> dict[str, Any]:
    values: dict[str, Any] = {"key": item.key, "label": item.label, "type": item.type.value}
    if not item.required:
        values["required"] = False
    if item.unit:
        values["unit"] = item.unit
    if item.min is not None:
        values["min"] = item.min
    if item.max is not None:
        values["max"] = item.max
    return values


def checklist_items(inspection: Inspection) -> tuple[ChecklistItem, ...]:
    return tuple(
        ChecklistItem(
            key=entry["key"],
            label=entry["label"],
            type=ItemType(entry["type"]),
            required=entry.get("required", True),
            unit=entry.get("unit", ""),
            min=entry.get("min"),
            max=entry.get("max"),
        )
        for entry in inspection.checklist
    )


def generate_ahead(session: Session, now: datetime, days: int = GENERATE_DAYS_AHEAD) -> int:
    """Every contract's occurrences for the next `days` (what `itsm cron` runs daily)."""
    created = 0
    for contract in session.scalars(select(Contract).order_by(Contract.id)):
        if plans.current_plan(session, contract) is None:
            continue
        today = now.astimezone(ZoneInfo(contract.timezone)).date()
        created += generate(session, contract, today + timedelta(days=days), now).created
    return created


def create_ad_hoc(
    session: Session, actor: Actor, contract: Contract, fields: dict[str, Any]
) -> Inspection:
    """An inspection a person asks for, outside the plan (staff), due at a given instant."""
    if not actor.is_staff:
        raise Forbidden("only agents, managers and admins may ask for an inspection")
    now = clock.now()
    due_at: datetime = fields["due_at"]
    if due_at <= now:
        raise InvalidInput("due_at has passed; give an instant to come")
    if due_at > now + timedelta(days=MAX_AD_HOC_DAYS):
        raise InvalidInput(f"due_at is more than {MAX_AD_HOC_DAYS} days away; ask for it later")
    kind = ObligationKind(fields.get("kind") or ObligationKind.AD_HOC)
    template = AD_HOC_CHECKLIST
    plan_row = plans.current_plan(session, contract)
    if plan_row is not None:
        for obligation in plans.parsed(plan_row).obligations:
            if obligation.kind == kind:
                template = obligation.checklist
    institution_id = fields.get("institution_id")
    if institution_id is not None:
        institution = session.get(Institution, institution_id)
        if institution is None or institution.contract_id != contract.id:
            raise InvalidInput(f"institution {institution_id} is not one of {contract.code}'s")
    assignee_id = fields.get("assignee_id")
    if assignee_id is not None:
        ticket_service.check_assignee(session, contract.id, assignee_id)
    number = _numbers(session, 1, now)[0]
    local_due = due_at.astimezone(ZoneInfo(contract.timezone)).date()
    inspection = Inspection(
        number=number,
        contract_id=contract.id,
        institution_id=institution_id,
        kind=kind.value,
        mode=Mode(fields.get("mode") or Mode.EITHER).value,
        title=fields.get("title") or "临时巡检",
        occurrence_key=f"ad_hoc:{number}",
        plan_id=None,
        plan_version=None,
        clause="",
        day=min(now.astimezone(ZoneInfo(contract.timezone)).date(), local_due),
        window_start=now.astimezone(ZoneInfo(contract.timezone)).date(),
        window_end=local_due,
        due_at=due_at,
        state=wf.ASSIGNED if assignee_id else wf.PLANNED,
        assignee_id=assignee_id,
        checklist=[_item_dict(item) for item in template],
        answers={},
        created_at=now,
        updated_at=now,
    )
    session.add(inspection)
    session.flush()
    record(
        session,
        inspection,
        actor,
        "created",
        now,
        to_state=inspection.state,
        note=fields.get("note"),
    )
    warn_at = due_at - min((due_at - now) / 4, timedelta(hours=4))
    started = deadlines.start(
        session, INSPECTION, inspection.id, wf.WINDOW, due_at, now, "window opened", warn_at
    )
    schedule_timers(session, [started])
    return inspection


# --- lists and changes --------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionFilter:
    contract_id: int | None = None
    kind: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    assignee_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None


def list_inspections(
    session: Session, actor: Actor, flt: InspectionFilter, page: int, per_page: int
) -> tuple[list[Inspection], int]:
    """The inspections the actor may see that match, by day, with the total."""
    conditions: list[ColumnElement[bool]] = [scope(actor)]
    if flt.contract_id is not None:
        conditions.append(Inspection.contract_id == flt.contract_id)
    if flt.kind:
        conditions.append(Inspection.kind.in_(flt.kind))
    if flt.state:
        conditions.append(Inspection.state.in_(flt.state))
    if flt.assignee_id is not None:
        conditions.append(Inspection.assignee_id == flt.assignee_id)
    if flt.day_from is not None:
        conditions.append(Inspection.day >= flt.day_from)
    if flt.day_to is not None:
        conditions.append(Inspection.day <= flt.day_to)
    total = session.scalar(select(func.count()).select_from(Inspection).where(*conditions)) or 0
    items = session.scalars(
        select(Inspection)
        .where(*conditions)
        .order_by(Inspection.day, Inspection.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(items), total


def check_version(inspection: Inspection, expected_version: int) -> None:
    if inspection.version != expected_version:
        raise PreconditionFailed(
            f"inspection {inspection.number} changed since you read it (version "
            f"{expected_version}, now {inspection.version}); reload it and apply your change again",
            current_etag=inspection.etag,
        )


def update(
    session: Session,
    actor: Actor,
    inspection_id: int,
    expected_version: int,
    changes: dict[str, Any],
) -> Inspection:
    """Change the assignee (staff) or the planned time (the assignee or staff), never the
    state: that goes through the workflow."""
    inspection = get(session, actor, inspection_id)
    check_version(inspection, expected_version)
    if inspection.state in wf.FINAL_STATES | wf.DONE_STATES:
        raise InvalidInput(
            f"inspection {inspection.number} is {inspection.state}: nothing to change"
        )
    now = clock.now()
    changed: dict[str, Any] = {}
    if "assignee_id" in changes and changes["assignee_id"] != inspection.assignee_id:
        if not actor.is_staff:
            raise Forbidden("only agents, managers and admins assign inspections")
        assignee_id = changes["assignee_id"]
        if assignee_id is not None:
            ticket_service.check_assignee(session, inspection.contract_id, assignee_id)
        changed["assignee"] = [inspection.assignee_id, assignee_id]
        inspection.assignee_id = assignee_id
    if "scheduled_at" in changes and changes["scheduled_at"] != inspection.scheduled_at:
        if not actor.is_staff and actor.user_id != inspection.assignee_id:
            raise Forbidden("only the assigned engineer or staff plan its time")
        scheduled_at = changes["scheduled_at"]
        if scheduled_at is not None and scheduled_at > inspection.due_at:
            raise InvalidInput("the planned time is after the window closes")
        changed["scheduled_at"] = [
            inspection.scheduled_at.isoformat() if inspection.scheduled_at else None,
            scheduled_at.isoformat() if scheduled_at else None,
        ]
        inspection.scheduled_at = scheduled_at
    if changed:
        inspection.updated_at = now
        record(session, inspection, actor, "update", now, data=changed)
        session.flush()
    return inspection


def photo_counts(session: Session, inspection_id: int) -> dict[str, int]:
    rows = session.execute(
        select(InspectionPhoto.item_key, func.count())
        .where(InspectionPhoto.inspection_id == inspection_id)
        .group_by(InspectionPhoto.item_key)
    )
    return {key: count for key, count in rows if key}


def checklist_state(session: Session, inspection: Inspection) -> ChecklistState:
    return evaluate(
        checklist_items(inspection), inspection.answers or {}, photo_counts(session, inspection.id)
    )


def _editable_by(inspection: Inspection, actor: Actor) -> None:
    if inspection.state not in (wf.ASSIGNED, wf.IN_PROGRESS):
        raise InvalidInput(
            f"inspection {inspection.number} is {inspection.state}; its checklist is answered "
            "while it is assigned or in progress"
        )
    if not actor.is_staff and actor.user_id != inspection.assignee_id:
        raise Forbidden("only the assigned engineer or staff answer its checklist")


def put_checklist(
    session: Session,
    actor: Actor,
    inspection_id: int,
    expected_version: int,
    answers: dict[str, Any],
) -> tuple[Inspection, ChecklistState]:
    """Replace the answers; malformed ones are refused naming the item, missing ones are
    allowed until submission."""
    inspection = get(session, actor, inspection_id)
    check_version(inspection, expected_version)
    _editable_by(inspection, actor)
    cleaned = {key: value for key, value in answers.items() if value is not None and value != ""}
    state = evaluate(checklist_items(inspection), cleaned, photo_counts(session, inspection.id))
    if state.errors:
        raise InvalidInput("; ".join(state.errors), errors={"answers": list(state.errors)})
    now = clock.now()
    inspection.answers = cleaned
    inspection.updated_at = now
    record(
        session,
        inspection,
        actor,
        "checklist",
        now,
        data={"answered": len(cleaned), "faults": list(state.faults)},
    )
    session.flush()
    return inspection, state


def add_photo(
    session: Session,
    actor: Actor,
    inspection_id: int,
    item_key: str | None,
    filename: str,
    content: bytes,
    storage_root: Path,
    max_bytes: int,
) -> tuple[InspectionPhoto, Path]:
    """Check, store and record a photo (or file), for a checklist item or the whole."""
    inspection = get(session, actor, inspection_id)
    _editable_by(inspection, actor)
    if item_key is not None and item_key not in {i.key for i in checklist_items(inspection)}:
        raise InvalidInput(f"{item_key!r} is not an item of this checklist")
    folder = f"inspections/{inspection.id}"
    columns, path = ticket_files.store_upload(filename, content, storage_root, folder, max_bytes)
    now = clock.now()
    photo = InspectionPhoto(
        inspection_id=inspection.id,
        item_key=item_key,
        uploaded_by_id=actor.user_id,
        created_at=now,
        **columns,
    )
    session.add(photo)
    inspection.updated_at = now
    session.flush()
    record(
        session,
        inspection,
        actor,
        "photo",
        now,
        data={"photo_id": photo.id, "item": item_key, "filename": photo.filename},
    )
    return photo, path


def list_photos(session: Session, actor: Actor, inspection_id: int) -> list[InspectionPhoto]:
    get(session, actor, inspection_id)
    return list(
        session.scalars(
            select(InspectionPhoto)
            .where(InspectionPhoto.inspection_id == inspection_id)
            .order_by(InspectionPhoto.id)
        )
    )


def get_photo(session: Session, actor: Actor, inspection_id: int, photo_id: int) -> InspectionPhoto:
    get(session, actor, inspection_id)
    photo = session.get(InspectionPhoto, photo_id)
    if photo is None or photo.inspection_id != inspection_id:
        raise NotFound(f"photo {photo_id} not found on inspection {inspection_id}")
    return photo


def linked_tickets(session: Session, inspection_id: int) -> list[InspectionTicket]:
    return list(
        session.scalars(
            select(InspectionTicket)
            .where(InspectionTicket.inspection_id == inspection_id)
            .order_by(InspectionTicket.created_at)
        )
    )


def list_events(session: Session, actor: Actor, inspection_id: int) -> list[InspectionEvent]:
    get(session, actor, inspection_id)
    return list(
        session.scalars(
            select(InspectionEvent)
            .where(InspectionEvent.inspection_id == inspection_id)
            .order_by(InspectionEvent.at, InspectionEvent.id)
        )
    )


def open_ticket(
    session: Session, actor: Actor, inspection_id: int, item_key: str, fields: dict[str, Any]
) -> InspectionTicket:
    """A ticket for a fault item, in one step: named after the item, linked both ways."""
    inspection = get(session, actor, inspection_id)
    items = {item.key: item for item in checklist_items(inspection)}
    if item_key not in items:
        raise InvalidInput(f"{item_key!r} is not an item of this checklist")
    if item_key not in checklist_state(session, inspection).faults:
        raise InvalidInput(f"item {items[item_key].label} is not marked a fault")
    if session.scalar(
        select(InspectionTicket).where(
            InspectionTicket.inspection_id == inspection.id,
            InspectionTicket.item_key == item_key,
        )
    ):
        raise InvalidInput(f"item {items[item_key].label} already has its ticket")
    institution_id = fields.get("institution_id") or inspection.institution_id
    if institution_id is None:
        raise InvalidInput("say which institution the fault is at (institution_id)")
    item = items[item_key]
    answer = (inspection.answers or {}).get(item_key)
    shown = f"{answer}{item.unit}" if isinstance(answer, int | float) else ""
    body = {
        "institution_id": institution_id,
        "title": fields.get("title") or f"巡检{inspection.number}发现：{item.label}异常{shown}",
        "description": fields.get("description")
        or f"巡检 {inspection.number}（{inspection.title}）的检查项「{item.label}」异常。",
        "priority": fields.get("priority", "P3"),
        "category": fields.get("category", "other"),
        "kind": "incident",
        "reported_at": clock.now(),
    }
    created = ticket_service.create_ticket(session, actor, body, None)
    now = clock.now()
    link = InspectionTicket(
        inspection_id=inspection.id,
        ticket_id=created.ticket.id,
        item_key=item_key,
        created_at=now,
    )
    session.add(link)
    record(
        session,
        inspection,
        actor,
        "ticket",
        now,
        data={"ticket_id": created.ticket.id, "number": created.ticket.number, "item": item_key},
    )
    ticket_service.record_event(
        session,
        created.ticket,
        actor,
        "inspection",
        at=now,
        data={"inspection_id": inspection.id, "number": inspection.number, "item": item_key},
    )
    session.flush()
    return link


# --- the ledger ---------------------------------------------------------------------------


@dataclass
class LedgerLine:
    kind: str
    title: str
    clause: str
    required: int
    planned: int = 0
    done: int = 0
    missed: int = 0
    open: int = 0
    remaining: int = 0
    next_due: datetime | None = None
    at_risk: bool = False
    reasons: list[str] = field(default_factory=list)


def ledger(session: Session, contract: Contract, year: int, now: datetime) -> list[LedgerLine]:
    """Per obligation of the current plan: what the year requires, plans, has done (submitted
    or accepted), missed, and whether what remains can still be done."""
    plan_row = plans.current_plan(session, contract)
    if plan_row is None:
        return []
    plan: Plan = plans.parsed(plan_row)
    book = calendars.schedule_book(session)
    first, last = date(year, 1, 1), date(year, 12, 31)
    today = now.astimezone(ZoneInfo(contract.timezone)).date()
    this_year = occurrences(plan, book, first, last)
    planned = Counter(o.kind.value for o in this_year)
    ahead = Counter(o.kind.value for o in this_year if o.window_end >= today)
    """Occurrences whose window has not closed: what can still be done this year."""
    counts = Counter(
        (kind, state)
        for kind, state in session.execute(
            select(Inspection.kind, Inspection.state).where(
                Inspection.contract_id == contract.id,
                Inspection.day >= first,
                Inspection.day <= last,
            )
        )
    )
    upcoming = {
        kind: (due_at, warn_at)
        for kind, due_at, warn_at in _next_open(session, contract.id, first, last)
    }
    lines = []
    for obligation in plan.obligations:
        kind = obligation.kind.value
        line = LedgerLine(kind, obligation.title, obligation.clause, obligation.required)
        line.planned = planned[kind]
        line.done = sum(counts[(kind, s)] for s in wf.DONE_STATES)
        line.missed = counts[(kind, wf.MISSED)]
        line.open = sum(counts[(kind, s)] for s in wf.OPEN_STATES)
        line.remaining = max(obligation.required - line.done, 0)
        due = upcoming.get(kind)
        line.next_due = due[0] if due else None
        if line.remaining > ahead[kind]:
            line.at_risk = True
            line.reasons.append("not_enough_occurrences_left")
        if due is not None and now >= due[1]:
            line.at_risk = True
            line.reasons.append("next_window_closing")
        lines.append(line)
    return lines


def _next_open(
    session: Session, contract_id: int, first: date, last: date
) -> Iterable[tuple[str, datetime, datetime]]:
    """Per kind, the open inspection closing first this year: (kind, due, warning)."""
    from itsm.sla.models import Clock

    rows = session.execute(
        select(Inspection.kind, Inspection.due_at, Clock.warn_at)
        .join(
            Clock,
            and_(
                Clock.subject_type == INSPECTION,
                Clock.subject_id == Inspection.id,
                Clock.metric == wf.WINDOW,
            ),
        )
        .where(
            Inspection.contract_id == contract_id,
            Inspection.state.in_(wf.OPEN_STATES),
            Inspection.day >= first,
            Inspection.day <= last,
        )
        .order_by(Inspection.due_at)
    )
    seen: set[str] = set()
    for kind, due_at, warn_at in rows:
        if kind not in seen:
            seen.add(kind)
            yield kind, due_at, warn_at


# --- the month's calendar -----------------------------------------------------------------

MONTH_SHOWN = 500
"""At most this many inspections of a contract are shown in one month's calendar."""


@dataclass
class CalendarDay:
    """A day of a contract's inspection calendar: whether the working-day schedule makes it a
    working day and why (a holiday, a make-up working day …), and the inspections planned on it."""

    day: date
    working: bool
    reason: str
    inspections: list[Inspection] = field(default_factory=list)


@dataclass
class MonthCalendar:
    first: date
    days: list[CalendarDay]
    total: int
    """How many inspections the month has (more than shown when over MONTH_SHOWN)."""
    fallback: bool
    """The year has no working-day schedule: Monday to Friday are taken as working days."""


def month_calendar(
    session: Session, actor: Actor, contract: Contract, first: date
) -> MonthCalendar:
    """The month from `first` (its first day): each day with its schedule's reason and the
    contract's inspections planned on it that the actor may see, by number."""
    first = first.replace(day=1)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    book = calendars.schedule_book(session)
    flt = InspectionFilter(contract_id=contract.id, day_from=first, day_to=last)
    found, total = list_inspections(session, actor, flt, 1, MONTH_SHOWN)
    days = [
        CalendarDay(d, book.is_working_day(d), book.reason(d).value)
        for d in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
    for inspection in found:
        days[(inspection.day - first).days].inspections.append(inspection)
    return MonthCalendar(first, days, total, book.is_fallback(first.year))


def distance_to_site(inspection: Inspection, latitude: float, longitude: float) -> int | None:
    """Metres from the inspected institution (None when it has no coordinates)."""
    from itsm.tickets.services.ticket_transitions import distance_m

    site = inspection.institution
    if site is None or site.latitude is None or site.longitude is None:
        return None
    return round(distance_m(latitude, longitude, site.latitude, site.longitude))
