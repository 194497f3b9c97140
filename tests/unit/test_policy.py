"""The shipped SLA policies: which rule a ticket falls under, and when its clocks fall due."""

from __future__ import annotations

from datetime import datetime

import pytest

from sla_rules.durations import due
from sla_rules.errors import InvalidPolicy
from sla_rules.policy import (
    Metric,
    Policy,
    Start,
    TicketFacts,
    build_calendars,
    shipped_policy,
)
from sla_rules.schedule import ScheduleBook

BOOK = ScheduleBook.from_chinesecalendar()
CONTRACTS = ("C0", "C1", "C2", "C3", "C4")


def facts(**overrides: object) -> TicketFacts:
    values: dict[str, object] = {
        "kind": "incident",
        "priority": "P3",
        "category": "software",
        "institution_kind": "community_center",
        "district_tier": "urban",
        "onsite": False,
    }
    values.update(overrides)
    return TicketFacts(**values)  # type: ignore[arg-type]


def policy(code: str) -> Policy:
    return Policy.from_dict(shipped_policy(code))


@pytest.mark.parametrize("code", CONTRACTS)
def test_every_shipped_policy_parses_and_round_trips(code: str) -> None:
    parsed = policy(code)
    assert parsed.contract == code
    assert Policy.from_dict(parsed.to_dict()) == parsed


@pytest.mark.parametrize(
    ("code", "ticket", "rule", "expected"),
    [
        (
            "C1",
            facts(category="hardware", priority="P1", district_tier="far_suburb"),
            "hardware",
            {Metric.RESPONSE: "1bh", Metric.ARRIVAL: "2bh", Metric.RESTORE: "8bh"},
        ),
        (
            "C1",
            facts(priority="P1", district_tier="far_suburb"),
            "p1-far-suburb",
            {Metric.RESPONSE: "1bh", Metric.ARRIVAL: "4bh"},
        ),
        (
            "C1",
            facts(priority="P1", district_tier="near_suburb"),
            "p1-urban",
            {Metric.RESPONSE: "1bh", Metric.ARRIVAL: "2bh"},
        ),
        (
            "C1",
            facts(institution_kind="qc_center"),
            "commission-qc-center",
            {Metric.RESPONSE: "1bh", Metric.ARRIVAL: "4bh"},
        ),
        (
            "C1",
            facts(institution_kind="clinic"),
            "other-institutions",
            {Metric.RESPONSE: "1bh", Metric.ARRIVAL: "2wd"},
        ),
        (
            "C2",
            facts(district_tier="far_suburb"),
            "suburb",
            {Metric.RESPONSE: "30m", Metric.ARRIVAL: "4h"},
        ),
        ("C3", facts(priority="P1"), "p1-emergency", {Metric.RESPONSE: "10m"}),
        ("C3", facts(priority="P2"), "others", {Metric.RESPONSE: "30bm", Metric.RESOLUTION: "3wd"}),
        (
            "C4",
            facts(priority="P1"),
            "p1-outage",
            {Metric.RESPONSE: "10m", Metric.RESTORE: "1h", Metric.RESOLUTION: "2h"},
        ),
        ("C4", facts(priority="P1", kind="request"), "others", {Metric.RESPONSE: "10m"}),
        (
            "C0",
            facts(),
            "all",
            {Metric.RESPONSE: "1bh", Metric.ARRIVAL: "1wd", Metric.RESOLUTION: "3wd"},
        ),
    ],
)
def test_first_matching_rule_sets_the_targets(
    code: str, ticket: TicketFacts, rule: str, expected: dict[Metric, str]
) -> None:
    matched = policy(code).match(ticket)
    assert matched is not None and matched.name == rule
    assert {m: str(t.duration) for m, t in matched.targets.items()} == expected


def test_c1_5_and_c1_6_arrival_counts_from_dispatch_c1_7_from_the_call() -> None:
    c1 = policy("C1")
    assert (
        c1.targets_for(facts(institution_kind="commission"))[Metric.ARRIVAL].starts
        == Start.DISPATCHED
    )
    assert c1.targets_for(facts(priority="P1"))[Metric.ARRIVAL].starts == Start.REPORTED


def when(code: str, ticket: TicketFacts, metric: Metric, start: str) -> datetime:
    p = policy(code)
    target = p.targets_for(ticket)[metric]
    calendars = build_calendars(p, BOOK)
    return due(calendars[target.calendar], datetime.fromisoformat(start), target.duration)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_c2_on_national_day_response_and_urban_arrival() -> None:
    start = "2025-10-01T10:00:00+08:00"
    assert when("C2", facts(), Metric.RESPONSE, start) == local("2025-10-01T10:30:00+08:00")
    assert when("C2", facts(), Metric.ARRIVAL, start) == local("2025-10-01T12:00:00+08:00")


def test_c1_far_suburban_p1_before_national_day() -> None:
    ticket = facts(priority="P1", district_tier="far_suburb")
    start = "2025-09-30T16:00:00+08:00"
    assert when("C1", ticket, Metric.RESPONSE, start) == local("2025-09-30T17:00:00+08:00")
    assert when("C1", ticket, Metric.ARRIVAL, start) == local("2025-10-09T12:00:00+08:00")


def test_c3_p1_on_a_holiday_night_is_ten_minutes() -> None:
    start = "2025-10-01T03:00:00+08:00"
    assert when("C3", facts(priority="P1"), Metric.RESPONSE, start) == local(
        "2025-10-01T03:10:00+08:00"
    )


def test_c3_on_a_saturday_waits_for_monday_morning() -> None:
    start = "2025-11-15T11:00:00+08:00"  # Saturday
    assert when("C3", facts(), Metric.RESPONSE, start) == local("2025-11-17T09:30:00+08:00")


def test_a_policy_may_define_a_split_shift_calendar() -> None:
    document = {
        "calendar": "split",
        "calendars": [{"name": "split", "periods": [["08:30", "12:00"], ["13:30", "17:30"]]}],
        "rules": [{"name": "all", "targets": {"response": {"duration": "1bh"}}}],
    }
    p = Policy.from_dict(document)
    cal = build_calendars(p, BOOK)["split"]
    assert cal.add(
        local("2025-11-17T11:30:00+08:00"),
        p.rules[0].targets[Metric.RESPONSE].duration.to_timedelta(cal),
    ) == local("2025-11-17T14:00:00+08:00")


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (
            {
                "calendar": "24x7",
                "rules": [],
            },
            "rules",
        ),
        (
            {
                "calendar": "24x7",
                "rules": [{"name": "a", "targets": {"response": {"duration": "2x"}}}],
            },
            "rules[0].targets.response.duration",
        ),
        (
            {
                "calendar": "24x7",
                "rules": [{"name": "a", "targets": {"speed": {"duration": "1h"}}}],
            },
            "rules[0].targets.speed",
        ),
        (
            {
                "calendar": "moon",
                "rules": [{"name": "a", "targets": {"response": {"duration": "1h"}}}],
            },
            "calendar",
        ),
        (
            {
                "calendar": "24x7",
                "rules": [
                    {"name": "a", "targets": {"response": {"duration": "1h", "warn_fraction": 1.5}}}
                ],
            },
            "rules[0].targets.response.warn_fraction",
        ),
        (
            {
                "calendar": "24x7",
                "rules": [
                    {
                        "name": "a",
                        "when": {"priority": ["P0"]},
                        "targets": {"response": {"duration": "1h"}},
                    }
                ],
            },
            "rules[0].when.priority",
        ),
        (
            {
                "calendar": "24x7",
                "ruels": [],
                "rules": [{"name": "a", "targets": {"response": {"duration": "1h"}}}],
            },
            "ruels",
        ),
    ],
)
def test_invalid_policies_name_the_path_of_the_problem(document: dict, path: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidPolicy) as error:
        Policy.from_dict(document)
    assert any(e.startswith(path + ":") for e in error.value.errors), error.value.errors


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidPolicy) as error:
        Policy.from_dict(
            {
                "calendar": "moon",
                "rules": [
                    {
                        "name": "a",
                        "when": {"tier": ["x"]},
                        "targets": {"response": {"duration": "2x", "starts": "later"}},
                    }
                ],
            }
        )
    assert len(error.value.errors) == 4
