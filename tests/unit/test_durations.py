"""SLA durations: reading, writing, and the due instants they give."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla_rules.calendar import BusinessCalendar, always, cn_5x8
from sla_rules.durations import Duration, Unit, due, to_business_timedelta
from sla_rules.errors import InvalidDuration, NaiveDatetime
from sla_rules.schedule import ScheduleBook

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
BOOK = ScheduleBook.from_chinesecalendar()
CN = cn_5x8(BOOK)
SPLIT = BusinessCalendar(
    "split", "Asia/Shanghai", ((time(8, 30), time(12)), (time(13, 30), time(17, 30))), BOOK
)


def cst(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", Duration(30, Unit.calendar_minutes)),
        ("1h", Duration(1, Unit.calendar_hours)),
        ("90bm", Duration(90, Unit.business_minutes)),
        ("2bh", Duration(2, Unit.business_hours)),
        ("2wd", Duration(2, Unit.working_days)),
        ("1.5h", Duration(1.5, Unit.calendar_hours)),
        (" 4 BH ", Duration(4, Unit.business_hours)),
        ("2 working_days", Duration(2, Unit.working_days)),
        ("0m", Duration(0, Unit.calendar_minutes)),
    ],
)
def test_parse_reads_short_forms(text: str, expected: Duration) -> None:
    parsed = Duration.parse(text)
    assert parsed == expected and type(parsed.amount) is type(expected.amount)


@pytest.mark.parametrize("text", ["", "30", "m", "2x", "-1h", "1,5h", "1e3m", "2 weeks", "wd2"])
def test_bad_strings_say_what_is_expected(text: str) -> None:
    with pytest.raises(InvalidDuration, match=f"cannot read duration {text!r}: expected"):
        Duration.parse(text)
    assert issubclass(InvalidDuration, ValueError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": 2, "unit": "fortnights"}, "unknown duration unit 'fortnights'"),
        ({"amount": -1, "unit": "working_days"}, "must be a number >= 0"),
        ({"amount": True, "unit": "working_days"}, "must be a number >= 0"),
        ({"amount": "2", "unit": "working_days"}, "must be a number >= 0"),
        ({"amount": float("nan"), "unit": "business_hours"}, "must be a number >= 0"),
        ({"amount": 2}, "exactly the keys 'amount' and 'unit'"),
        ({"amount": 2, "unit": "working_days", "x": 1}, "exactly the keys"),
    ],
)
def test_bad_mappings_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidDuration, match=message):
        Duration.from_dict(data)


def test_mapping_and_coerce_forms() -> None:
    two = Duration.from_dict({"amount": 2, "unit": "working_days"})
    assert two == Duration(2, Unit.working_days) and two.unit is Unit.working_days
    assert two.to_dict() == {"amount": 2, "unit": "working_days"}
    assert Duration.coerce("2wd") == Duration.coerce(two.to_dict()) == Duration.coerce(two) == two
    assert [str(Duration.parse(t)) for t in ("30m", "1h", "90bm", "2bh", "2wd", "1.5h")] == [
        "30m",
        "1h",
        "90bm",
        "2bh",
        "2wd",
        "1.5h",
    ]
    assert str(Duration(1e-7, Unit.calendar_hours)) == "0.0000001h"


@given(
    amount=st.one_of(
        st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
    ),
    unit=st.sampled_from(Unit),
)
def test_text_and_mapping_forms_round_trip(amount: int | float, unit: Unit) -> None:
    d = Duration(amount, unit)
    assert Duration.parse(str(d)) == d
    assert Duration.from_dict(d.to_dict()) == d


@pytest.mark.parametrize(
    ("calendar", "start", "text", "expected"),
    [
        (CN, cst(2025, 9, 30, 16), "1bh", cst(2025, 9, 30, 17)),
        (CN, cst(2025, 9, 30, 16), "2bh", cst(2025, 10, 9, 10)),
        (CN, cst(2025, 9, 30, 16), "240bm", cst(2025, 10, 9, 12)),
        (CN, cst(2025, 9, 26, 10), "2wd", cst(2025, 9, 29, 10)),  # Sun 28 Sep is a working day
        (CN, cst(2025, 9, 30, 16), "1h", cst(2025, 9, 30, 17)),
        (CN, cst(2025, 9, 30, 16), "2h", cst(2025, 9, 30, 18)),  # calendar time ignores hours
        (CN, cst(2025, 10, 1, 10), "30m", cst(2025, 10, 1, 10, 30)),  # and holidays
        (CN, cst(2025, 9, 30, 16), "0.5wd", cst(2025, 10, 9, 12)),
        (SPLIT, cst(2025, 9, 30, 8, 30), "1wd", cst(2025, 9, 30, 17, 30)),  # 7.5 h a day
        (always(), cst(2025, 10, 1, 10), "30bm", cst(2025, 10, 1, 10, 30)),
        (always(), cst(2025, 10, 1, 10), "2wd", cst(2025, 10, 3, 10)),
    ],
)
def test_due(calendar: BusinessCalendar, start: datetime, text: str, expected: datetime) -> None:
    result = due(calendar, start, Duration.parse(text))
    assert result == expected and result.tzinfo is UTC


def test_calendar_units_are_elapsed_time_across_clock_changes() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2025, 3, 9, 1, 30, tzinfo=new_york)  # 02:00 is skipped that night
    assert due(CN, start, Duration.parse("1h")) == datetime(2025, 3, 9, 3, 30, tzinfo=new_york)


def test_business_timedelta() -> None:
    assert to_business_timedelta(CN, Duration.parse("2wd")) == 16 * H
    assert to_business_timedelta(SPLIT, Duration.parse("2wd")) == 15 * H
    assert to_business_timedelta(CN, Duration.parse("90bm")) == 1.5 * H
    with pytest.raises(InvalidDuration, match="30m counts wall-clock time"):
        to_business_timedelta(CN, Duration.parse("30m"))


def test_naive_start_is_refused() -> None:
    with pytest.raises(NaiveDatetime):
        due(CN, datetime(2025, 9, 30, 16), Duration.parse("30m"))
    with pytest.raises(NaiveDatetime):
        due(CN, datetime(2025, 9, 30, 16), Duration.parse("2bh"))
