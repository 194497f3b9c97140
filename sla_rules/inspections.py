"""Inspection plans as data, and the occurrences they give on a working-day schedule.

A plan lists obligations (C1-10: 52 system and 52 device inspections a year; C3-6: one a
quarter, one before every holiday break longer than 3 days, one on site every half year …).
Each recurs (`week` on a weekday, `month` on the n-th weekday, `quarter`, `half_year`, or
before each `break` longer than N days) and its occurrences land on working days of the
schedule: make-up working days count, weekends and holidays do not. A day that is not a
working day moves to the nearest working day of its period (or, the plan says, is skipped);
a period with no working day at all moves to the nearest working day outside it, unless
another occurrence of the obligation is already there, so the yearly count stays true.
Breaks are computed from the schedule (runs of non-working days holding a statutory
holiday), never from a list: a year an operator loads counts the same way.

Pure: no I/O; `parse_plan` validates a document and names the path of every error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sla_rules.errors import SlaRulesError
from sla_rules.schedule import DayReason, ScheduleBook

_DAY = timedelta(days=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SEARCH_DAYS = 31
"""How far a period with no working day looks for the nearest one outside it."""


class InvalidPlan(SlaRulesError, ValueError):
    """An inspection plan document is malformed; `errors` lists every problem with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class ObligationKind(StrEnum):
    SYSTEM = "system"
    DEVICE = "device"
    QUARTERLY = "quarterly"
    PRE_HOLIDAY = "pre_holiday"
    HALF_YEAR_ON_SITE = "half_year_on_site"
    DB_SERVER = "db_server"
    PATCH_UPGRADE = "patch_upgrade"
    BACKUP_REVIEW = "backup_review"
    AD_HOC = "ad_hoc"
    """An inspection a person asks for, outside any plan (never in a plan document)."""


class Every(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    BREAK = "break"
    """Before each holiday break longer than `longer_than` days."""


class Mode(StrEnum):
    REMOTE = "remote"
    ON_SITE = "on_site"
    EITHER = "either"


class WhenClosed(StrEnum):
    """What an occurrence does when its day, or its whole period, has no working day."""

    NEAREST = "nearest"
    SKIP = "skip"


class ItemType(StrEnum):
    CHECK = "check"
    """ok / fault / not applicable."""
    NUMBER = "number"
    """A measurement; outside `min`…`max` marks the item a fault."""
    TEXT = "text"
    PHOTO = "photo"
    """At least one photo attached to the item."""


class CheckResult(StrEnum):
    OK = "ok"
    FAULT = "fault"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    type: ItemType
    required: bool = True
    unit: str = ""
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Recurrence:
    every: Every
    weekday: int | None = None
    """0 = Monday … 6 = Sunday."""
    nth: int | None = None
    """The n-th such weekday of the month (1…5, or -1 for the last)."""
    month: int = 1
    """Which month of a quarter (1…3) or half year (1…6)."""
    longer_than: int = 0
    """For `break`: only breaks of strictly more days than this."""


@dataclass(frozen=True)
class Obligation:
    kind: ObligationKind
    title: str
    required: int
    """How many a year the contract demands."""
    recurrence: Recurrence
    mode: Mode
    checklist: tuple[ChecklistItem, ...]
    window_days: int | None = None
    """Working days the occurrence may be done in, from its day; None: the rest of its period
    (for `break`: the working days before the break, 5 when not given)."""
    when_closed: WhenClosed = WhenClosed.NEAREST
    assignee: str | None = None
    """A username, or None to be assigned by a manager (or by `rotation`)."""
    rotation: tuple[str, ...] = ()
    """Usernames taking the occurrences in turn."""
    clause: str = ""
    """The contract clause it answers (e.g. "C1-10")."""
    site: str | None = None
    """The code of the institution where it is done (None: the contract's only one, if any)."""


@dataclass(frozen=True)
class Plan:
    obligations: tuple[Obligation, ...]
    description: str = ""


@dataclass(frozen=True)
class Occurrence:
    kind: ObligationKind
    key: str
    """Stable and unique within the contract: generating again finds it instead of adding."""
    day: date
    """The working day it is planned for."""
    window_start: date
    window_end: date
    """The last working day it may be done on; after it, it is missed."""
    mode: Mode
    assignee: str | None


# --- parsing -----------------------------------------------------------------------------


def parse_plan(document: Any) -> Plan:
    """The plan a document describes; InvalidPlan naming the path of every error."""
    errors: list[str] = []
    if not isinstance(document, Mapping):
        raise InvalidPlan(["$: a plan is an object with 'obligations'"])
    unknown = set(document) - {"obligations", "description", "contract"}
    errors += [f"$.{key}: unknown field" for key in sorted(map(str, unknown))]
    raw = document.get("obligations")
    if not isinstance(raw, list):
        errors.append("$.obligations: a list of obligations is required")
        raw = []
    obligations = []
    for index, item in enumerate(raw):
        obligation = _obligation(item, f"$.obligations[{index}]", errors)
        if obligation is not None:
            obligations.append(obligation)
    kinds = [o.kind for o in obligations]
    for kind in sorted({k for k in kinds if kinds.count(k) > 1}):
        errors.append(f"$.obligations: kind {kind!r} is listed twice")
    description = document.get("description", "")
    if not isinstance(description, str):
        errors.append("$.description: text expected")
    if errors:
        raise InvalidPlan(errors)
    return Plan(tuple(obligations), description)


_OBLIGATION_KEYS = {
    "kind",
    "title",
    "required",
    "recurrence",
    "mode",
    "checklist",
    "window_days",
    "when_closed",
    "assignee",
    "rotation",
    "clause",
    "site",
}


def _obligation(item: Any, path: str, errors: list[str]) -> Obligation | None:
    if not isinstance(item, Mapping):
        errors.append(f"{path}: an object expected")
        return None
    before = len(errors)
    errors += [
        f"{path}.{key}: unknown field" for key in sorted(set(map(str, item)) - _OBLIGATION_KEYS)
    ]
    kind = _choice(item, "kind", ObligationKind, path, errors, exclude={ObligationKind.AD_HOC})
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append(f"{path}.title: a title is required")
    required = item.get("required")
    if not isinstance(required, int) or isinstance(required, bool) or not 0 < required <= 366:
        errors.append(f"{path}.required: a count from 1 to 366 is required")
    recurrence = _recurrence(item.get("recurrence"), f"{path}.recurrence", errors)
    mode = _choice(item, "mode", Mode, path, errors, default=Mode.EITHER)
    when_closed = _choice(item, "when_closed", WhenClosed, path, errors, default=WhenClosed.NEAREST)
    window_days = item.get("window_days")
    if window_days is not None and (
        not isinstance(window_days, int)
        or isinstance(window_days, bool)
        or not 0 < window_days <= 60
    ):
        errors.append(f"{path}.window_days: a number of working days from 1 to 60")
    assignee = item.get("assignee")
    if assignee is not None and (not isinstance(assignee, str) or not assignee.strip()):
        errors.append(f"{path}.assignee: a username")
    rotation = item.get("rotation", [])
    if not isinstance(rotation, list) or not all(isinstance(u, str) and u for u in rotation):
        errors.append(f"{path}.rotation: a list of usernames")
        rotation = []
    if assignee and rotation:
        errors.append(f"{path}: give an assignee or a rotation, not both")
    clause = item.get("clause", "")
    if not isinstance(clause, str):
        errors.append(f"{path}.clause: text expected")
    site = item.get("site")
    if site is not None and (not isinstance(site, str) or not site.strip()):
        errors.append(f"{path}.site: an institution's code")
    checklist = _checklist(item.get("checklist"), f"{path}.checklist", errors)
    if len(errors) > before:
        return None
    assert kind is not None and recurrence is not None and mode is not None
    assert when_closed is not None
    return Obligation(
        kind=kind,
        title=str(title).strip(),
        required=int(required),  # type: ignore[arg-type]  # checked above
        recurrence=recurrence,
        mode=mode,
        checklist=checklist,
        window_days=window_days,
        when_closed=when_closed,
        assignee=assignee.strip() if isinstance(assignee, str) else None,
        rotation=tuple(rotation),
        clause=clause,
        site=site.strip() if isinstance(site, str) else None,
    )


def _choice(
    item: Mapping[str, Any],
    key: str,
    enum: Any,
    path: str,
    errors: list[str],
    default: Any = None,
    exclude: frozenset[Any] | set[Any] = frozenset(),
) -> Any:
    value = item.get(key, default)
    allowed = [member.value for member in enum if member not in exclude]
    if value not in allowed:
        errors.append(f"{path}.{key}: one of {', '.join(allowed)}")
        return None
    return enum(value)


def _recurrence(raw: Any, path: str, errors: list[str]) -> Recurrence | None:
    if not isinstance(raw, Mapping):
        errors.append(f"{path}: an object with 'every' is required")
        return None
    before = len(errors)
    known = {"every", "weekday", "nth", "month", "longer_than"}
    errors += [f"{path}.{key}: unknown field" for key in sorted(set(map(str, raw)) - known)]
    every = _choice(raw, "every", Every, path, errors)
    weekday = raw.get("weekday")
    if weekday is not None and weekday not in WEEKDAYS:
        errors.append(f"{path}.weekday: one of {', '.join(WEEKDAYS)}")
    nth = raw.get("nth")
    if nth is not None and nth not in (1, 2, 3, 4, 5, -1):
        errors.append(f"{path}.nth: 1 to 5, or -1 for the last")
    month = raw.get("month", 1)
    months = {Every.QUARTER: 3, Every.HALF_YEAR: 6}.get(every, 1) if every else 1
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= months:
        errors.append(f"{path}.month: which month of the period, 1 to {months}")
    longer_than = raw.get("longer_than", 0)
    if every == Every.BREAK:
        if not isinstance(longer_than, int) or isinstance(longer_than, bool) or longer_than < 0:
            errors.append(f"{path}.longer_than: a number of days (0 or more)")
    elif "longer_than" in raw:
        errors.append(f"{path}.longer_than: only for 'break'")
    if every == Every.WEEK and weekday is None:
        errors.append(f"{path}.weekday: a weekly obligation needs its weekday")
    if every in (Every.WEEK, Every.BREAK) and nth is not None:
        errors.append(f"{path}.nth: not for '{every}'")
    if nth is not None and weekday is None:
        errors.append(f"{path}.nth: needs a weekday")
    if len(errors) > before:
        return None
    assert every is not None
    return Recurrence(
        every=every,
        weekday=WEEKDAYS.index(weekday) if weekday is not None else None,
        nth=nth,
        month=month,
        longer_than=longer_than if every == Every.BREAK else 0,
    )


def _checklist(raw: Any, path: str, errors: list[str]) -> tuple[ChecklistItem, ...]:
    if not isinstance(raw, list) or not raw:
        errors.append(f"{path}: a list of at least one item is required")
        return ()
    items = []
    keys: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where}: an object expected")
            continue
        known = {"key", "label", "type", "required", "unit", "min", "max"}
        errors += [f"{where}.{key}: unknown field" for key in sorted(set(map(str, entry)) - known)]
        key = entry.get("key")
        if not isinstance(key, str) or not key.strip() or len(key) > 64:
            errors.append(f"{where}.key: a short key is required")
            continue
        if key in keys:
            errors.append(f"{where}.key: {key!r} is used twice")
        keys.add(key)
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            errors.append(f"{where}.label: a label is required")
        item_type = _choice(entry, "type", ItemType, where, errors)
        bounds = [entry.get("min"), entry.get("max")]
        for name, value in zip(("min", "max"), bounds, strict=True):
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool)
            ):
                errors.append(f"{where}.{name}: a number")
        if item_type != ItemType.NUMBER and any(b is not None for b in bounds):
            errors.append(f"{where}: min and max are for 'number' items")
        required = entry.get("required", True)
        if not isinstance(required, bool):
            errors.append(f"{where}.required: true or false")
        unit = entry.get("unit", "")
        if not isinstance(unit, str):
            errors.append(f"{where}.unit: text expected")
        if item_type is not None and isinstance(label, str):
            items.append(
                ChecklistItem(
                    key, label, item_type, bool(required), str(unit), bounds[0], bounds[1]
                )
            )
    return tuple(items)


# --- occurrences -----------------------------------------------------------------------


class Schedule(Protocol):
    """What the rules ask of a working-day schedule (a ScheduleBook, or WorkingDays)."""

    def is_working_day(self, d: date) -> bool: ...

    def reason(self, d: date) -> DayReason: ...


class WorkingDays:
    """The working days of a span, asked of the schedule once per day and then looked up:
    the plans of many sites share one (outside the span, the schedule is asked)."""

    def __init__(self, book: ScheduleBook, first: date, last: date) -> None:
        self.book = book
        self.first, self.last = first, last
        span = range(first.toordinal(), last.toordinal() + 1)
        self._days = frozenset(d for d in map(date.fromordinal, span) if book.is_working_day(d))

    def is_working_day(self, d: date) -> bool:
        if self.first <= d <= self.last:
            return d in self._days
        return self.book.is_working_day(d)

    def reason(self, d: date) -> DayReason:
        return self.book.reason(d)


def span_for(start: date, end: date) -> tuple[date, date]:
    """The days occurrences from `start` to `end` may look at (periods, moves, breaks)."""
    return start - timedelta(days=200), end + timedelta(days=2 * MAX_SEARCH_DAYS)


def occurrences(plan: Plan, book: Schedule, start: date, end: date) -> list[Occurrence]:
    """Every occurrence of the plan whose day falls from `start` to `end` inclusive, by day."""
    if isinstance(book, ScheduleBook):
        book = WorkingDays(book, *span_for(start, end))
    found = [
        o
        for obligation in plan.obligations
        for o in obligation_occurrences(obligation, book, start, end)
    ]
    return sorted(found, key=lambda o: (o.day, o.kind.value, o.key))


def obligation_occurrences(
    obligation: Obligation, book: Schedule, start: date, end: date
) -> list[Occurrence]:
    """One obligation's occurrences whose day falls from `start` to `end` inclusive."""
    recurrence = obligation.recurrence
    if recurrence.every == Every.BREAK:
        return _before_breaks(obligation, book, start, end)
    out: list[Occurrence] = []
    taken: set[date] = set()
    for label, first, last in _periods(recurrence.every, start - timedelta(days=40), end):
        target = _target(recurrence, first, last, book)
        day = _working_day_near(target, first, last, book, obligation.when_closed)
        if day is None or day in taken:
            continue
        taken.add(day)
        if not start <= day <= end:
            continue
        window_start, window_end = _window(obligation, day, first, last, book)
        out.append(_occurrence(obligation, f"{label}", day, window_start, window_end, len(out)))
    return out


def _occurrence(
    obligation: Obligation, label: str, day: date, window_start: date, window_end: date, turn: int
) -> Occurrence:
    assignee = obligation.assignee
    if obligation.rotation:
        assignee = obligation.rotation[day.toordinal() // 7 % len(obligation.rotation)]
    return Occurrence(
        kind=obligation.kind,
        key=f"{obligation.kind.value}:{label}",
        day=day,
        window_start=window_start,
        window_end=window_end,
        mode=obligation.mode,
        assignee=assignee,
    )


def _periods(every: Every, start: date, end: date) -> Iterator[tuple[str, date, date]]:
    """(label, first day, last day) of each period that overlaps `start`…`end`."""
    if every == Every.WEEK:
        monday = start - timedelta(days=start.weekday())
        while monday <= end:
            iso = monday.isocalendar()
            yield f"{iso.year}-W{iso.week:02d}", monday, monday + timedelta(days=6)
            monday += timedelta(days=7)
        return
    months = {Every.MONTH: 1, Every.QUARTER: 3, Every.HALF_YEAR: 6}[every]
    year, month = start.year, (start.month - 1) // months * months + 1
    while date(year, month, 1) <= end:
        first = date(year, month, 1)
        next_year, next_month = (year + 1, 1) if month + months > 12 else (year, month + months)
        last = date(next_year, next_month, 1) - _DAY
        index = (month - 1) // months + 1
        label = {
            Every.MONTH: f"{year}-{month:02d}",
            Every.QUARTER: f"{year}-Q{index}",
            Every.HALF_YEAR: f"{year}-H{index}",
        }[every]
        yield label, first, last
        year, month = next_year, next_month


def _target(recurrence: Recurrence, first: date, last: date, book: Schedule) -> date:
    """The day the recurrence names in the period (before any move to a working day)."""
    if recurrence.every == Every.WEEK:
        assert recurrence.weekday is not None
        return first + timedelta(days=recurrence.weekday)
    month_first = first
    for _ in range(recurrence.month - 1):
        month_first = (month_first.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_last = (month_first.replace(day=28) + timedelta(days=4)).replace(day=1) - _DAY
    if recurrence.weekday is None:  # the first working day of that month
        day = month_first
        while day <= month_last and not book.is_working_day(day):
            day += _DAY
        return day if day <= month_last else month_first
    nth = recurrence.nth or 1
    if nth > 0:
        day = month_first + timedelta(days=(recurrence.weekday - month_first.weekday()) % 7)
        day += timedelta(days=7 * (nth - 1))
        return day if day <= month_last else day - timedelta(days=7)  # no 5th: the last
    day = month_last - timedelta(days=(month_last.weekday() - recurrence.weekday) % 7)
    return day


def _working_day_near(
    target: date, first: date, last: date, book: Schedule, when_closed: WhenClosed
) -> date | None:
    """`target` if a working day; else the nearest working day of the period (the earlier of
    two as near); else, when the plan says so, the nearest one outside the period."""
    if book.is_working_day(target):
        return target
    if when_closed == WhenClosed.SKIP:
        return None
    for distance in range(1, (last - first).days + 1):
        for day in (target - timedelta(days=distance), target + timedelta(days=distance)):
            if first <= day <= last and book.is_working_day(day):
                return day
    for distance in range(1, MAX_SEARCH_DAYS + 1):
        for day in (first - timedelta(days=distance), last + timedelta(days=distance)):
            if book.is_working_day(day):
                return day
    return None


def _window(
    obligation: Obligation, day: date, first: date, last: date, book: Schedule
) -> tuple[date, date]:
    if obligation.window_days is not None:
        return day, _nth_working_day_from(day, obligation.window_days, book)
    if not first <= day <= last:  # moved out of a period with no working day
        return day, day
    start = day
    for ordinal in range(first.toordinal(), day.toordinal()):
        if book.is_working_day(date.fromordinal(ordinal)):
            start = date.fromordinal(ordinal)
            break
    end = day
    for ordinal in range(last.toordinal(), day.toordinal(), -1):
        if book.is_working_day(date.fromordinal(ordinal)):
            end = date.fromordinal(ordinal)
            break
    return start, end


def _nth_working_day_from(day: date, count: int, book: Schedule) -> date:
    """The `count`-th working day counting `day` (itself a working day) as the first."""
    seen = 0
    while True:
        if book.is_working_day(day):
            seen += 1
            if seen == count:
                return day
        day += _DAY


@dataclass(frozen=True)
class Break:
    """Consecutive non-working days holding at least one statutory holiday."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def breaks(book: Schedule, start: date, end: date) -> list[Break]:
    """The holiday breaks that begin from `start` to `end` (whole, even past `end`)."""
    found = []
    day = start
    while day <= end:
        if book.is_working_day(day):
            day += _DAY
            continue
        first = day
        while not book.is_working_day(first - _DAY) and (first - day).days > -MAX_SEARCH_DAYS:
            first -= _DAY
        last = day
        holiday = False
        while not book.is_working_day(last):
            holiday = holiday or book.reason(last) == DayReason.HOLIDAY
            last += _DAY
        if holiday and first >= start:
            found.append(Break(first, last - _DAY))
        day = last
    return found


def _before_breaks(
    obligation: Obligation, book: Schedule, start: date, end: date
) -> list[Occurrence]:
    out: list[Occurrence] = []
    window = obligation.window_days or 5
    for holiday_break in breaks(book, start, end + timedelta(days=MAX_SEARCH_DAYS)):
        if holiday_break.days <= obligation.recurrence.longer_than:
            continue
        days = _working_days_before(holiday_break.first, window, book)
        day, window_end = days[0], days[-1]
        if start <= day <= end:
            label = holiday_break.first.isoformat()
            out.append(_occurrence(obligation, label, day, day, window_end, len(out)))
    return out


def _working_days_before(day: date, count: int, book: Schedule) -> list[date]:
    found: list[date] = []
    while len(found) < count:
        day -= _DAY
        if book.is_working_day(day):
            found.append(day)
    return sorted(found)


# --- checklists -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistState:
    missing: tuple[str, ...]
    """Keys of required items with no answer."""
    faults: tuple[str, ...]
    """Keys of items found faulty (a `fault` check, or a number out of its bounds)."""
    errors: tuple[str, ...]
    """Answers of the wrong shape, with the item's key."""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.errors


def evaluate(
    items: Sequence[ChecklistItem], answers: Mapping[str, Any], photos: Mapping[str, int]
) -> ChecklistState:
    """What a checklist's answers say: what is missing, what is faulty, what is malformed.

    `answers` maps an item's key to its value (a CheckResult value, a number, a text);
    `photos` counts the photos attached to each photo item."""
    missing, faults, errors = [], [], []
    known = {item.key for item in items}
    errors += [f"{key}: no such item in this checklist" for key in answers if key not in known]
    for item in items:
        value = answers.get(item.key)
        if item.type == ItemType.PHOTO:
            if photos.get(item.key, 0) == 0 and item.required:
                missing.append(item.key)
            continue
        if value is None or value == "":
            if item.required:
                missing.append(item.key)
            continue
        if item.type == ItemType.CHECK:
            if value not in {r.value for r in CheckResult}:
                errors.append(f"{item.key}: one of ok, fault, not_applicable")
            elif value == CheckResult.FAULT:
                faults.append(item.key)
        elif item.type == ItemType.NUMBER:
            if not isinstance(value, int | float) or isinstance(value, bool):
                errors.append(f"{item.key}: a number")
            elif (item.min is not None and value < item.min) or (
                item.max is not None and value > item.max
            ):
                faults.append(item.key)
        elif not isinstance(value, str) or len(value) > 4000:
            errors.append(f"{item.key}: a text of at most 4000 characters")
    return ChecklistState(tuple(missing), tuple(faults), tuple(errors))
