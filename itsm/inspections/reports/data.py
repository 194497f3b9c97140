"""What an inspection report says, read with queries of its own and handed to the layouts as
plain values in Chinese (`contents`, in `words`): nothing here writes (not even the first
version of a shipped plan, which `plans.current_plan` would publish), so a report may read
from a replica."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm.accounts.models import User
from itsm.directory.models import Contract, Institution
from itsm.errors import InvalidInput, NotFound
from itsm.inspections.models import (
    Inspection,
    InspectionEvent,
    InspectionPhoto,
    InspectionPlan,
    InspectionTicket,
)
from itsm.inspections.reports.contents import (
    Finding,
    Heading,
    HistoryLine,
    InspectionReport,
    Item,
    KindLine,
    LinkedTicket,
    QuarterReport,
    Sheet,
)
from itsm.inspections.reports.words import (
    CHECK_RESULTS,
    FAULT,
    KINDS,
    MODES,
    NORMAL,
    STATES,
    SYSTEM,
    TICKET_STATES,
    UNANSWERED,
)
from itsm.inspections.services import inspections, plans
from itsm.sla.services import calendars
from sla_rules.contracts import shipped_terms
from sla_rules.inspections import ChecklistItem, ItemType, Plan, evaluate, occurrences, parse_plan
from workflows import inspection as wf

_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


# --- quarters -----------------------------------------------------------------------------


def parse_quarter(text: str) -> tuple[int, int]:
    """(year, quarter) of "2026-Q1"; InvalidInput otherwise."""
    match = _QUARTER.fullmatch(text.strip())
    if match is None or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidInput(f"quarter {text!r}: write it as 2026-Q1 (Q1 to Q4)")
    return int(match.group(1)), int(match.group(2))


def quarter_days(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, after - timedelta(days=1)


# --- reading ------------------------------------------------------------------------------


def inspection_report(
    session: Session, inspection_id: int, requested_by: str, now: datetime
) -> InspectionReport:
    """One occurrence's report, with its whole history (access was checked when it was
    asked for)."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound(f"inspection {inspection_id} not found")
    contract = inspection.contract
    zone = ZoneInfo(contract.timezone)
    (sheet,) = _sheets(session, [inspection], zone, history=True)
    title = f"{sheet.kind_label}报告"
    return InspectionReport(_heading(contract, title, requested_by, now, zone), sheet)


def quarter_report(
    session: Session, contract: Contract, quarter: str, requested_by: str, now: datetime
) -> QuarterReport:
    """Every inspection of the contract whose day falls in the quarter, by day, with a
    summary per kind that counts as the obligations ledger does (planned from the plan's
    occurrences on the working-day schedule; done: submitted or accepted)."""
    year, number = parse_quarter(quarter)
    first, last = quarter_days(year, number)
    zone = ZoneInfo(contract.timezone)
    rows = list(
        session.scalars(
            select(Inspection)
            .where(
                Inspection.contract_id == contract.id,
                Inspection.day >= first,
                Inspection.day <= last,
            )
            .order_by(Inspection.day, Inspection.kind, Inspection.id)
        )
    )
    sheets = _sheets(session, rows, zone, history=False)
    kinds = _kind_lines(session, contract, rows, first, last)
    total = KindLine(
        "",
        "合计",
        "",
        None,
        *(sum(getattr(line, name) for line in kinds) for name in _COUNTS),
    )
    engineers = sorted({s.assignee for s in sheets if s.assignee and s.done})
    period = f"{year}年第{number}季度"
    return QuarterReport(
        heading=_heading(contract, f"{period}巡检报告", requested_by, now, zone),
        quarter=f"{year}-Q{number}",
        period=period,
        first=first.isoformat(),
        last=last.isoformat(),
        site=_site_names(session, contract, rows),
        kinds=tuple(kinds),
        total=total,
        sheets=tuple(sheets),
        engineers="、".join(engineers),
    )


_COUNTS = ("planned", "done", "missed", "cancelled", "open")


def _heading(
    contract: Contract, title: str, requested_by: str, now: datetime, zone: ZoneInfo
) -> Heading:
    return Heading(
        title=title,
        contract_code=contract.code,
        contract_name=contract.name,
        customer=contract.customer,
        generated_at=_local(now, zone),
        requested_by=requested_by,
    )


def _site_names(session: Session, contract: Contract, rows: Sequence[Inspection]) -> str:
    names = sorted({row.institution.name for row in rows if row.institution})
    if not names:
        only = session.scalars(
            select(Institution.name).where(Institution.contract_id == contract.id).limit(2)
        ).all()
        names = list(only) if len(only) == 1 else []
    if not names or len(names) > 3:
        return contract.customer
    return "、".join(names)


def _plan(session: Session, contract: Contract) -> Plan | None:
    """The contract's newest plan; the shipped one, unpublished, when none is yet."""
    row = session.scalar(
        select(InspectionPlan)
        .where(InspectionPlan.contract_id == contract.id)
        .order_by(InspectionPlan.version.desc())
        .limit(1)
    )
    if row is not None:
        return plans.parsed(row)
    try:
        return parse_plan(shipped_terms(contract.code, "inspections"))
    except KeyError:
        return None


def _kind_lines(
    session: Session, contract: Contract, rows: Sequence[Inspection], first: date, last: date
) -> list[KindLine]:
    plan = _plan(session, contract)
    states = Counter((row.kind, row.state) for row in rows)
    lines = []
    planned: Counter[str] = Counter()
    obligations = []
    if plan is not None:
        book = calendars.schedule_book(session)
        planned = Counter(o.kind.value for o in occurrences(plan, book, first, last))
        obligations = [(o.kind.value, o.title, o.clause, o.required) for o in plan.obligations]
    known = {kind for kind, *_ in obligations}
    extra = sorted({row.kind for row in rows} - known)
    for kind, title, clause, required in [
        *obligations,
        *((kind, KINDS.get(kind, kind), "", None) for kind in extra),
    ]:

        def count(which: Iterable[str], kind: str = kind) -> int:
            return sum(states[(kind, state)] for state in which)

        lines.append(
            KindLine(
                kind=kind,
                label=title or KINDS.get(kind, kind),
                clause=clause,
                required=required,
                planned=planned[kind] if kind in known else count(wf.STATES),
                done=count(wf.DONE_STATES),
                missed=count([wf.MISSED]),
                cancelled=count([wf.CANCELLED]),
                open=count(wf.OPEN_STATES),
            )
        )
    return lines


def _sheets(
    session: Session, rows: Sequence[Inspection], zone: ZoneInfo, history: bool
) -> list[Sheet]:
    """The sheets of these inspections, their events, tickets and photos read in one query
    each."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    events: dict[int, list[InspectionEvent]] = defaultdict(list)
    for event in session.scalars(
        select(InspectionEvent)
        .where(InspectionEvent.inspection_id.in_(ids))
        .order_by(InspectionEvent.at, InspectionEvent.id)
    ):
        events[event.inspection_id].append(event)
    links: dict[int, list[InspectionTicket]] = defaultdict(list)
    for link in session.scalars(
        select(InspectionTicket)
        .where(InspectionTicket.inspection_id.in_(ids))
        .order_by(InspectionTicket.created_at)
    ):
        links[link.inspection_id].append(link)
    photos: dict[int, dict[str, int]] = defaultdict(dict)
    for inspection_id, item_key, count in session.execute(
        select(InspectionPhoto.inspection_id, InspectionPhoto.item_key, func.count())
        .where(InspectionPhoto.inspection_id.in_(ids))
        .group_by(InspectionPhoto.inspection_id, InspectionPhoto.item_key)
    ):
        if item_key:
            photos[inspection_id][item_key] = count
    names = _names(session, [e for found in events.values() for e in found])
    return [
        _sheet(
            row,
            events[row.id],
            links[row.id],
            photos[row.id],
            names,
            zone,
            history,
        )
        for row in rows
    ]


def _names(session: Session, events: Sequence[InspectionEvent]) -> dict[int, str]:
    """Display names of the people events name in their data (an assignee given or changed)."""
    ids: set[int] = set()
    for event in events:
        change = (event.data or {}).get("assignee")
        if isinstance(change, list):
            ids.update(i for i in change if isinstance(i, int))
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def _sheet(
    row: Inspection,
    events: Sequence[InspectionEvent],
    links: Sequence[InspectionTicket],
    photos: dict[str, int],
    names: dict[int, str],
    zone: ZoneInfo,
    history: bool,
) -> Sheet:
    template = inspections.checklist_items(row)
    labels = {item.key: item.label for item in template}
    answers = row.answers or {}
    state = evaluate(template, answers, photos)
    tickets_of: dict[str, list[str]] = defaultdict(list)
    for link in links:
        tickets_of[link.item_key].append(link.ticket.number)
    items = tuple(
        _item(
            n,
            item,
            answers.get(item.key),
            photos.get(item.key, 0),
            item.key in state.faults,
            "、".join(tickets_of.get(item.key, ())),
        )
        for n, item in enumerate(template, 1)
    )
    tickets = tuple(
        LinkedTicket(
            number=link.ticket.number,
            title=link.ticket.title,
            item=labels.get(link.item_key, link.item_key),
            state=TICKET_STATES.get(link.ticket.state, link.ticket.state),
            priority=str(link.ticket.priority),
            reported_at=_local(link.ticket.reported_at, zone),
            resolved_at=_local(link.ticket.resolved_at, zone),
        )
        for link in links
    )
    by_ticket = {t.number: t for t in tickets}
    submitted = _last_into(events, wf.SUBMITTED)
    accepted = _last_into(events, wf.ACCEPTED)
    return Sheet(
        id=row.id,
        number=row.number,
        title=row.title,
        kind=row.kind,
        kind_label=KINDS.get(row.kind, row.kind),
        mode=MODES.get(row.mode, row.mode),
        state=row.state,
        state_label=STATES.get(row.state, row.state),
        clause=row.clause,
        site=row.institution.name if row.institution else row.contract.customer,
        day=row.day.isoformat(),
        window=f"{row.window_start.isoformat()} 至 {row.window_end.isoformat()}",
        due_at=_local(row.due_at, zone),
        assignee=row.assignee.display_name if row.assignee else "",
        started_at=_local(row.started_at, zone),
        submitted_at=_local(row.submitted_at, zone),
        submitted_by=_who(submitted) if submitted and row.submitted_at else "",
        accepted_at=_local(row.accepted_at, zone),
        accepted_by=_who(accepted) if accepted and row.accepted_at else "",
        closed_at=_local(_closed_at(row, events), zone),
        position=_position(row.position),
        done=row.state in wf.DONE_STATES,
        answered=bool(answers) or bool(photos),
        items=items,
        findings=tuple(_findings(items, by_ticket)),
        tickets=tickets,
        history=tuple(_history(e, labels, names, zone) for e in events) if history else (),
    )


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _standard(item: ChecklistItem) -> str:
    unit = item.unit
    if item.min is not None and item.max is not None:
        return f"{_number(item.min)}–{_number(item.max)}{unit}"
    if item.max is not None:
        return f"≤ {_number(item.max)}{unit}"
    if item.min is not None:
        return f"≥ {_number(item.min)}{unit}"
    return ""


def _item(
    number: int, item: ChecklistItem, value: Any, photos: int, fault: bool, tickets: str
) -> Item:
    answer, verdict, measured = "", UNANSWERED if item.required else "", None
    if item.type == ItemType.PHOTO:
        answer = f"{photos} 张照片" if photos else ""
        verdict = "已上传" if photos else verdict
    elif value is None or value == "":
        verdict = "" if item.type == ItemType.TEXT else verdict
    elif item.type == ItemType.CHECK:
        answer = CHECK_RESULTS.get(str(value), str(value))
        verdict = {"ok": NORMAL, "fault": FAULT}.get(str(value), answer)
    elif item.type == ItemType.NUMBER and isinstance(value, int | float):
        answer = f"{_number(value)}{item.unit}"
        verdict, measured = (FAULT if fault else NORMAL), value
    else:
        answer, verdict = str(value), ""
    return Item(
        number=number,
        key=item.key,
        label=item.label,
        type=item.type.value,
        answer=answer,
        value=measured,
        unit=item.unit,
        standard=_standard(item),
        verdict=verdict,
        fault=fault,
        photos=photos,
        tickets=tickets,
    )


def _findings(items: Sequence[Item], tickets: dict[str, LinkedTicket]) -> Iterable[Finding]:
    """Each fault with its ticket (or none yet), then what the engineer wrote."""
    for item in items:
        if not item.fault:
            continue
        text = f"{item.answer}，超出标准（{item.standard}）" if item.standard else "检查结果为故障"
        if item.tickets:
            action = "；".join(
                f"已开工单 {n}（{tickets[n].state}）" if n in tickets else f"已开工单 {n}"
                for n in item.tickets.split("、")
            )
        else:
            action = "未开工单，请跟进处理"
        yield Finding(item.label, text, action)
    for item in items:
        if item.type == ItemType.TEXT and item.answer:
            yield Finding(item.label, item.answer, "")


def _last_into(events: Sequence[InspectionEvent], state: str) -> InspectionEvent | None:
    found = [e for e in events if e.to_state == state and e.from_state != state]
    return found[-1] if found else None


def _closed_at(row: Inspection, events: Sequence[InspectionEvent]) -> datetime | None:
    if row.state == wf.MISSED:
        return row.missed_at
    if row.state == wf.CANCELLED:
        event = _last_into(events, wf.CANCELLED)
        return event.at if event else None
    return None


def _who(event: InspectionEvent) -> str:
    return event.actor.display_name if event.actor else SYSTEM


def _position(position: dict[str, Any] | None) -> str:
    if not position:
        return ""
    distance = position.get("distance_m")
    return f"签到位置距站点 {distance} 米" if distance is not None else "已签到（站点无坐标）"


def _history(
    event: InspectionEvent, labels: dict[str, str], names: dict[int, str], zone: ZoneInfo
) -> HistoryLine:
    data = event.data or {}
    what = {
        "generated": f"按计划生成（计划第 {data.get('plan_version')} 版）",
        "created": "临时巡检创建",
        "checklist": f"填写检查项：已填 {data.get('answered', 0)} 项，"
        f"异常 {len(data.get('faults') or [])} 项",
        "photo": f"上传照片 {data.get('filename', '')}"
        + (f"（{labels.get(data['item'], data['item'])}）" if data.get("item") else ""),
        "ticket": f"开具工单 {data.get('number', '')}"
        f"（{labels.get(data.get('item', ''), data.get('item', ''))}）",
        "update": "修改指派或计划时间",
    }.get(event.kind, event.kind)
    if event.kind == "transition":
        what = f"{STATES.get(event.from_state or '', '')} → {STATES.get(event.to_state or '', '')}"
    change = data.get("assignee")
    if isinstance(change, list) and len(change) == 2:
        what += f"，指派给 {names.get(change[1], '（无人）') if change[1] else '（无人）'}"
    if data.get("location_refused"):
        what += "，未授权定位"
    elif data.get("distance_m") is not None:
        what += f"，签到距站点 {data['distance_m']} 米"
    return HistoryLine(_local(event.at, zone), _who(event), what, event.note or "")


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""
