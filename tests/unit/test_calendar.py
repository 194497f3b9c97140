"""Business calendars and working-day schedules, checked against a minute-by-minute oracle."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_rules.calendar import BusinessCalendar, always, cn_5x8
from sla_rules.errors import InvalidCalendar, InvalidDuration, InvalidSchedule, NaiveDatetime
from sla_rules.schedule import DayReason, ScheduleBook, YearSchedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)
H = timedelta(hours=1)
BOOK = ScheduleBook.from_chinesecalendar()
CN = cn_5x8(BOOK)
SPLIT = BusinessCalendar(
    "split", "Asia/Shanghai", ((time(8, 30), time(12)), (time(13, 30), time(17, 30))), BOOK
)
DST_SUNDAYS = frozenset({date(2025, 3, 9), date(2025, 11, 2)})  # US clock changes, made working
DST = BusinessCalendar(
    "ny-night",
    "America/New_York",
    ((time(0, 30), time(4)), (time(9), time(17))),
    ScheduleBook([YearSchedule(2025, frozenset(), DST_SUNDAYS, "test")]),
)


def cst(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=SHANGHAI)


# --- the oracle: obviously correct, independent of sla_rules, slow -------------------------


@functools.cache
def cn_working(d: date) -> bool:
    """chinesecalendar's own answer where it has data, Monday–Friday elsewhere."""
    return bool(chinese_calendar.is_workday(d)) if 2004 <= d.year <= 2026 else d.weekday() < 5


@dataclasses.dataclass(frozen=True)
class Spec:
    tz: ZoneInfo
    periods: tuple[tuple[time, time], ...]
    working: Callable[[date], bool]

    def open(self, t: datetime) -> bool:
        local = t.astimezone(self.tz)
        clock = local.time()
        return self.working(local.date()) and any(s <= clock < e for s, e in self.periods)

    def add(self, start: datetime, minutes: int) -> datetime:
        t = start.astimezone(UTC)
        while minutes:
            if self.open(t):
                minutes -= 1
            t += MINUTE
        return t

    def between(self, a: datetime, b: datetime) -> timedelta:
        t = a.astimezone(UTC)
        steps = int((b.astimezone(UTC) - t) / MINUTE)  # in UTC: same-zone subtraction is wall time
        return MINUTE * sum(self.open(t + i * MINUTE) for i in range(steps))


SPECS = {
    "cn-5x8": (CN, Spec(SHANGHAI, CN.periods, cn_working)),
    "split": (SPLIT, Spec(SHANGHAI, SPLIT.periods, cn_working)),
}
DST_SPEC = Spec(NEW_YORK, DST.periods, lambda d: d.weekday() < 5 or d in DST_SUNDAYS)

# Starts at whole minutes, 2024-12 to 2027-01, often near year ends, holidays, make-up days.
_ANCHORS = sorted(
    {d for d in chinese_calendar.constants.workdays if 2025 <= d.year <= 2026}
    | {date(2025, 1, 28), date(2025, 10, 1), date(2026, 2, 15), date(2026, 10, 1)}
    | {date(2024, 12, 31), date(2025, 12, 31), date(2026, 12, 31)}
)
_FIRST, _LAST = cst(2024, 12, 1), cst(2027, 1, 31)
_SPAN_MINUTES = int((_LAST - _FIRST) / MINUTE)
starts = st.one_of(
    st.integers(0, _SPAN_MINUTES).map(lambda m: _FIRST + m * MINUTE),
    st.builds(
        lambda d, m: datetime.combine(d, time(0), tzinfo=SHANGHAI) + m * MINUTE,
        st.sampled_from(_ANCHORS),
        st.integers(-2 * 1440, 3 * 1440),
    ),
)
dst_starts = st.builds(
    lambda d, m: datetime.combine(d, time(0), tzinfo=NEW_YORK).astimezone(UTC) + m * MINUTE,
    st.sampled_from(sorted(DST_SUNDAYS)),
    st.integers(-2 * 1440, 2 * 1440),
)
precise = st.integers(0, 10**6 * 60 * 60 * 8 * 30).map(lambda us: timedelta(microseconds=us))
calendars = st.sampled_from([CN, SPLIT, DST, always()])


@pytest.mark.parametrize("name", SPECS)
@settings(max_examples=150, deadline=None)
@given(start=starts, minutes=st.integers(0, 3 * 480))
def test_add_matches_minute_oracle(name: str, start: datetime, minutes: int) -> None:
    calendar, spec = SPECS[name]
    assert calendar.add(start, minutes * MINUTE) == spec.add(start, minutes)


@pytest.mark.parametrize("name", SPECS)
@settings(max_examples=100, deadline=None)
@given(a=starts, span=st.integers(0, 10 * 1440))
def test_between_matches_minute_oracle(name: str, a: datetime, span: int) -> None:
    calendar, spec = SPECS[name]
    assert calendar.between(a, a + span * MINUTE) == spec.between(a, a + span * MINUTE)


@settings(max_examples=100, deadline=None)
@given(start=dst_starts, minutes=st.integers(0, 2 * 690), span=st.integers(0, 2 * 1440))
def test_dst_calendar_matches_minute_oracle(start: datetime, minutes: int, span: int) -> None:
    assert DST.add(start, minutes * MINUTE) == DST_SPEC.add(start, minutes)
    end = start + span * MINUTE
    assert DST.between(start, end) == DST_SPEC.between(start, end)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(SPECS)), t=starts)
def test_is_open_and_next_open_match_oracle(name: str, t: datetime) -> None:
    calendar, spec = SPECS[name]
    assert calendar.is_open(t) == spec.open(t)
    opened = calendar.next_open(t)
    assert opened >= t and calendar.is_open(opened) and calendar.between(t, opened) == H * 0
    assert opened == t or not spec.open(opened - MINUTE)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=starts, offset=precise, duration=precise)
def test_between_inverts_add_to_the_microsecond(
    calendar: BusinessCalendar, start: datetime, offset: timedelta, duration: timedelta
) -> None:
    a = start + offset % H
    assert calendar.between(a, calendar.add(a, duration)) == duration


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, a=starts, d1=precise, d2=precise, shift=st.integers(0, 5 * 1440))
def test_add_is_monotonic_and_between_is_additive(
    calendar: BusinessCalendar, a: datetime, d1: timedelta, d2: timedelta, shift: int
) -> None:
    short, long_ = sorted((d1, d2))
    assert calendar.add(a, short) <= calendar.add(a, long_)
    later = a + shift * MINUTE
    assert calendar.add(a, d1) <= calendar.add(later, d1)
    b, c = sorted((calendar.add(a, d1), calendar.add(a, d2)))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)


# --- worked examples: 2025 National Day (1–8 Oct off; Sun 28 Sep and Sat 11 Oct working) ---


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected"),
    [
        (CN, cst(2025, 9, 30, 16), H, cst(2025, 9, 30, 17)),
        (CN, cst(2025, 9, 30, 16), 2 * H, cst(2025, 10, 9, 10)),
        (CN, cst(2025, 9, 30, 16), 4 * H, cst(2025, 10, 9, 12)),
        (CN, cst(2025, 9, 26, 10), 16 * H, cst(2025, 9, 29, 10)),  # via Sunday 28 Sep
        (CN, cst(2025, 9, 30, 9), 8 * H, cst(2025, 9, 30, 17)),  # ends at the period's end
        (CN, cst(2025, 9, 30, 7), H, cst(2025, 9, 30, 10)),
        (CN, cst(2025, 9, 30, 18), H, cst(2025, 10, 9, 10)),
        (CN, cst(2025, 10, 3, 12), H, cst(2025, 10, 9, 10)),
        (CN, cst(2025, 10, 3, 12), H * 0, cst(2025, 10, 3, 12)),  # zero: start, even if closed
        (CN, cst(2025, 10, 11, 8), H, cst(2025, 10, 11, 10)),  # Saturday make-up day
        (CN, cst(2025, 1, 27, 16, 30), H, cst(2025, 2, 5, 9, 30)),  # Spring Festival
        (CN, cst(2025, 12, 31, 16), 2 * H, cst(2026, 1, 4, 10)),  # year end, Sunday make-up
        (CN, cst(2025, 12, 31, 16), H, cst(2025, 12, 31, 17)),  # the year's last instant
        (SPLIT, cst(2025, 9, 30, 11, 30), H, cst(2025, 9, 30, 14)),
        (SPLIT, cst(2025, 9, 30, 11), H, cst(2025, 9, 30, 12)),
        (SPLIT, cst(2025, 9, 30, 12, 30), H / 2, cst(2025, 9, 30, 14)),
        (SPLIT, cst(2025, 9, 26, 17), H, cst(2025, 9, 28, 9)),  # 30 min Fri, 30 min Sun
        (always(), cst(2025, 10, 1, 10), H / 2, cst(2025, 10, 1, 10, 30)),
    ],
)
def test_worked_examples(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, expected: datetime
) -> None:
    due = calendar.add(start, duration)
    assert due == expected and due.tzinfo is UTC
    assert calendar.add(start.astimezone(UTC), duration) == expected


def test_arithmetic_is_exact_to_the_microsecond() -> None:
    last = cst(2025, 9, 30, 16, 59, 59, 999_999)
    assert CN.add(last, timedelta(microseconds=1)) == cst(2025, 9, 30, 17)
    assert CN.add(last, timedelta(microseconds=2)) == cst(2025, 10, 9, 9, 0, 0, 1)
    assert CN.between(cst(2025, 9, 30, 16), cst(2025, 10, 9, 10)) == 2 * H
    assert CN.between(cst(2025, 10, 9, 10), cst(2025, 9, 30, 16)) == H * 0


def test_clock_changes_count_elapsed_time() -> None:
    def night(d: date) -> timedelta:
        midnight = datetime.combine(d, time(0), tzinfo=NEW_YORK)
        return DST.between(midnight, datetime.combine(d, time(6), tzinfo=NEW_YORK))

    assert night(date(2025, 3, 9)) == 2.5 * H  # 02:00 skipped
    assert night(date(2025, 11, 2)) == 4.5 * H  # 01:00–02:00 twice


def test_open_queries_and_day_length() -> None:
    assert CN.is_open(cst(2025, 9, 28, 9)) and not CN.is_open(cst(2025, 9, 30, 17))
    assert CN.next_open(cst(2025, 9, 30, 17)) == cst(2025, 10, 9, 9)
    assert CN.next_open(cst(2025, 9, 30, 12)) == cst(2025, 9, 30, 12)
    assert always().is_open(cst(2025, 10, 1, 3))
    assert CN.working_day_length() == 8 * H
    assert SPLIT.working_day_length() == 7.5 * H
    assert always().working_day_length() == 24 * H


def test_days_explains_each_date() -> None:
    days = {d.date: d for d in CN.days(date(2025, 9, 27), date(2025, 10, 11))}
    reasons = {d: info.reason for d, info in days.items()}
    assert reasons[date(2025, 9, 27)] is DayReason.WEEKEND
    assert reasons[date(2025, 9, 28)] is DayReason.MAKEUP_WORKDAY
    assert reasons[date(2025, 9, 30)] is DayReason.WEEKDAY
    assert {reasons[date(2025, 10, d)] for d in range(1, 9)} == {DayReason.HOLIDAY}
    assert reasons[date(2025, 10, 11)] is DayReason.MAKEUP_WORKDAY
    assert days[date(2025, 9, 28)].periods == ((cst(2025, 9, 28, 9), cst(2025, 9, 28, 17)),)
    assert days[date(2025, 10, 1)].periods == () and not days[date(2025, 10, 1)].is_working_day
    assert always().days(date(2025, 10, 1), date(2025, 10, 1))[0].is_working_day


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(NaiveDatetime, match="timezone-aware"):
        CN.add(datetime(2025, 9, 30, 16), H)
    with pytest.raises(InvalidDuration, match="negative"):
        CN.add(cst(2025, 9, 30, 16), -H)
    with pytest.raises(dataclasses.FrozenInstanceError):
        CN.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"periods": ((time(9), time(12)), (time(11), time(17)))}, "period 2 .* starts before"),
        ({"periods": ((time(17), time(9)),)}, "must start before it ends"),
        ({"periods": ()}, "at least one working period"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"book": None}, "needs a ScheduleBook"),
        ({"always_open": True}, "always open: give it no periods"),
    ],
)
def test_invalid_calendars_say_what_is_wrong(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "name": "x",
        "timezone": "Asia/Shanghai",
        "periods": ((time(9), time(17)),),
        "book": BOOK,
    }
    with pytest.raises(InvalidCalendar, match=message):
        BusinessCalendar(**{**base, **kwargs})


# --- schedules -----------------------------------------------------------------------------


def test_book_agrees_with_chinesecalendar_on_every_day() -> None:
    book = ScheduleBook.from_chinesecalendar()
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert book.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert book.years == tuple(range(2004, 2027)) and book.fallback_years_used == frozenset()


def test_unpublished_year_falls_back_then_loads_exactly(caplog: pytest.LogCaptureFixture) -> None:
    book = ScheduleBook.from_chinesecalendar()
    calendar = cn_5x8(book)
    with caplog.at_level(logging.WARNING, logger="sla_rules"):
        assert calendar.add(cst(2026, 12, 31, 16), 2 * H) == cst(2027, 1, 1, 10)  # a Friday
        assert calendar.days(date(2027, 1, 2), date(2027, 1, 2))[0].reason == "fallback_weekend"
    assert book.is_fallback(2027) and not book.has_year(2027)
    assert book.fallback_years_used == {2027}
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert "2027" in caplog.text and "Monday-Friday" in caplog.text

    sample = {"year": 2027, "holidays": ["2027-01-01"], "workdays": []}  # sample, not official
    loaded = book.with_year(YearSchedule.from_dict(sample))
    caplog.clear()
    assert calendar.with_book(loaded).add(cst(2026, 12, 31, 16), 2 * H) == cst(2027, 1, 4, 10)
    assert loaded.has_year(2027) and loaded.fallback_years_used == frozenset()
    assert caplog.records == [] and book.is_fallback(2027)


def test_operator_data_replaces_a_published_year() -> None:
    published = BOOK.get(2025)
    assert published is not None
    changed = YearSchedule(
        2025, published.holidays - {date(2025, 10, 8)}, published.workdays, "operator"
    )
    book = BOOK.with_year(changed)
    assert book.is_working_day(date(2025, 10, 8)) and not BOOK.is_working_day(date(2025, 10, 8))
    assert cn_5x8(book).add(cst(2025, 9, 30, 16), 2 * H) == cst(2025, 10, 8, 10)


def test_year_schedule_round_trips_as_plain_data() -> None:
    year = BOOK.get(2025)
    assert year is not None and year.source == "chinesecalendar"
    data = year.to_dict()
    assert "2025-10-08" in data["holidays"]
    assert data["workdays"][-2:] == ["2025-09-28", "2025-10-11"]
    assert YearSchedule.from_dict(data) == year


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"year": 2027, "holidays": ["2026-12-31"], "workdays": []},
            "holiday 2026-12-31 is not in 2027",
        ),
        (
            {"year": 2027, "holidays": ["2027-01-02"], "workdays": ["2027-01-02"]},
            "2027-01-02 is listed both as a holiday and as a make-up workday",
        ),
        (
            {"year": 2027, "holidays": [], "workdays": ["2027-01-04"]},
            "make-up workday 2027-01-04 is a Monday; make-up workdays must be Saturdays or Sundays",
        ),
        (
            {"year": 2027, "holidays": ["2027-02-30"], "workdays": []},
            r"holidays\[0\] = '2027-02-30' is not a date in YYYY-MM-DD form",
        ),
        ({"year": 2027, "holidays": []}, "missing 'workdays'"),
        ({"year": 2027, "holiday": [], "workdays": []}, "unknown key.*'holiday'"),
        ({"year": "2027", "holidays": [], "workdays": []}, "'year' must be an integer"),
    ],
)
def test_invalid_year_data_says_which_date_and_what_is_wrong(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidSchedule, match=message):
        YearSchedule.from_dict(data)


def test_chinesecalendar_years_it_lacks_are_refused() -> None:
    with pytest.raises(InvalidSchedule, match="no schedule for 2030.*with_year"):
        ScheduleBook.from_chinesecalendar(years=[2026, 2030])
