"""Inspection plans on the Chinese working-day calendar (sla_rules/inspections.py).

GLPI's recurring tickets land on closed days (glpi #18703) and cannot say "the first Monday of
the month" (#23519): here every occurrence lands on a working day of the schedule (make-up
working days included), breaks are computed from the schedule, and the n-th weekday of a
month is a recurrence of its own."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_rules.contracts import shipped_terms
from sla_rules.inspections import (
    WEEKDAYS,
    ChecklistItem,
    InvalidPlan,
    ItemType,
    breaks,
    evaluate,
    occurrences,
    parse_plan,
)
from sla_rules.schedule import ScheduleBook, YearSchedule

BOOK = ScheduleBook.from_chinesecalendar(range(2024, 2027))


def year_of(plan_code: str, year: int, book: ScheduleBook = BOOK) -> list[Any]:
    plan = parse_plan(shipped_terms(plan_code, "inspections"))
    return occurrences(plan, book, date(year, 1, 1), date(year, 12, 31))


@pytest.mark.parametrize("year", [2025, 2026])
def test_c1_plans_at_least_52_system_and_52_device_inspections_all_on_working_days(
    year: int,
) -> None:
    found = year_of("C1", year)
    counts = Counter(o.kind.value for o in found)
    assert counts["system"] >= 52 and counts["device"] >= 52  # C1-10
    assert counts["patch_upgrade"] >= 2 and counts["backup_review"] >= 2  # C1-11, C1-12
    for o in found:
        assert BOOK.is_working_day(o.day), o
        assert BOOK.is_working_day(o.window_start) and BOOK.is_working_day(o.window_end), o
        assert o.window_start <= o.day <= o.window_end
    assert len({o.key for o in found}) == len(found)


def test_a_weekly_inspection_on_a_holiday_moves_to_a_working_day_of_its_week() -> None:
    # 2026-10-05 (Monday) is in the National Day break (Oct 1–7): the system inspection of
    # that week moves to its first working day, Thursday Oct 8.
    week = [o for o in year_of("C1", 2026) if o.key == "system:2026-W41"]
    assert [o.day for o in week] == [date(2026, 10, 8)]
    # A make-up working day counts: Saturday 2026-10-10 is one, so the week's window ends then.
    assert week[0].window_end == date(2026, 10, 10)


@pytest.mark.parametrize("year", [2025, 2026])
def test_c3_plan_gives_its_quarterly_pre_holiday_half_yearly_and_db_server_inspections(
    year: int,
) -> None:
    found = year_of("C3", year)
    counts = Counter(o.kind.value for o in found)
    assert counts["quarterly"] == 4 and counts["db_server"] == 4  # C3-6, C3-7
    assert counts["half_year_on_site"] == 2
    long_breaks = [b for b in breaks(BOOK, date(year, 1, 1), date(year, 12, 31)) if b.days > 3]
    short_breaks = [b for b in breaks(BOOK, date(year, 1, 1), date(year, 12, 31)) if b.days <= 3]
    assert len(long_breaks) == 3  # the Spring Festival, Labour Day and National Day
    assert short_breaks  # New Year, Qingming, Dragon Boat …: no inspection before these
    pre = sorted((o for o in found if o.kind.value == "pre_holiday"), key=lambda o: o.day)
    assert [o.key for o in pre] == [f"pre_holiday:{b.first.isoformat()}" for b in long_breaks]
    for o, holiday_break in zip(pre, long_breaks, strict=True):
        # The window is the last working days before the break, ending the day before it.
        assert o.window_end < holiday_break.first
        between = [holiday_break.first - timedelta(days=d) for d in range(1, 10)]
        last_working = next(d for d in between if BOOK.is_working_day(d))
        assert o.window_end == last_working
    assert all(BOOK.is_working_day(o.day) for o in found)


def test_2026_breaks_longer_than_three_days_come_from_the_schedule() -> None:
    long_breaks = [
        (b.first, b.last) for b in breaks(BOOK, date(2026, 1, 1), date(2026, 12, 31)) if b.days > 3
    ]
    assert long_breaks == [
        (date(2026, 2, 15), date(2026, 2, 23)),
        (date(2026, 5, 1), date(2026, 5, 5)),
        (date(2026, 10, 1), date(2026, 10, 7)),
    ]


def test_a_year_loaded_by_an_operator_counts_its_breaks_the_same_way() -> None:
    # A made-up 2027: Spring Festival Mon Feb 8 – Fri Feb 12 off, with Sunday Feb 7 a make-up
    # working day (so the break is Feb 8–14, 7 days), and a 3-day Qingming break (Apr 3–5: not
    # longer than 3 days, so no inspection before it).
    spring = [date(2027, 2, 8) + timedelta(days=i) for i in range(5)]
    qingming = [date(2027, 4, 3), date(2027, 4, 4), date(2027, 4, 5)]
    loaded = BOOK.with_year(
        YearSchedule(2027, frozenset(spring + qingming), frozenset({date(2027, 2, 7)}))
    )
    pre = [o for o in year_of("C3", 2027, loaded) if o.kind.value == "pre_holiday"]
    assert [o.key for o in pre] == ["pre_holiday:2027-02-08"]
    assert pre[0].window_end == date(2027, 2, 7)  # the make-up Sunday is its last day
    assert pre[0].window_start == date(2027, 2, 2)  # five working days: Feb 2–5 and 7
    assert all(loaded.is_working_day(o.day) for o in year_of("C1", 2027, loaded))


def test_the_first_monday_of_each_month_is_a_recurrence() -> None:
    plan = parse_plan(plan_with({"every": "month", "weekday": "mon", "nth": 1}))
    days = [o.day for o in occurrences(plan, BOOK, date(2026, 1, 1), date(2026, 12, 31))]
    assert len(days) == 12
    for day in days:
        first_monday = day.replace(day=1) + timedelta(days=(0 - day.replace(day=1).weekday()) % 7)
        # On the first Monday, or moved to the nearest working day when it is a holiday.
        assert day == first_monday or not BOOK.is_working_day(first_monday)
    assert date(2026, 2, 2) in days and date(2026, 3, 2) in days


def test_a_plan_that_skips_closed_days_says_so_and_the_count_shows_it() -> None:
    skip = parse_plan(plan_with({"every": "week", "weekday": "mon"}, when_closed="skip"))
    nearest = parse_plan(plan_with({"every": "week", "weekday": "mon"}))
    first, last = date(2026, 1, 1), date(2026, 12, 31)
    skipped = occurrences(skip, BOOK, first, last)
    moved = occurrences(nearest, BOOK, first, last)
    assert len(skipped) < len(moved)
    assert all(o.day.weekday() == 0 for o in skipped)


def plan_with(recurrence: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "obligations": [
            {
                "kind": "system",
                "title": "系统巡检",
                "required": 12,
                "recurrence": recurrence,
                "checklist": [{"key": "ok", "label": "正常", "type": "check"}],
                **extra,
            }
        ]
    }


def test_a_malformed_plan_names_the_path_of_every_error() -> None:
    with pytest.raises(InvalidPlan) as raised:
        parse_plan(
            {
                "obligations": [
                    {
                        "kind": "weekly",
                        "title": "",
                        "required": 0,
                        "recurrence": {"every": "week"},
                        "checklist": [{"key": "cpu", "label": "CPU", "type": "check", "max": 80}],
                    }
                ],
                "colour": "red",
            }
        )
    errors = raised.value.errors
    assert "$.colour: unknown field" in errors
    for path in (
        "$.obligations[0].kind",
        "$.obligations[0].title",
        "$.obligations[0].required",
        "$.obligations[0].recurrence.weekday",
        "$.obligations[0].checklist[0]",
    ):
        assert any(e.startswith(path) for e in errors), (path, errors)


def test_the_checklist_marks_numbers_out_of_bounds_as_faults_and_names_what_is_missing() -> None:
    items = (
        ChecklistItem("hosts", "主机", ItemType.CHECK),
        ChecklistItem("cpu", "CPU", ItemType.NUMBER, unit="%", max=80),
        ChecklistItem("photo", "照片", ItemType.PHOTO),
        ChecklistItem("notes", "说明", ItemType.TEXT, required=False),
    )
    state = evaluate(items, {"hosts": "ok", "cpu": 93.5}, {})
    assert state.faults == ("cpu",) and state.missing == ("photo",) and not state.complete
    done = evaluate(items, {"hosts": "fault", "cpu": 40}, {"photo": 1})
    assert done.complete and done.faults == ("hosts",)
    wrong = evaluate(items, {"hosts": "fine", "cpu": "high", "ghost": 1}, {"photo": 1})
    assert len(wrong.errors) == 3 and not wrong.complete


recurrences = st.one_of(
    st.builds(lambda w: {"every": "week", "weekday": w}, st.sampled_from(WEEKDAYS)),
    st.builds(
        lambda w, n: {"every": "month", "weekday": w, "nth": n},
        st.sampled_from(WEEKDAYS),
        st.sampled_from([1, 2, 3, 4, 5, -1]),
    ),
    st.builds(
        lambda m, w: {"every": "quarter", "month": m, "weekday": w, "nth": 1},
        st.integers(1, 3),
        st.sampled_from(WEEKDAYS),
    ),
    st.builds(lambda m: {"every": "half_year", "month": m}, st.integers(1, 6)),
    st.builds(lambda n: {"every": "break", "longer_than": n}, st.integers(0, 8)),
)


@settings(max_examples=60, deadline=None)
@given(
    recurrence=recurrences,
    year=st.sampled_from([2024, 2025, 2026]),
    window=st.one_of(st.none(), st.integers(1, 10)),
    when_closed=st.sampled_from(["nearest", "skip"]),
)
def test_no_occurrence_of_any_plan_falls_on_a_non_working_day(
    recurrence: dict[str, Any], year: int, window: int | None, when_closed: str
) -> None:
    extra: dict[str, Any] = {"when_closed": when_closed}
    if window is not None:
        extra["window_days"] = window
    plan = parse_plan(plan_with(recurrence, **extra))
    found = occurrences(plan, BOOK, date(year, 1, 1), date(year, 12, 31))
    for o in found:
        assert BOOK.is_working_day(o.day) and BOOK.is_working_day(o.window_end), o
        assert o.window_start <= o.day <= o.window_end
    assert len({o.key for o in found}) == len(found)
    assert len({o.day for o in found}) == len(found)
