"""SLA policies as data: ordered rules whose first match sets each clock's target.

A policy document (JSON) names a default calendar, optional calendars of its own, and rules;
a rule's `when` lists, per ticket fact, the values it applies to (any of them; a missing key
matches anything), and its `targets` give per clock a duration, an optional calendar, a
warning fraction (default 0.75) and when the clock starts (`reported` or `dispatched`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from importlib import resources
from typing import Any

from sla_rules.calendar import BusinessCalendar, always, cn_5x8
from sla_rules.durations import Duration
from sla_rules.errors import InvalidCalendar, InvalidDuration, InvalidPolicy
from sla_rules.schedule import ScheduleBook


class Metric(StrEnum):
    RESPONSE = "response"
    ARRIVAL = "arrival"
    RESTORE = "restore"
    RESOLUTION = "resolution"


class Start(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"


BUILTIN_CALENDARS = ("24x7", "cn-5x8")
CONDITIONS: dict[str, tuple[Any, ...]] = {
    "kind": ("incident", "request", "consultation"),
    "priority": ("P1", "P2", "P3", "P4"),
    "category": ("software", "hardware", "network", "database", "data", "training", "other"),
    "institution_kind": (
        "commission",
        "qc_center",
        "community_center",
        "community_station",
        "clinic",
        "hospital",
        "other",
    ),
    "district_tier": ("urban", "near_suburb", "far_suburb"),
    "onsite": (True, False),
}


@dataclass(frozen=True)
class TicketFacts:
    kind: str
    priority: str
    category: str
    institution_kind: str
    district_tier: str
    onsite: bool


@dataclass(frozen=True)
class Target:
    metric: Metric
    duration: Duration
    calendar: str
    warn_fraction: float
    starts: Start


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    when: Mapping[str, tuple[Any, ...]]
    targets: Mapping[Metric, Target]

    def matches(self, facts: TicketFacts) -> bool:
        return all(getattr(facts, key) in values for key, values in self.when.items())


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    timezone: str
    periods: tuple[tuple[time, time], ...]
    days: str


@dataclass(frozen=True)
class Policy:
    contract: str
    calendar: str
    rules: tuple[Rule, ...]
    calendars: Mapping[str, CalendarSpec]

    def match(self, facts: TicketFacts) -> Rule | None:
        """The first rule whose conditions all hold."""
        return next((rule for rule in self.rules if rule.matches(facts)), None)

    def targets_for(self, facts: TicketFacts) -> dict[Metric, Target]:
        rule = self.match(facts)
        return dict(rule.targets) if rule else {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Parse and validate a policy document, reporting every problem at once."""
        return _Parser().policy(data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "calendar": self.calendar,
            "calendars": [
                {
                    "name": c.name,
                    "timezone": c.timezone,
                    "days": c.days,
                    "periods": [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in c.periods],
                }
                for c in self.calendars.values()
            ],
            "rules": [
                {
                    "name": r.name,
                    "description": r.description,
                    "when": {k: list(v) for k, v in r.when.items()},
                    "targets": {
                        str(m): {
                            "duration": str(t.duration),
                            "calendar": t.calendar,
                            "warn_fraction": t.warn_fraction,
                            "starts": str(t.starts),
                        }
                        for m, t in r.targets.items()
                    },
                }
                for r in self.rules
            ],
        }


class _Parser:
    """Collects every error with its path instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def _keys(
        self, data: Mapping[str, Any], path: str, allowed: set[str], required: set[str]
    ) -> None:
        for key in sorted(set(data) - allowed):
            self.errors.append(f"{path}{key}: unknown key; expected one of {sorted(allowed)}")
        for key in sorted(required - set(data)):
            self.errors.append(f"{path}{key}: required")

    def policy(self, data: Mapping[str, Any]) -> Policy:
        if not isinstance(data, Mapping):
            raise InvalidPolicy(["the policy must be a JSON object"])
        self._keys(data, "", {"contract", "calendar", "calendars", "rules"}, {"calendar", "rules"})
        calendars = self._calendars(data.get("calendars", []))
        known = set(BUILTIN_CALENDARS) | set(calendars)
        default = data.get("calendar", "cn-5x8")
        if default not in known:
            self.errors.append(f"calendar: unknown calendar {default!r}; known: {sorted(known)}")
        rules_data = data.get("rules", [])
        if not isinstance(rules_data, list) or not rules_data:
            self.errors.append("rules: a policy needs at least one rule")
            rules_data = []
        rules = tuple(
            self._rule(r, f"rules[{i}].", str(default), known) for i, r in enumerate(rules_data)
        )
        if self.errors:
            raise InvalidPolicy(self.errors)
        return Policy(str(data.get("contract", "")), str(default), rules, calendars)

    def _calendars(self, items: Any) -> dict[str, CalendarSpec]:
        specs: dict[str, CalendarSpec] = {}
        if not isinstance(items, list):
            self.errors.append("calendars: must be a list")
            return specs
        for i, item in enumerate(items):
            path = f"calendars[{i}]."
            if not isinstance(item, Mapping):
                self.errors.append(f"calendars[{i}]: must be an object")
                continue
            self._keys(item, path, {"name", "timezone", "periods", "days"}, {"name", "periods"})
            try:
                periods = tuple(
                    (time.fromisoformat(a), time.fromisoformat(b))
                    for a, b in item.get("periods", [])
                )
                spec = CalendarSpec(
                    str(item.get("name", "")),
                    str(item.get("timezone", "Asia/Shanghai")),
                    periods,
                    str(item.get("days", "cn")),
                )
                if spec.days not in ("cn", "always"):
                    raise InvalidCalendar(f"days must be 'cn' or 'always', not {spec.days!r}")
                _build(spec, ScheduleBook())
            except (TypeError, ValueError) as error:
                self.errors.append(f"{path}periods: {error}")
                continue
            if spec.name in BUILTIN_CALENDARS or spec.name in specs:
                self.errors.append(f"{path}name: {spec.name!r} is already a calendar")
            specs[spec.name] = spec
        return specs

    def _rule(self, data: Any, path: str, default: str, known: set[str]) -> Rule:
        if not isinstance(data, Mapping):
            self.errors.append(f"{path.rstrip('.')}: must be an object")
            return Rule("", "", {}, {})
        self._keys(data, path, {"name", "description", "when", "targets"}, {"name", "targets"})
        when: dict[str, tuple[Any, ...]] = {}
        for key, values in dict(data.get("when") or {}).items():
            if key not in CONDITIONS:
                self.errors.append(
                    f"{path}when.{key}: unknown condition; one of {sorted(CONDITIONS)}"
                )
                continue
            values = values if isinstance(values, list) else [values]
            bad = [
                v
                for v in values
                if v not in CONDITIONS[key] or isinstance(v, bool) != (key == "onsite")
            ]
            if bad or not values:
                self.errors.append(
                    f"{path}when.{key}: {bad or values} not among {list(CONDITIONS[key])}"
                )
            when[key] = tuple(values)
        targets: dict[Metric, Target] = {}
        raw_targets = data.get("targets") or {}
        if not isinstance(raw_targets, Mapping) or not raw_targets:
            self.errors.append(f"{path}targets: give at least one of {[str(m) for m in Metric]}")
            raw_targets = {}
        for metric_name, target in raw_targets.items():
            tpath = f"{path}targets.{metric_name}"
            if metric_name not in Metric.__members__.values():
                self.errors.append(f"{tpath}: unknown clock; one of {[str(m) for m in Metric]}")
                continue
            parsed = self._target(Metric(metric_name), target, tpath, default, known)
            if parsed is not None:
                targets[parsed.metric] = parsed
        return Rule(str(data.get("name", "")), str(data.get("description", "")), when, targets)

    def _target(
        self, metric: Metric, data: Any, path: str, default: str, known: set[str]
    ) -> Target | None:
        if not isinstance(data, Mapping):
            self.errors.append(f"{path}: must be an object with a duration")
            return None
        self._keys(
            data, f"{path}.", {"duration", "calendar", "warn_fraction", "starts"}, {"duration"}
        )
        ok = True
        try:
            duration = Duration.coerce(data.get("duration", ""))
        except (InvalidDuration, TypeError, ValueError):
            self.errors.append(
                f"{path}.duration: {data.get('duration')!r} is not a duration; "
                "use e.g. 30m, 1h, 2bh, 90bm, 2wd"
            )
            ok = False
        calendar = data.get("calendar", default)
        if "calendar" in data and calendar not in known:  # the default is checked once, above
            self.errors.append(
                f"{path}.calendar: unknown calendar {calendar!r}; known: {sorted(known)}"
            )
            ok = False
        fraction = data.get("warn_fraction", 0.75)
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or not 0 < fraction < 1
        ):
            self.errors.append(f"{path}.warn_fraction: {fraction!r} must be between 0 and 1")
            ok = False
        starts = data.get("starts", "reported")
        if starts not in ("reported", "dispatched"):
            self.errors.append(f"{path}.starts: {starts!r} must be 'reported' or 'dispatched'")
            ok = False
        if not ok:
            return None
        return Target(metric, duration, str(calendar), float(fraction), Start(starts))


def _build(spec: CalendarSpec, book: ScheduleBook) -> BusinessCalendar:
    if spec.days == "always":
        return always(spec.name, spec.timezone)
    return BusinessCalendar(name=spec.name, timezone=spec.timezone, periods=spec.periods, book=book)


def build_calendars(policy: Policy, book: ScheduleBook) -> dict[str, BusinessCalendar]:
    """The calendars a policy may name: 24x7, cn-5x8 and its own, on the given schedule."""
    calendars = {"24x7": always(), "cn-5x8": cn_5x8(book)}
    calendars.update({name: _build(spec, book) for name, spec in policy.calendars.items()})
    return calendars


def shipped_policy(contract_code: str) -> dict[str, Any]:
    """The policy document shipped for a contract (sla_rules/policies/<code>.json)."""
    resource = resources.files("sla_rules.policies").joinpath(f"{contract_code}.json")
    if not resource.is_file():
        raise KeyError(f"no shipped policy for contract {contract_code!r}")
    document: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return document
