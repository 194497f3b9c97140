"""The inspections' pages: the obligations ledger with the month's calendar (managers), the
list of inspections, and the inspection page where the engineer runs the checklist with
photos; every step is a form done once, under the API's rules of who may see what."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, get_day_names
from flask import current_app, render_template, request, send_file, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from itsm import clock
from itsm.accounts.models import User
from itsm.directory.services import directory
from itsm.directory.services.directory import get_contract
from itsm.errors import InvalidInput, PreconditionFailed
from itsm.inspections.models import Inspection
from itsm.inspections.services import inspections, plans, report_files, transitions
from itsm.models.types import Role
from itsm.request_scope import current_actor, db_session
from itsm.uploads import send_uploaded
from itsm.web import labels
from itsm.web.common import STAFF, area, new_form_token, once, signed_in, written_file
from sla_rules.inspections import ItemType, Mode
from workflows import inspection as wf

bp = area("inspection_pages", __name__)

_ID = "<int(max=2147483647):inspection_id>"
PER_PAGE = 50
MAX_PHOTOS = 10
"""Photos sent with one save of the checklist."""
ENGINEERS_SHOWN = 200
INSTITUTIONS_SHOWN = 200
"""A fault's ticket of an inspection with no site: its institution is chosen among these."""
YEARS_BACK = 10


# --- the obligations ledger and the month's calendar --------------------------------------


def _year(value: str | None, today: date) -> int:
    if not value:
        return today.year
    if not value.isdigit() or not today.year - YEARS_BACK <= int(value) <= today.year + 2:
        raise InvalidInput(
            _(
                "Choose a year from %(first)d to %(last)d.",
                first=today.year - YEARS_BACK,
                last=today.year + 2,
            )
        )
    return int(value)


def _month(value: str | None, default: date, today: date) -> date:
    if not value:
        return default
    try:
        year, month = (int(part) for part in value.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise InvalidInput(_("Give the month as 2026-03.")) from None
    if abs(first.year - today.year) > YEARS_BACK:
        raise InvalidInput(_("Choose a month within ten years of today."))
    return first


def _weeks(days: list[inspections.CalendarDay]) -> list[list[inspections.CalendarDay | None]]:
    """The month as weeks from Monday, with empty cells before its first day and after its last."""
    cells: list[inspections.CalendarDay | None] = [None] * days[0].day.weekday()
    cells += days
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


@bp.get("/inspections/obligations")
@signed_in(*STAFF)
def obligations() -> Any:
    """Per contract and year: what each obligation requires, has done and still owes, and the
    month's inspections on the working-day calendar."""
    session, actor, now = db_session(), current_actor(), clock.now()
    contracts = directory.list_contracts(session, actor)
    if not contracts:
        return render_template("web/obligations.html", contracts=[], contract=None)
    code = request.args.get("contract", "").strip()[:32] or contracts[0].code
    contract = directory.get_contract(session, actor, code)
    today = now.astimezone(ZoneInfo(contract.timezone)).date()
    year = _year(request.args.get("year"), today)
    default_month = today.replace(day=1) if year == today.year else date(year, 1, 1)
    first = _month(request.args.get("month"), default_month, today)
    plan_row = plans.current_plan(session, contract)
    calendar = inspections.month_calendar(session, actor, contract, first)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    locale = get_locale()
    return render_template(
        "web/obligations.html",
        contracts=contracts,
        contract=contract,
        tz=contract.timezone,
        year=year,
        years=sorted({*range(today.year - 3, today.year + 2), year}),
        plan=plan_row,
        lines=inspections.ledger(session, contract, year, now) if plan_row else [],
        calendar=calendar,
        weeks=_weeks(calendar.days),
        shown=sum(len(day.inspections) for day in calendar.days),
        today=today,
        month_title=format_skeleton("yMMMM", first, locale=locale),
        weekdays=[get_day_names("abbreviated", locale=locale)[n] for n in range(7)],
        previous=previous,
        following=following,
        month_url=lambda month: url_for(
            ".obligations", contract=contract.code, year=month.year, month=f"{month:%Y-%m}"
        ),
        full_date=lambda day: format_date(day, "full"),
        quarters=[f"{year}-Q{q}" for q in range(1, 5)],
        this_quarter=f"{year}-Q{(first.month - 1) // 3 + 1}",
        form_token=new_form_token(),
    )


# --- the list -----------------------------------------------------------------------------


def _date_arg(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("%(value)s is not a date (2026-03-02).", value=value[:20])) from None


@bp.get("/inspections")
@signed_in()
def index() -> Any:
    """The inspections one may see, filtered in the URL, by planned day, a page at a time."""
    session, actor = db_session(), current_actor()
    args = request.args
    contracts = directory.list_contracts(session, actor)
    code = args.get("contract", "").strip()[:32]
    contract = directory.get_contract(session, actor, code) if code else None
    kind = args.get("kind", "")
    state = args.get("state", "")
    assignee = args.get("assignee", "")
    page = int(args["page"]) if args.get("page", "").isdigit() and int(args["page"]) > 0 else 1
    flt = inspections.InspectionFilter(
        contract_id=contract.id if contract else None,
        kind=(kind,) if kind in labels.OBLIGATION_KINDS else (),
        state=(state,) if state in labels.INSPECTION_STATES else (),
        assignee_id=int(assignee) if assignee.isdigit() else None,
        day_from=_date_arg("from"),
        day_to=_date_arg("to"),
    )
    items, total = inspections.list_inspections(session, actor, flt, page, PER_PAGE)
    engineers: list[Any] = []
    if actor.role != Role.REQUESTER:
        engineers, _count = directory.list_users(
            session, actor, "engineer", flt.contract_id, None, 1, ENGINEERS_SHOWN
        )
    kept: dict[str, Any] = {key: value for key, value in args.items() if key != "page" and value}
    return render_template(
        "web/inspections.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        contracts=contracts,
        engineers=engineers,
        kinds=list(labels.OBLIGATION_KINDS),
        states=list(labels.INSPECTION_STATES),
        chosen={"contract": code, "kind": kind, "state": state, "assignee": assignee},
        day_from=flt.day_from,
        day_to=flt.day_to,
        page_url=lambda n: url_for(".index", **kept, page=n),
    )


# --- the inspection page ------------------------------------------------------------------


def _needs_note(trigger: str) -> bool:
    return any("needs_note" in t.guards for t in wf.WORKFLOW.transitions if t.trigger == trigger)


def _editable(inspection: Inspection) -> bool:
    """Whether this user may answer the checklist now (the service's rule, to show a form)."""
    actor = current_actor()
    if inspection.state not in (wf.ASSIGNED, wf.IN_PROGRESS):
        return False
    return actor.is_staff or actor.user_id == inspection.assignee_id


@bp.get(f"/inspections/{_ID}")
@signed_in()
def show(inspection_id: int) -> Any:
    session, actor, now = db_session(), current_actor(), clock.now()
    inspection = inspections.get(session, actor, inspection_id)
    state = inspections.checklist_state(session, inspection)
    allowed = transitions.allowed_triggers(session, inspection, actor)
    workflow = wf.WORKFLOW
    on_site = inspection.mode == Mode.ON_SITE
    with_engineer = [t for t in allowed if workflow.takes(t, "assignee_id")]
    located = [t for t in allowed if on_site and workflow.takes(t, "position")]
    noted = [t for t in allowed if _needs_note(t) and t not in with_engineer]
    simple = [t for t in allowed if t not in with_engineer + located + noted]
    engineers: list[Any] = []
    if with_engineer:
        engineers, _count = directory.list_users(
            session, actor, "engineer", inspection.contract_id, None, 1, ENGINEERS_SHOWN
        )
    photos = inspections.list_photos(session, actor, inspection_id)
    tickets = inspections.linked_tickets(session, inspection_id)
    answers = inspection.answers or {}
    lines = [
        {
            "required": True,
            "unit": "",
            "min": None,
            "max": None,
            **item,
            "answer": answers.get(item["key"]),
            "fault": item["key"] in state.faults,
            "missing": item["key"] in state.missing,
            "photos": [p for p in photos if p.item_key == item["key"]],
            "ticket": next((t.ticket for t in tickets if t.item_key == item["key"]), None),
        }
        for item in inspection.checklist
    ]
    events = inspections.list_events(session, actor, inspection_id)
    can_open_tickets = actor.role != Role.REQUESTER
    institutions: list[Any] = []
    if can_open_tickets and state.faults and inspection.institution_id is None:
        institutions, _count = directory.list_institutions(
            session, actor, None, inspection.contract_id, None, None, 1, INSTITUTIONS_SHOWN
        )
    return render_template(
        "web/inspection.html",
        inspection=inspection,
        tz=inspection.contract.timezone,
        now=now,
        lines=lines,
        by_key={line["key"]: line for line in lines},
        checklist=state,
        editable=_editable(inspection),
        allowed=allowed,
        with_engineer=with_engineer,
        located=located,
        noted=noted,
        simple=simple,
        engineers=engineers,
        photos=photos,
        loose_photos=[p for p in photos if p.item_key is None],
        tickets=tickets,
        can_open_tickets=can_open_tickets,
        institutions=institutions,
        events=events,
        people=_people(events),
        is_staff=actor.is_staff,
        form_token=new_form_token(),
        max_photos=MAX_PHOTOS,
    )


def _people(events: list[Any]) -> dict[int, str]:
    """The names of the engineers the history's lines assigned."""
    ids = {e.data["assignee"][1] for e in events if (e.data or {}).get("assignee")} - {None}
    found = (db_session().get(User, user_id) for user_id in ids)
    return {user.id: user.display_name for user in found if user is not None}


def _current(inspection_id: int) -> Inspection:
    """The inspection, if it is still the version the page showed (else a 412 that says so)."""
    inspection = inspections.get(db_session(), current_actor(), inspection_id)
    value = request.form.get("version", "")
    if not value.isdigit():
        raise InvalidInput(_("The form does not say which version of the inspection you saw."))
    if int(value) != inspection.version:
        raise PreconditionFailed(
            _(
                "%(number)s was changed by someone else after you opened it; reload the page "
                "and do it again (nothing was saved).",
                number=inspection.number,
            )
        )
    return inspection


def _position() -> dict[str, float | None] | None:
    """The device position the page's script filled in; None if refused or unreadable."""
    form = request.form
    if form.get("location_refused") == "1" or not form.get("latitude"):
        return None
    try:
        latitude, longitude = float(form["latitude"]), float(form["longitude"])
        accuracy = float(form["accuracy"]) if form.get("accuracy") else None
    except (KeyError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {"latitude": latitude, "longitude": longitude, "accuracy_m": accuracy}


def _show(inspection_id: int, anchor: str = "") -> str:
    return url_for(".show", inspection_id=inspection_id) + anchor


@bp.post(f"/inspections/{_ID}/steps")
@signed_in()
def step(inspection_id: int) -> Any:
    """Fire the workflow trigger of the pressed button (once per form token)."""
    trigger = request.form.get("trigger", "")
    if trigger not in labels.INSPECTION_TRIGGERS:
        raise InvalidInput(_("Unknown step."))
    note = request.form.get("note", "").strip()[:10_000] or None
    if _needs_note(trigger) and not note:
        raise InvalidInput(_("Say why in the note: this step needs a reason."))
    assignee = request.form.get("assignee_id", "")

    def do() -> tuple[str, str]:
        inspection = _current(inspection_id)
        takes_position = wf.WORKFLOW.takes(trigger, "position")
        inspection = transitions.fire(
            db_session(),
            current_actor(),
            inspection_id,
            inspection.version,
            trigger,
            note=note,
            assignee_id=int(assignee) if assignee.isdigit() else None,
            position=_position() if takes_position else None,
        )
        step_name = labels.label(trigger, "inspection_trigger")
        message = _("%(number)s: %(step)s done.", number=inspection.number, step=step_name)
        return _show(inspection_id), message

    return once(do)


def _number(item: dict[str, Any], text: str) -> int | float:
    cleaned = text.strip().replace("，", ".").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidInput(
            _("%(item)s: %(value)s is not a number.", item=item["label"], value=text[:20])
        ) from None
    if not math.isfinite(value):
        raise InvalidInput(_("%(item)s: give a finite number.", item=item["label"]))
    return int(value) if value.is_integer() and "." not in cleaned else value


def _answers(inspection: Inspection) -> dict[str, Any]:
    """The checklist's answers as the form gives them (empty ones are unanswered)."""
    answers: dict[str, Any] = {}
    for item in inspection.checklist:
        key, kind = item["key"], ItemType(item["type"])
        text = request.form.get(f"answer-{key}", "")
        if kind == ItemType.PHOTO or not text.strip():
            continue
        if kind == ItemType.CHECK:
            if text not in labels.CHECK_RESULTS:
                raise InvalidInput(_("%(item)s: choose one of the answers.", item=item["label"]))
            answers[key] = text
        elif kind == ItemType.NUMBER:
            answers[key] = _number(item, text)
        else:
            answers[key] = text.strip()[:4000]
    return answers


def _store_photos(inspection: Inspection) -> int:
    """Attach the request's photos: `photo-<key>` to that checklist item, `photos` to the whole."""
    keys = [item["key"] for item in inspection.checklist if item["type"] == ItemType.PHOTO]
    uploads = [(None, f) for f in request.files.getlist("photos") if f and f.filename]
    for key in keys:
        uploads += [(key, f) for f in request.files.getlist(f"photo-{key}") if f and f.filename]
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput(_("Send at most %(n)d photos at a time.", n=MAX_PHOTOS))
    settings = current_app.config["ITSM_SETTINGS"]
    for key, upload in uploads:
        content = upload.read(settings.max_attachment_bytes + 1)
        _photo, path = inspections.add_photo(
            db_session(),
            current_actor(),
            inspection.id,
            key,
            upload.filename or "",
            content,
            settings.attachments_path,
            settings.max_attachment_bytes,
        )
        written_file(path)
    return len(uploads)


@bp.post(f"/inspections/{_ID}/checklist")
@signed_in()
def checklist(inspection_id: int) -> Any:
    """Save the checklist's answers (on the version the page showed) and its photos."""

    def do() -> tuple[str, str]:
        session, actor = db_session(), current_actor()
        inspection = _current(inspection_id)
        inspection, _state = inspections.put_checklist(
            session, actor, inspection_id, inspection.version, _answers(inspection)
        )
        photos = _store_photos(inspection)
        message = _("%(number)s: checklist saved.", number=inspection.number)
        if photos:
            message += " " + _("%(n)d photo(s) added.", n=photos)
        state = inspections.checklist_state(session, inspection)
        if state.faults:
            names = "、".join(i["label"] for i in inspection.checklist if i["key"] in state.faults)
            message += " " + _("Faults: %(items)s.", items=names)
        if state.missing:
            message += " " + _("%(n)d required item(s) still to answer.", n=len(state.missing))
        return _show(inspection_id, "#checklist"), message

    return once(do)


@bp.post(f"/inspections/{_ID}/tickets")
@signed_in(Role.ENGINEER, *STAFF)
def open_ticket(inspection_id: int) -> Any:
    """Open a ticket for a fault item, linked both ways (once per form token)."""
    item_key = request.form.get("item_key", "")[:64]
    institution = request.form.get("institution_id", "")

    def do() -> tuple[str, str]:
        link = inspections.open_ticket(
            db_session(),
            current_actor(),
            inspection_id,
            item_key,
            {"institution_id": int(institution) if institution.isdigit() else None},
        )
        message = _("Ticket %(number)s opened for the fault.", number=link.ticket.number)
        return _show(inspection_id, f"#item-{item_key}"), message

    return once(do)


@bp.get(f"/inspections/{_ID}/photos/<int(max=2147483647):photo_id>")
@signed_in()
def photo(inspection_id: int, photo_id: int) -> Any:
    row = inspections.get_photo(db_session(), current_actor(), inspection_id, photo_id)
    return send_uploaded(row, inline_viewable=True)


# --- reports ------------------------------------------------------------------------------
# Ask for an inspection's or a quarter's report, watch its job, download it (the same rows and
# rules as the API's /reports).

REPORT_FORMATS = ("pdf", "xlsx")


def _report_format() -> str:
    chosen = request.form.get("format", "pdf")
    if chosen not in REPORT_FORMATS:
        raise InvalidInput(_("Choose PDF or Excel."))
    return chosen


@bp.post("/inspections/<int(max=2147483647):inspection_id>/report")
@signed_in()
def inspection_report(inspection_id: int) -> Any:
    """Ask for one inspection's report; the page of the report follows its job."""

    def step() -> tuple[str, str]:
        row = report_files.request_inspection_report(
            db_session(), current_actor(), inspection_id, _report_format()
        )
        return url_for("inspection_pages.report", report_id=row.id), _("The report is being made.")

    return once(step)


@bp.post("/inspections/quarter-report")
@signed_in(Role.AGENT, Role.MANAGER, Role.ADMIN)
def quarter_report() -> Any:
    """Ask for a contract's quarterly inspection report (`contract`, `quarter` 2026-Q1)."""

    def step() -> tuple[str, str]:
        session, actor = db_session(), current_actor()
        contract = get_contract(session, actor, request.form.get("contract", "")[:32])
        row = report_files.request_quarter_report(
            session, actor, contract, request.form.get("quarter", "")[:7], _report_format()
        )
        return url_for("inspection_pages.report", report_id=row.id), _("The report is being made.")

    return once(step)


@bp.get("/reports/<int(max=2147483647):report_id>")
@signed_in()
def report(report_id: int) -> Any:
    """A report asked for: being made (the page looks again by itself), ready, or failed."""
    row = report_files.get(db_session(), current_actor(), report_id)
    return render_template("web/report.html", report=row, pending=row.status == "pending")


@bp.get("/reports/<int(max=2147483647):report_id>/download")
@signed_in()
def download(report_id: int) -> Any:
    folder = current_app.config["ITSM_SETTINGS"].instance_path / "reports"
    row, path = report_files.file_of(db_session(), current_actor(), report_id, folder)
    return send_file(
        path,
        mimetype=report_files.MEDIA_TYPES[row.format],
        as_attachment=True,
        download_name=row.filename or path.name,
    )
