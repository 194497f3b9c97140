"""Which dates are working days: the State Council schedule, per year, with make-up days."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from chinese_calendar import constants as _cc  # type: ignore[import-untyped]

from sla_rules.errors import InvalidSchedule

logger = logging.getLogger("sla_rules")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DICT_KEYS = frozenset({"year", "holidays", "workdays", "source"})


class DayReason(StrEnum):
    """Why a date is, or is not, a working day."""

    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"
    FALLBACK_WEEKDAY = "fallback_weekday"
    FALLBACK_WEEKEND = "fallback_weekend"
    ALWAYS_OPEN = "always_open"


@dataclass(frozen=True)
class YearSchedule:
    """One year's exceptions to Monday–Friday: days off (holidays) and make-up working days.

    Holidays may fall on any day (the State Council lists weekend days of a holiday too);
    make-up working days (调休) must be Saturdays or Sundays. Validated on construction.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = "operator"

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        _validate(self)

    def is_working_day(self, d: date) -> bool:
        """Whether `d` (a date of this year) is a working day."""
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def reason(self, d: date) -> DayReason:
        """Why `d` is or is not a working day under this schedule."""
        if d in self.workdays:
            return DayReason.MAKEUP_WORKDAY
        if d in self.holidays:
            return DayReason.HOLIDAY
        return DayReason.WEEKDAY if d.weekday() < 5 else DayReason.WEEKEND

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> YearSchedule:
        """Parse `{"year": 2027, "holidays": ["2027-01-01", ...], "workdays": [...]}`."""
        if not isinstance(data, Mapping):
            raise InvalidSchedule(f"a year schedule must be a mapping, got {type(data).__name__}")
        year = data.get("year")
        if isinstance(year, bool) or not isinstance(year, int):
            raise InvalidSchedule(f"schedule 'year' must be an integer such as 2027, got {year!r}")
        where = f"{year} schedule"
        unknown = sorted(set(data) - _DICT_KEYS)
        if unknown:
            raise InvalidSchedule(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(sorted(_DICT_KEYS))}"
            )
        source = data.get("source", "operator")
        if not isinstance(source, str) or not source:
            raise InvalidSchedule(f"{where}: 'source' must be a non-empty string, got {source!r}")
        return cls(
            year=year,
            holidays=_parse_dates(data, "holidays", where),
            workdays=_parse_dates(data, "workdays", where),
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready form; `from_dict(s.to_dict()) == s`."""
        return {
            "year": self.year,
            "source": self.source,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
        }


def _parse_dates(data: Mapping[str, Any], key: str, where: str) -> frozenset[date]:
    if key not in data:
        raise InvalidSchedule(f"{where}: missing {key!r} (a list of YYYY-MM-DD dates, may be [])")
    raw = data[key]
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise InvalidSchedule(f"{where}: {key!r} must be a list of YYYY-MM-DD dates, got {raw!r}")
    found: set[date] = set()
    for i, item in enumerate(raw):
        if isinstance(item, date) and not isinstance(item, datetime):
            found.add(item)
            continue
        try:
            if not isinstance(item, str) or not _ISO_DATE.fullmatch(item):
                raise ValueError
            found.add(date.fromisoformat(item))
        except ValueError:
            raise InvalidSchedule(
                f"{where}: {key}[{i}] = {item!r} is not a date in YYYY-MM-DD form"
            ) from None
    return frozenset(found)


def _validate(s: YearSchedule) -> None:
    if isinstance(s.year, bool) or not isinstance(s.year, int) or not 1 <= s.year <= 9999:
        raise InvalidSchedule(f"schedule year must be an integer in 1..9999, got {s.year!r}")
    where = f"{s.year} schedule"
    problems: list[str] = []
    for kind, days in (("holiday", s.holidays), ("make-up workday", s.workdays)):
        for d in days:
            if not isinstance(d, date) or isinstance(d, datetime):
                problems.append(f"{kind} {d!r} is not a date")
    if problems:
        raise InvalidSchedule(f"{where}: " + "; ".join(problems))
    for kind, days in (("holiday", s.holidays), ("make-up workday", s.workdays)):
        problems += [f"{kind} {d} is not in {s.year}" for d in sorted(days) if d.year != s.year]
    problems += [
        f"{d} is listed both as a holiday and as a make-up workday"
        for d in sorted(s.holidays & s.workdays)
    ]
    problems += [
        f"make-up workday {d} is a {d:%A}; make-up workdays must be Saturdays or Sundays"
        for d in sorted(s.workdays)
        if d.weekday() < 5
    ]
    if problems:
        raise InvalidSchedule(f"{where}: " + "; ".join(problems))


class ScheduleBook:
    """Year schedules by year; a year without one falls back to Monday–Friday, with a warning.

    The schedules never change after construction (`with_year` returns a new book); the book
    only records which fallback years it has been asked about, and warns once for each.
    """

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        self._years: dict[int, YearSchedule] = {}
        for s in schedules:
            if s.year in self._years:
                raise InvalidSchedule(f"two schedules given for {s.year}; give one per year")
            self._years[s.year] = s
        self._fallback_used: set[int] = set()

    @classmethod
    def from_chinesecalendar(cls, years: Iterable[int] = range(2004, 2027)) -> ScheduleBook:
        """Build from the `chinesecalendar` package's tables (2004–2026 in its 1.11.0)."""
        wanted = set(years)
        holidays: dict[int, set[date]] = {y: set() for y in wanted}
        workdays: dict[int, set[date]] = {y: set() for y in wanted}
        for table, target in ((_cc.holidays, holidays), (_cc.workdays, workdays)):
            for d in table:
                if d.year in target:
                    target[d.year].add(d)
        covered = range(min(_cc.holidays).year, max(_cc.holidays).year + 1)
        missing = sorted(wanted - set(covered))
        if missing:
            raise InvalidSchedule(
                f"chinesecalendar has no schedule for {', '.join(map(str, missing))} (it covers "
                f"{covered.start}–{covered.stop - 1}); load those years with ScheduleBook.with_year"
            )
        return cls(
            YearSchedule(y, frozenset(holidays[y]), frozenset(workdays[y]), "chinesecalendar")
            for y in sorted(wanted)
        )

    def with_year(self, schedule: YearSchedule) -> ScheduleBook:
        """A new book with `schedule` loaded, replacing any schedule of that year."""
        return ScheduleBook({**self._years, schedule.year: schedule}.values())

    @property
    def years(self) -> tuple[int, ...]:
        """The years that have a schedule, ascending."""
        return tuple(sorted(self._years))

    def get(self, year: int) -> YearSchedule | None:
        """The schedule of `year`, or None when that year falls back to Monday–Friday."""
        return self._years.get(year)

    def has_year(self, year: int) -> bool:
        """Whether `year` has a schedule (otherwise it falls back to Monday–Friday)."""
        return year in self._years

    def is_fallback(self, year: int) -> bool:
        """Whether `year` has no schedule and is treated as Monday–Friday."""
        return year not in self._years

    @property
    def fallback_years_used(self) -> frozenset[int]:
        """Years without a schedule that this book has been asked about so far."""
        return frozenset(self._fallback_used)

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day (Monday–Friday in a year without a schedule)."""
        s = self._years.get(d.year)
        if s is None:
            self._note_fallback(d.year)
            return d.weekday() < 5
        return s.is_working_day(d)

    def reason(self, d: date) -> DayReason:
        """Why `d` is or is not a working day."""
        s = self._years.get(d.year)
        if s is None:
            self._note_fallback(d.year)
            return DayReason.FALLBACK_WEEKDAY if d.weekday() < 5 else DayReason.FALLBACK_WEEKEND
        return s.reason(d)

    def working_days(self, year: int) -> list[date]:
        """All working days of `year`, ascending."""
        ordinals = range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1)
        return [d for d in map(date.fromordinal, ordinals) if self.is_working_day(d)]

    def _note_fallback(self, year: int) -> None:
        if year not in self._fallback_used:
            self._fallback_used.add(year)
            logger.warning(
                "no working-day schedule for %d: treating Monday-Friday as working days; "
                "load the State Council schedule for %d (ScheduleBook.with_year)",
                year,
                year,
            )

    def __repr__(self) -> str:
        ys = self.years
        span = f"{ys[0]}–{ys[-1]}" if ys else "none"
        return f"ScheduleBook(years={span}, count={len(ys)})"
