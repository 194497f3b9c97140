"""SLA policies as data: ordered rules whose first match sets each clock's target.

A policy document (JSON) names a default calendar, optional calendars of its own, and rules;
a rule's `when` lists, per ticket fact, the values it applies to (any of them; a missing key
matches anything), and its `targets` give per clock a duration, an optional calendar, a
warning fraction (default 0.75) and when the clock starts (`reported`, `dispatched` or
`located`: the step that records where the fault lies). A rule's `description` says where its
targets come from: the contract's clause (`C1-7 远郊区的偏远地区 4 小时`) or `产品默认值`
where the contract gives no number; managers show it to customers beside a breach.

Facts a rule may match (`TicketFacts`): the ticket's kind, priority, category, whether it is
on-site work, the institution's kind, its district's tier and whether it lies in a remote
area (`remote_area`), the group of the system concerned (`ci_group`: `his`,
`interoperability`, …) and whether it was reported within the policy calendar's service hours
(`in_service_hours`).

`Policy.from_dict` checks the whole document and reports every problem at once, each with
its path (`rules[2].targets.arrival.duration: ...`); `Policy.to_dict` gives the canonical
document back (durations as short text, every target's calendar resolved).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla_rules.calendar import BusinessCalendar, always, cn_5x8
from sla_rules.contracts import shipped_terms
from sla_rules.durations import Duration
from sla_rules.errors import InvalidCalendar, InvalidDuration, InvalidPolicy
from sla_rules.schedule import ScheduleBook
from sla_rules.vocabulary import (
    Category,
    DistrictTier,
    InstitutionKind,
    Priority,
    SystemGroup,
    TicketKind,
)


class Metric(StrEnum):
    RESPONSE = "response"
    ARRIVAL = "arrival"
    RESTORE = "restore"
    RESOLUTION = "resolution"


class Start(StrEnum):
    """When a target's clock starts: at the report, at dispatch on site, or once the fault is
    located (C1-8: repaired within 8 hours 在故障定位以后)."""

    REPORTED = "reported"
    DISPATCHED = "dispatched"
    LOCATED = "located"


BUILTIN_CALENDARS = ("24x7", "cn-5x8")
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_WARN_FRACTION = 0.75
DAYS = ("cn", "always")


def _values(words: type[StrEnum]) -> tuple[str, ...]:
    return tuple(word.value for word in words)


CONDITIONS: dict[str, tuple[Any, ...]] = {
    "kind": _values(TicketKind),
    "priority": _values(Priority),
    "category": _values(Category),
    "institution_kind": _values(InstitutionKind),
    "district_tier": _values(DistrictTier),
    "remote_area": (True, False),
    "ci_group": _values(SystemGroup),
    "onsite": (True, False),
    "in_service_hours": (True, False),
}
FLAGS = frozenset({"remote_area", "onsite", "in_service_hours"})
"""Conditions on a yes/no fact: their values are true and false (never 1 and 0)."""

_POLICY_KEYS = ("contract", "calendar", "calendars", "rules")
_CALENDAR_KEYS = ("name", "timezone", "periods", "days")
_RULE_KEYS = ("name", "description", "when", "targets")
_TARGET_KEYS = ("duration", "calendar", "warn_fraction", "starts")
_CLOCK_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?")


@dataclass(frozen=True)
class TicketFacts:
    kind: str
    priority: str
    category: str
    institution_kind: str
    district_tier: str
    onsite: bool
    remote_area: bool = False
    """The institution lies in a remote part of its district (C1-7 远郊区的偏远地区)."""
    ci_group: str | None = None
    """The group of the system the ticket is about; None when it names none."""
    in_service_hours: bool = True
    """Reported within the open hours of the policy's calendar (C1-2: 7×24 remote emergency
    response beyond C1's 5×8)."""


@dataclass(frozen=True)
class Target:
    metric: Metric
    duration: Duration
    calendar: str  # resolved: the target's own calendar or the policy's
    warn_fraction: float
    starts: Start


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    when: Mapping[str, tuple[Any, ...]]
    targets: Mapping[Metric, Target]

    def matches(self, facts: TicketFacts) -> bool:
        """Whether every condition holds (a fact matches when it is any of the listed values)."""
        return all(getattr(facts, key) in values for key, values in self.when.items())


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    timezone: str
    periods: tuple[tuple[time, time], ...]
    days: str  # "cn": Chinese working days from the schedule book; "always": always open


@dataclass(frozen=True)
class Policy:
    contract: str
    calendar: str
    rules: tuple[Rule, ...]
    calendars: Mapping[str, CalendarSpec]

    def match(self, facts: TicketFacts) -> Rule | None:
        """The first rule whose conditions all hold."""
        return next((rule for rule in self.rules if rule.matches(facts)), None)

    def rule(self, name: str) -> Rule | None:
        """The rule of that name (a clock records its rule's name)."""
        return next((rule for rule in self.rules if rule.name == name), None)

    def targets_for(self, facts: TicketFacts) -> dict[Metric, Target]:
        """The matching rule's targets by clock; empty when no rule matches."""
        rule = self.match(facts)
        return dict(rule.targets) if rule else {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Parse and validate a policy document, reporting every problem at once."""
        return _Parser().policy(data)

    def to_dict(self) -> dict[str, Any]:
        """The canonical document; `from_dict` reads it back to an equal policy."""
        return {
            "contract": self.contract,
            "calendar": self.calendar,
            "calendars": [
                {
                    "name": c.name,
                    "timezone": c.timezone,
                    "periods": [[_clock_text(a), _clock_text(b)] for a, b in c.periods],
                    "days": c.days,
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


def build_calendars(policy: Policy, book: ScheduleBook) -> dict[str, BusinessCalendar]:
    """The calendars a policy may name: 24x7, cn-5x8 and its own, on the given schedule."""
    calendars = {"24x7": always(), "cn-5x8": cn_5x8(book)}
    calendars.update({name: _build(spec, book) for name, spec in policy.calendars.items()})
    return calendars


def shipped_policy(contract_code: str) -> dict[str, Any]:
    """The SLA policy shipped for a contract (sla_rules/contracts/<code>/sla.json).

    Raises KeyError when none is shipped for that code.
    """
    try:
        return shipped_terms(contract_code, "sla")
    except KeyError:
        raise KeyError(f"no shipped policy for contract {contract_code!r}") from None


def _build(spec: CalendarSpec, book: ScheduleBook) -> BusinessCalendar:
    if spec.days == "always":
        return always(spec.name, spec.timezone)
    return BusinessCalendar(name=spec.name, timezone=spec.timezone, periods=spec.periods, book=book)


def _clock_text(t: time) -> str:
    return t.isoformat(timespec="minutes" if not (t.second or t.microsecond) else "auto")


def _show(value: Any) -> str:
    """A value as the document's author wrote it (JSON), for error messages."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _choices(values: tuple[Any, ...] | list[Any]) -> str:
    return ", ".join(_show(v) for v in values)


class _Parser:
    """Collects every error with its path instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def _object(self, data: Any, path: str, what: str) -> bool:
        if isinstance(data, Mapping):
            return True
        self.error(path, f"{what} must be an object, got {_show(data)}")
        return False

    def _keys(
        self, data: Mapping[Any, Any], prefix: str, allowed: tuple[str, ...], required: set[str]
    ) -> None:
        for key in data:
            if key not in allowed:
                self.error(f"{prefix}{key}", f"unknown key; expected one of {_choices(allowed)}")
        for key in allowed:
            if key in required and key not in data:
                self.error(f"{prefix}{key}", "required")

    def _text(self, data: Mapping[Any, Any], key: str, prefix: str, default: str) -> str:
        """A non-empty string field (or its default when absent)."""
        value = data.get(key, default)
        if isinstance(value, str) and value:
            return value
        if key in data:
            self.error(f"{prefix}{key}", f"must be a non-empty string, got {_show(value)}")
        return default

    # --- the document ----------------------------------------------------------------------

    def policy(self, data: Any) -> Policy:
        if not isinstance(data, Mapping):
            raise InvalidPolicy([f"(policy): must be a JSON object, got {_show(data)}"])
        self._keys(data, "", _POLICY_KEYS, {"calendar", "rules"})
        contract = data.get("contract", "")
        if not isinstance(contract, str):
            self.error("contract", f"must be a string (the contract code), got {_show(contract)}")
            contract = ""
        calendars = self._calendars(data.get("calendars", []))
        known = (*BUILTIN_CALENDARS, *calendars)
        default = "cn-5x8"  # only to go on checking the rules when the policy's own is wrong
        if "calendar" in data:
            default = self._calendar_name(data["calendar"], "calendar", known) or default
        rules = self._rules(data.get("rules", []), "rules" in data, default, known)
        if self.errors:
            raise InvalidPolicy(self.errors)
        return Policy(contract, default, rules, calendars)

    def _calendar_name(self, value: Any, path: str, known: tuple[str, ...]) -> str | None:
        if isinstance(value, str) and value in known:
            return value
        self.error(path, f"unknown calendar {_show(value)}; known: {_choices(known)}")
        return None

    # --- calendars -------------------------------------------------------------------------

    def _calendars(self, items: Any) -> dict[str, CalendarSpec]:
        specs: dict[str, CalendarSpec] = {}
        if not isinstance(items, list):
            self.error("calendars", f"must be a list of calendars, got {_show(items)}")
            return specs
        for i, item in enumerate(items):
            spec = self._calendar(item, f"calendars[{i}]")
            if spec is None:
                continue
            if spec.name in BUILTIN_CALENDARS or spec.name in specs:
                self.error(f"calendars[{i}].name", f"{_show(spec.name)} is already a calendar")
                continue
            specs[spec.name] = spec
        return specs

    def _calendar(self, data: Any, path: str) -> CalendarSpec | None:
        if not self._object(data, path, "a calendar"):
            return None
        before = len(self.errors)
        prefix = f"{path}."
        days = data.get("days", "cn")
        if days not in DAYS:
            self.error(f"{prefix}days", f"{_show(days)} must be one of {_choices(DAYS)}")
            days = "cn"
        self._keys(data, prefix, _CALENDAR_KEYS, {"name", "periods"} if days == "cn" else {"name"})
        name = self._text(data, "name", prefix, "")
        timezone = self._text(data, "timezone", prefix, DEFAULT_TIMEZONE)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.error(
                f"{prefix}timezone",
                f'unknown timezone {_show(timezone)}; use an IANA name such as "Asia/Shanghai"',
            )
        periods = self._periods(data.get("periods", []), f"{prefix}periods")
        if days == "always" and periods:
            self.error(f"{prefix}periods", 'an "always" calendar is always open; give no periods')
        if len(self.errors) > before or name == "":
            return None
        spec = CalendarSpec(name, timezone, periods, days)
        try:
            _build(spec, ScheduleBook())
        except InvalidCalendar as error:
            self.error(f"{prefix}periods", str(error))
            return None
        return spec

    def _periods(self, items: Any, path: str) -> tuple[tuple[time, time], ...]:
        if not isinstance(items, list):
            self.error(path, f'must be a list of ["HH:MM", "HH:MM"] pairs, got {_show(items)}')
            return ()
        periods: list[tuple[time, time]] = []
        for i, item in enumerate(items):
            ok = isinstance(item, list) and len(item) == 2
            ok = ok and all(isinstance(t, str) and _CLOCK_TIME.fullmatch(t) for t in item)
            try:
                start, end = (time.fromisoformat(t) for t in item) if ok else (time(), time())
            except ValueError:
                ok = False
            if not ok:
                self.error(f"{path}[{i}]", f'{_show(item)} is not a ["HH:MM", "HH:MM"] period')
                continue
            periods.append((start, end))
        return tuple(periods)

    # --- rules -----------------------------------------------------------------------------

    def _rules(
        self, items: Any, given: bool, default: str, known: tuple[str, ...]
    ) -> tuple[Rule, ...]:
        if not isinstance(items, list) or not items:
            if given:  # a missing list is already reported as required
                self.error(
                    "rules", f"a policy needs a list of at least one rule, got {_show(items)}"
                )
            return ()
        rules: list[Rule] = []
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            rule = self._rule(item, f"rules[{i}]", default, known)
            if rule is None:
                continue
            if rule.name and rule.name in first:
                self.error(
                    f"rules[{i}].name",
                    f"{_show(rule.name)} is already the name of rules[{first[rule.name]}]",
                )
            first.setdefault(rule.name, i)
            rules.append(rule)
        return tuple(rules)

    def _rule(self, data: Any, path: str, default: str, known: tuple[str, ...]) -> Rule | None:
        if not self._object(data, path, "a rule"):
            return None
        prefix = f"{path}."
        self._keys(data, prefix, _RULE_KEYS, {"name", "targets"})
        name = self._text(data, "name", prefix, "")
        description = data.get("description", "")
        if not isinstance(description, str):
            self.error(f"{prefix}description", f"must be a string, got {_show(description)}")
            description = ""
        when = self._when(data.get("when", {}), f"{prefix}when")
        targets = self._targets(data.get("targets", {}), f"{prefix}targets", default, known)
        return Rule(name, description, when, targets)

    def _when(self, data: Any, path: str) -> dict[str, tuple[Any, ...]]:
        when: dict[str, tuple[Any, ...]] = {}
        if not self._object(data, path, "when"):
            return when
        for key, values in data.items():
            if key not in CONDITIONS:
                self.error(
                    f"{path}.{key}",
                    f"unknown condition; expected one of {_choices(tuple(CONDITIONS))}",
                )
                continue
            allowed = CONDITIONS[key]
            if not isinstance(values, list) or not values:
                self.error(
                    f"{path}.{key}",
                    f"must be a non-empty list of any of {_choices(allowed)}, got {_show(values)}",
                )
                continue
            # bools only for flags, and never 1/0 for true/false (nor true for 1)
            bad = [v for v in values if v not in allowed or isinstance(v, bool) != (key in FLAGS)]
            if bad:
                self.error(f"{path}.{key}", f"{_choices(bad)} not among {_choices(allowed)}")
                continue
            when[key] = tuple(values)
        return when

    def _targets(
        self, data: Any, path: str, default: str, known: tuple[str, ...]
    ) -> dict[Metric, Target]:
        targets: dict[Metric, Target] = {}
        metrics = tuple(m.value for m in Metric)
        if not isinstance(data, Mapping) or not data:
            self.error(path, f"must be an object giving at least one of {_choices(metrics)}")
            return targets
        for name, target in data.items():
            if name not in metrics:
                self.error(f"{path}.{name}", f"unknown clock; expected one of {_choices(metrics)}")
                continue
            parsed = self._target(Metric(name), target, f"{path}.{name}", default, known)
            if parsed is not None:
                targets[parsed.metric] = parsed
        return targets

    def _target(
        self, metric: Metric, data: Any, path: str, default: str, known: tuple[str, ...]
    ) -> Target | None:
        if not self._object(data, path, "a target"):
            return None
        prefix = f"{path}."
        before = len(self.errors)
        self._keys(data, prefix, _TARGET_KEYS, {"duration"})
        duration = (
            self._duration(data["duration"], f"{prefix}duration") if "duration" in data else None
        )
        calendar: str | None = default
        if "calendar" in data:  # the policy's own calendar is checked once, at the top
            calendar = self._calendar_name(data["calendar"], f"{prefix}calendar", known)
        fraction = data.get("warn_fraction", DEFAULT_WARN_FRACTION)
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or not 0 < fraction < 1
        ):
            self.error(
                f"{prefix}warn_fraction",
                f"{_show(fraction)} must be a number between 0 and 1 (exclusive), e.g. 0.75",
            )
        starts = data.get("starts", Start.REPORTED.value)
        starts_values = tuple(s.value for s in Start)
        if starts not in starts_values:
            self.error(
                f"{prefix}starts", f"{_show(starts)} must be one of {_choices(starts_values)}"
            )
        if len(self.errors) > before or duration is None or calendar is None:
            return None
        return Target(metric, duration, calendar, float(fraction), Start(starts))

    def _duration(self, value: Any, path: str) -> Duration | None:
        hint = "use e.g. 30m, 1h, 2bh, 2wd"
        try:
            if isinstance(value, str):
                duration = Duration.parse(value)
            elif isinstance(value, Mapping):
                hint += ', or {"amount": 2, "unit": "working_days"}'
                duration = Duration.from_dict(value)
            else:
                raise InvalidDuration(value)
        except (InvalidDuration, TypeError, ValueError):
            self.error(path, f"{_show(value)} is not a duration; {hint}")
            return None
        if duration.amount <= 0:
            self.error(path, f"{_show(value)} must be longer than zero")
            return None
        return duration
