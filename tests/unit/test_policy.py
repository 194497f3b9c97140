"""The shipped SLA policies: which rule a ticket falls under, and when its clocks fall due."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_rules.durations import Duration, Unit, due
from sla_rules.errors import InvalidPolicy, SlaRulesError
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
R, D, L = Start.REPORTED, Start.DISPATCHED, Start.LOCATED


def facts(**overrides: Any) -> TicketFacts:
    values: dict[str, Any] = {
        "kind": "incident",
        "priority": "P3",
        "category": "software",
        "institution_kind": "community_center",
        "district_tier": "urban",
        "onsite": False,
    }
    values.update(overrides)
    return TicketFacts(**values)


def policy(code: str) -> Policy:
    return Policy.from_dict(shipped_policy(code))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def minimal(**target: Any) -> dict[str, Any]:
    """A valid one-rule document, its response target extended by `target`."""
    return {
        "calendar": "24x7",
        "rules": [{"name": "a", "targets": {"response": {"duration": "1h", **target}}}],
    }


# --- shipped policies ---------------------------------------------------------------------


@pytest.mark.parametrize("code", CONTRACTS)
def test_every_shipped_policy_parses_and_round_trips(code: str) -> None:
    parsed = policy(code)
    assert parsed.contract == code
    document = parsed.to_dict()
    assert Policy.from_dict(json.loads(json.dumps(document))) == parsed
    assert Policy.from_dict(document).to_dict() == document


@pytest.mark.parametrize("code", CONTRACTS)
def test_every_shipped_rule_names_its_clause_or_says_it_is_a_product_default(code: str) -> None:
    """A manager showing a customer a breach points at the clause the rule's description names;
    where the contract gives no number, the description says 产品默认值."""
    for rule in policy(code).rules:
        assert re.search(rf"{code}-\d+", rule.description) or "产品默认值" in rule.description
        assert re.search(r"[\u4e00-\u9fff]", rule.description), rule
        cited = re.findall(r"\bC\d-\d+", rule.description)
        assert all(c.startswith(f"{code}-") for c in cited), (rule.name, cited)


@pytest.mark.parametrize(
    ("code", "rule"),
    [("C0", "all"), ("C3", "others")],
)
def test_targets_the_seed_does_not_give_are_labelled_product_defaults(code: str, rule: str) -> None:
    """C0's seed gives service hours only; C3's none for ordinary (non-urgent) issues (C3-4)."""
    described = policy(code).rule(rule)
    assert described is not None
    assert described.description.startswith("产品默认值")
    if code == "C3":  # citing no clause it does not come from
        assert not re.search(r"C3-\d+", described.description)


def test_default_calendars_of_the_shipped_policies() -> None:
    assert {code: policy(code).calendar for code in CONTRACTS} == {
        "C0": "cn-5x8",
        "C1": "cn-5x8",
        "C2": "24x7",
        "C3": "cn-5x8",
        "C4": "24x7",
    }


def test_an_unknown_contract_has_no_shipped_policy() -> None:
    for code in ("C9", "", "../policies/C1", "C1.json"):
        with pytest.raises(KeyError):
            shipped_policy(code)


@pytest.mark.parametrize(
    ("code", "ticket", "rule", "expected"),
    [
        (
            "C0",
            facts(),
            "all",
            {
                Metric.RESPONSE: ("1bh", R),
                Metric.ARRIVAL: ("1wd", D),
                Metric.RESOLUTION: ("3wd", R),
            },
        ),
        (
            "C1",
            facts(category="hardware", priority="P1", district_tier="far_suburb"),
            "hardware",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2bh", R), Metric.RESTORE: ("8bh", L)},
        ),
        (
            "C1",
            facts(category="hardware", institution_kind="clinic"),
            "hardware",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2bh", R), Metric.RESTORE: ("8bh", L)},
        ),
        (
            "C1",
            facts(category="hardware", priority="P1", in_service_hours=False),
            "hardware-p1-off-hours",
            {Metric.RESPONSE: ("1h", R), Metric.ARRIVAL: ("2bh", R), Metric.RESTORE: ("8bh", L)},
        ),
        (
            "C1",
            facts(priority="P1", district_tier="urban", institution_kind="qc_center"),
            "p1",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2bh", R)},
        ),
        (
            "C1",
            facts(priority="P1", district_tier="near_suburb"),
            "p1",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2bh", R)},
        ),
        (
            "C1",
            facts(priority="P1", district_tier="far_suburb"),
            "p1",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2bh", R)},
        ),
        (
            "C1",
            facts(priority="P1", district_tier="far_suburb", remote_area=True),
            "p1-remote-area",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("4bh", R)},
        ),
        (
            "C1",
            facts(priority="P1", district_tier="near_suburb", remote_area=True),
            "p1",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2bh", R)},
        ),
        (
            "C1",
            facts(priority="P1", in_service_hours=False),
            "p1-off-hours",
            {Metric.RESPONSE: ("1h", R), Metric.ARRIVAL: ("2bh", R)},
        ),
        (
            "C1",
            facts(
                priority="P1", district_tier="far_suburb", remote_area=True, in_service_hours=False
            ),
            "p1-off-hours-remote-area",
            {Metric.RESPONSE: ("1h", R), Metric.ARRIVAL: ("4bh", R)},
        ),
        (
            "C1",
            facts(priority="P2", in_service_hours=False),
            "other-institutions",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2wd", D)},
        ),
        (
            "C1",
            facts(institution_kind="qc_center"),
            "commission-qc-center",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("4bh", D)},
        ),
        (
            "C1",
            facts(priority="P2", institution_kind="commission", district_tier="far_suburb"),
            "commission-qc-center",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("4bh", D)},
        ),
        (
            "C1",
            facts(institution_kind="clinic"),
            "other-institutions",
            {Metric.RESPONSE: ("1bh", R), Metric.ARRIVAL: ("2wd", D)},
        ),
        (
            "C2",
            facts(district_tier="urban"),
            "urban",
            {Metric.RESPONSE: ("30m", R), Metric.ARRIVAL: ("2h", R)},
        ),
        (
            "C2",
            facts(district_tier="near_suburb", priority="P4"),
            "urban",
            {Metric.RESPONSE: ("30m", R), Metric.ARRIVAL: ("2h", R)},
        ),
        (
            "C2",
            facts(district_tier="far_suburb"),
            "suburb",
            {Metric.RESPONSE: ("30m", R), Metric.ARRIVAL: ("4h", R)},
        ),
        ("C3", facts(priority="P1"), "p1-emergency", {Metric.RESPONSE: ("10m", R)}),
        (
            "C3",
            facts(priority="P2"),
            "others",
            {Metric.RESPONSE: ("30bm", R), Metric.RESOLUTION: ("3wd", R)},
        ),
        (
            "C4",
            facts(priority="P1", ci_group="his"),
            "his-outage",
            {Metric.RESPONSE: ("10m", R), Metric.RESTORE: ("1h", R)},
        ),
        (
            "C4",
            facts(priority="P1", ci_group="interoperability"),
            "interoperability-outage",
            {Metric.RESPONSE: ("10m", R), Metric.RESTORE: ("2h", R)},
        ),
        ("C4", facts(priority="P1"), "others", {Metric.RESPONSE: ("10m", R)}),
        ("C4", facts(priority="P1", ci_group="cloud"), "others", {Metric.RESPONSE: ("10m", R)}),
        ("C4", facts(priority="P2", ci_group="his"), "others", {Metric.RESPONSE: ("10m", R)}),
        (
            "C4",
            facts(priority="P1", kind="request", ci_group="his"),
            "others",
            {Metric.RESPONSE: ("10m", R)},
        ),
        ("C4", facts(priority="P2"), "others", {Metric.RESPONSE: ("10m", R)}),
    ],
)
def test_first_matching_rule_sets_the_targets(
    code: str, ticket: TicketFacts, rule: str, expected: dict[Metric, tuple[str, Start]]
) -> None:
    matched = policy(code).match(ticket)
    assert matched is not None and matched.name == rule
    assert {m: (str(t.duration), t.starts) for m, t in matched.targets.items()} == expected
    assert policy(code).targets_for(ticket) == dict(matched.targets)


def test_targets_default_to_the_policy_calendar_and_a_three_quarter_warning() -> None:
    c3 = policy("C3")
    p1, p3 = c3.targets_for(facts(priority="P1")), c3.targets_for(facts())
    assert p1[Metric.RESPONSE].calendar == "24x7"  # the rule's override
    assert p3[Metric.RESPONSE].calendar == p3[Metric.RESOLUTION].calendar == "cn-5x8"
    for code in CONTRACTS:
        for rule in policy(code).rules:
            assert all(t.warn_fraction == 0.75 for t in rule.targets.values())
            assert all(m == t.metric for m, t in rule.targets.items())


def test_no_matching_rule_gives_no_targets() -> None:
    document = minimal()
    document["rules"][0]["when"] = {"onsite": [True], "kind": ["incident"]}
    p = Policy.from_dict(document)
    assert p.match(facts(onsite=False)) is None
    assert p.targets_for(facts(onsite=False)) == {}
    assert p.targets_for(facts(onsite=True))[Metric.RESPONSE].duration == Duration.parse("1h")


def test_target_fields_and_the_mapping_form_of_a_duration_are_read() -> None:
    p = Policy.from_dict(
        minimal(
            duration={"amount": 2, "unit": "working_days"},
            calendar="cn-5x8",
            warn_fraction=0.5,
            starts="dispatched",
        )
    )
    target = p.rules[0].targets[Metric.RESPONSE]
    assert target.duration == Duration(2, Unit.working_days)
    assert (target.calendar, target.warn_fraction, target.starts) == ("cn-5x8", 0.5, D)
    assert Policy.from_dict(p.to_dict()) == p


# --- worked examples ----------------------------------------------------------------------


def when(code: str, ticket: TicketFacts, metric: Metric, start: str) -> datetime:
    p = policy(code)
    target = p.targets_for(ticket)[metric]
    calendars = build_calendars(p, BOOK)
    return due(calendars[target.calendar], datetime.fromisoformat(start), target.duration)


def test_c2_on_national_day_response_and_urban_arrival() -> None:
    start = "2025-10-01T10:00:00+08:00"
    assert when("C2", facts(), Metric.RESPONSE, start) == local("2025-10-01T10:30:00+08:00")
    assert when("C2", facts(), Metric.ARRIVAL, start) == local("2025-10-01T12:00:00+08:00")
    far = facts(district_tier="far_suburb")
    assert when("C2", far, Metric.ARRIVAL, start) == local("2025-10-01T14:00:00+08:00")


def test_c1_remote_far_suburban_p1_before_national_day() -> None:
    ticket = facts(priority="P1", district_tier="far_suburb", remote_area=True)
    start = "2025-09-30T16:00:00+08:00"  # Tuesday; 1-8 October are holidays
    assert when("C1", ticket, Metric.RESPONSE, start) == local("2025-09-30T17:00:00+08:00")
    assert when("C1", ticket, Metric.ARRIVAL, start) == local("2025-10-09T12:00:00+08:00")
    town = facts(priority="P1", district_tier="far_suburb")  # C1-7: not a remote part: 2 h
    assert when("C1", town, Metric.ARRIVAL, start) == local("2025-10-09T10:00:00+08:00")


def test_c1_hardware_restore_counts_eight_business_hours_from_the_location() -> None:
    """C1-8 在故障定位以后 … 在8小时内修复: located Monday 11:30, Monday 11:30-17:00 is 5.5 h,
    then 2.5 h on Tuesday from 09:00."""
    ticket = facts(category="hardware")
    assert policy("C1").targets_for(ticket)[Metric.RESTORE].starts == Start.LOCATED
    located = "2025-11-17T11:30:00+08:00"  # Monday
    assert when("C1", ticket, Metric.RESTORE, located) == local("2025-11-18T11:30:00+08:00")


def test_c1_p1_reported_at_night_gets_a_response_on_the_24x7_calendar() -> None:
    """C1-2 7×24 remote emergency response (the hour is a product default); arrival stays
    in business hours from the report."""
    saturday_night = "2025-11-15T22:00:00+08:00"
    ticket = facts(priority="P1", in_service_hours=False)
    target = policy("C1").targets_for(ticket)[Metric.RESPONSE]
    assert target.calendar == "24x7"
    assert "产品默认值" in policy("C1").rule("p1-off-hours").description  # type: ignore[union-attr]
    assert when("C1", ticket, Metric.RESPONSE, saturday_night) == local("2025-11-15T23:00:00+08:00")
    assert when("C1", ticket, Metric.ARRIVAL, saturday_night) == local("2025-11-17T11:00:00+08:00")


def test_c4_outages_restore_per_service_item_with_no_resolution_clock() -> None:
    """C4-2: the HIS (1.3.1) recovers within 1 h, the interoperability platform's longest
    single outage (1.2.2) is 2 h; neither is a resolution target."""
    start = "2025-11-16T03:00:00+08:00"  # a Sunday night: C4 is 7×24
    his = facts(priority="P1", ci_group="his")
    bus = facts(priority="P1", ci_group="interoperability")
    assert when("C4", his, Metric.RESTORE, start) == local("2025-11-16T04:00:00+08:00")
    assert when("C4", bus, Metric.RESTORE, start) == local("2025-11-16T05:00:00+08:00")
    for ticket in (his, bus):
        assert Metric.RESOLUTION not in policy("C4").targets_for(ticket)


def test_c3_p1_on_a_holiday_night_is_ten_minutes() -> None:
    start = "2025-10-01T03:00:00+08:00"
    assert when("C3", facts(priority="P1"), Metric.RESPONSE, start) == local(
        "2025-10-01T03:10:00+08:00"
    )


def test_c3_on_a_saturday_waits_for_monday_morning() -> None:
    start = "2025-11-15T11:00:00+08:00"  # Saturday
    assert when("C3", facts(), Metric.RESPONSE, start) == local("2025-11-17T09:30:00+08:00")


def test_build_calendars_gives_the_builtins_and_the_policys_own() -> None:
    document = minimal()
    document["calendars"] = [
        {"name": "split", "periods": [["08:30", "12:00"], ["13:30", "17:30"]]},
        {"name": "utc-always", "timezone": "UTC", "days": "always"},
    ]
    p = Policy.from_dict(document)
    cals = build_calendars(p, BOOK)
    assert set(cals) == {"24x7", "cn-5x8", "split", "utc-always"}
    assert cals["24x7"].always_open and not cals["cn-5x8"].always_open
    assert cals["utc-always"].always_open and cals["utc-always"].timezone == "UTC"
    assert Policy.from_dict(p.to_dict()) == p


def test_a_policy_may_define_a_split_shift_calendar() -> None:
    document = {
        "calendar": "split",
        "calendars": [{"name": "split", "periods": [["08:30", "12:00"], ["13:30", "17:30"]]}],
        "rules": [{"name": "all", "targets": {"response": {"duration": "1bh"}}}],
    }
    p = Policy.from_dict(document)
    target = p.rules[0].targets[Metric.RESPONSE]
    assert target.calendar == "split"
    cal = build_calendars(p, BOOK)["split"]
    monday = local("2025-11-17T11:30:00+08:00")
    assert due(cal, monday, target.duration) == local("2025-11-17T14:00:00+08:00")
    friday = local("2025-11-21T17:00:00+08:00")  # half an hour left, then the weekend
    assert due(cal, friday, target.duration) == local("2025-11-24T09:00:00+08:00")


# --- invalid policies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"calendar": "24x7", "rules": []}, "rules"),
        ({"calendar": "24x7"}, "rules"),
        ({"rules": minimal()["rules"]}, "calendar"),
        (minimal(duration="2x"), "rules[0].targets.response.duration"),
        (minimal(duration="0m"), "rules[0].targets.response.duration"),
        (
            minimal(duration={"amount": 1, "unit": "fortnights"}),
            "rules[0].targets.response.duration",
        ),
        (minimal(duration=60), "rules[0].targets.response.duration"),
        (
            {
                "calendar": "24x7",
                "rules": [{"name": "a", "targets": {"speed": {"duration": "1h"}}}],
            },
            "rules[0].targets.speed",
        ),
        ({**minimal(), "calendar": "moon"}, "calendar"),
        (minimal(calendar="moon"), "rules[0].targets.response.calendar"),
        (minimal(warn_fraction=1.5), "rules[0].targets.response.warn_fraction"),
        (minimal(warn_fraction=0), "rules[0].targets.response.warn_fraction"),
        (minimal(warn_fraction=True), "rules[0].targets.response.warn_fraction"),
        (minimal(starts="later"), "rules[0].targets.response.starts"),
        (minimal(colour="red"), "rules[0].targets.response.colour"),
        ({**minimal(), "ruels": []}, "ruels"),
        (
            {"calendar": "24x7", "rules": [{"name": "a", "targets": {}}]},
            "rules[0].targets",
        ),
        (
            {"calendar": "24x7", "rules": [{"name": "a", "targets": {"response": "1h"}}]},
            "rules[0].targets.response",
        ),
        ({"calendar": "24x7", "rules": ["a"]}, "rules[0]"),
        (
            {"calendar": "24x7", "rules": [*minimal()["rules"], *minimal()["rules"]]},
            "rules[1].name",
        ),
    ],
)
def test_invalid_policies_name_the_path_of_the_problem(document: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidPolicy) as error:
        Policy.from_dict(document)
    assert any(e.startswith(path + ":") for e in error.value.errors), error.value.errors


def test_rules_match_remote_areas_system_groups_and_service_hours() -> None:
    document = minimal()
    document["rules"][0]["when"] = {
        "remote_area": [True],
        "ci_group": ["his", "interoperability"],
        "in_service_hours": [False],
    }
    p = Policy.from_dict(document)
    assert Policy.from_dict(p.to_dict()) == p
    night_his = facts(remote_area=True, ci_group="his", in_service_hours=False)
    assert p.match(night_his) is not None
    assert p.match(facts(remote_area=True, ci_group=None, in_service_hours=False)) is None
    assert p.match(facts(remote_area=False, ci_group="his", in_service_hours=False)) is None
    assert p.match(facts(remote_area=True, ci_group="his", in_service_hours=True)) is None


def test_a_target_may_count_from_the_faults_location() -> None:
    p = Policy.from_dict(minimal(starts="located"))
    assert p.rules[0].targets[Metric.RESPONSE].starts == L
    assert p.to_dict()["rules"][0]["targets"]["response"]["starts"] == "located"


@pytest.mark.parametrize(
    ("when", "path"),
    [
        ({"priority": ["P0"]}, "rules[0].when.priority"),
        ({"priority": "P1"}, "rules[0].when.priority"),  # values are a list
        ({"priority": []}, "rules[0].when.priority"),
        ({"kind": ["outage"]}, "rules[0].when.kind"),
        ({"category": ["printer"]}, "rules[0].when.category"),
        ({"institution_kind": ["pharmacy"]}, "rules[0].when.institution_kind"),
        ({"district_tier": ["rural"]}, "rules[0].when.district_tier"),
        ({"onsite": ["yes"]}, "rules[0].when.onsite"),
        ({"onsite": [1]}, "rules[0].when.onsite"),
        ({"remote_area": ["yes"]}, "rules[0].when.remote_area"),
        ({"remote_area": [1]}, "rules[0].when.remote_area"),
        ({"in_service_hours": [0]}, "rules[0].when.in_service_hours"),
        ({"ci_group": ["HIS"]}, "rules[0].when.ci_group"),
        ({"ci_group": [True]}, "rules[0].when.ci_group"),
        ({"tier": ["urban"]}, "rules[0].when.tier"),
        (["priority"], "rules[0].when"),
    ],
)
def test_bad_conditions_are_refused(when: Any, path: str) -> None:
    document = minimal()
    document["rules"][0]["when"] = when
    with pytest.raises(InvalidPolicy) as error:
        Policy.from_dict(document)
    assert any(e.startswith(path + ":") for e in error.value.errors), error.value.errors


@pytest.mark.parametrize(
    ("calendar", "path"),
    [
        ({"name": "x", "periods": [["09:00", "08:00"]]}, "calendars[0].periods"),
        ({"name": "x", "periods": [["9am", "5pm"]]}, "calendars[0].periods[0]"),
        ({"name": "x", "periods": []}, "calendars[0].periods"),
        ({"name": "x"}, "calendars[0].periods"),
        (
            {"name": "x", "timezone": "Mars/Olympus", "periods": [["09:00", "17:00"]]},
            "calendars[0].timezone",
        ),
        ({"name": "x", "days": "weekdays", "periods": [["09:00", "17:00"]]}, "calendars[0].days"),
        ({"name": "x", "days": "always", "periods": [["09:00", "17:00"]]}, "calendars[0].periods"),
        ({"name": "24x7", "days": "always"}, "calendars[0].name"),
        ({"periods": [["09:00", "17:00"]]}, "calendars[0].name"),
        ({"name": "x", "periods": [["09:00", "17:00"]], "hours": 8}, "calendars[0].hours"),
    ],
)
def test_bad_calendars_are_refused(calendar: dict[str, Any], path: str) -> None:
    document = {**minimal(), "calendars": [calendar]}
    with pytest.raises(InvalidPolicy) as error:
        Policy.from_dict(document)
    assert any(e.startswith(path + ":") for e in error.value.errors), error.value.errors


def test_a_bad_duration_is_explained_with_examples() -> None:
    document = minimal()
    document["rules"][0]["targets"]["arrival"] = {"duration": "2x"}
    with pytest.raises(InvalidPolicy) as error:
        Policy.from_dict(document)
    assert error.value.errors == [
        'rules[0].targets.arrival.duration: "2x" is not a duration; use e.g. 30m, 1h, 2bh, 2wd'
    ]
    assert isinstance(error.value, ValueError) and isinstance(error.value, SlaRulesError)


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
                    },
                    {"name": "b", "targets": {"response": {"duration": "1h", "warn_fraction": 2}}},
                ],
            }
        )
    paths = [e.split(":")[0] for e in error.value.errors]
    assert paths == [
        "calendar",
        "rules[0].when.tier",
        "rules[0].targets.response.duration",
        "rules[0].targets.response.starts",
        "rules[1].targets.response.warn_fraction",
    ]
    assert str(error.value) == "; ".join(error.value.errors)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    documents: list[Any] = [[], "C1", None]
    for document in documents:
        with pytest.raises(InvalidPolicy):
            Policy.from_dict(document)


# --- any document either parses (and round-trips) or is refused with InvalidPolicy ---------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.sampled_from(["P1", "urban", "24x7", "cn-5x8", "1bh", "reported", "09:00", "always"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["name", "duration", "periods", "x"]), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


SAMPLE = {
    **shipped_policy("C1"),
    "calendars": [{"name": "x", "timezone": "UTC", "periods": [["08:00", "12:00"]], "days": "cn"}],
}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_paths(SAMPLE)), JSON)
def test_any_document_parses_or_is_refused_as_invalid(path: tuple[Any, ...], value: Any) -> None:
    document: Any = json.loads(json.dumps(SAMPLE))
    if path:
        node = document
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    else:
        document = value
    try:
        parsed = Policy.from_dict(document)
    except InvalidPolicy as error:
        assert error.errors and all(": " in e for e in error.errors)
        return
    assert Policy.from_dict(parsed.to_dict()) == parsed


def test_the_contracts_terms_are_shipped_together_and_loaded_by_one_loader() -> None:
    from sla_rules.contracts import shipped_contracts, shipped_terms

    assert shipped_contracts() == ["C0", "C1", "C2", "C3", "C4"]
    assert shipped_terms("C1", "sla") == shipped_policy("C1")
    for bad in (("C1", "../sla"), ("C1", "nonsense"), ("../C1", "sla"), ("C9", "sla")):
        with pytest.raises(KeyError):
            shipped_terms(*bad)
