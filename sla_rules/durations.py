"""SLA target durations ("30m", "2bh", "2wd") and the due instants they give on a calendar."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sla_rules.calendar import BusinessCalendar
from sla_rules.errors import InvalidDuration, NaiveDatetime


class Unit(StrEnum):
    """What a duration counts: wall-clock time, business time, or working days."""

    calendar_minutes = "calendar_minutes"
    calendar_hours = "calendar_hours"
    business_minutes = "business_minutes"
    business_hours = "business_hours"
    working_days = "working_days"


_SUFFIX = {
    Unit.calendar_minutes: "m",
    Unit.calendar_hours: "h",
    Unit.business_minutes: "bm",
    Unit.business_hours: "bh",
    Unit.working_days: "wd",
}
_BY_SUFFIX = {suffix: unit for unit, suffix in _SUFFIX.items()}
_MINUTES = {
    Unit.calendar_minutes: 1,
    Unit.calendar_hours: 60,
    Unit.business_minutes: 1,
    Unit.business_hours: 60,
}
_TEXT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z_]+)\s*")
_HELP = (
    "expected a number and a unit such as 30m, 1h, 90bm, 2bh or 2wd "
    "(m/h: calendar minutes/hours, bm/bh: business minutes/hours, wd: working days)"
)


@dataclass(frozen=True)
class Duration:
    """A non-negative amount of one unit; `str()` gives the short form `parse` reads."""

    amount: int | float
    unit: Unit

    def __post_init__(self) -> None:
        a = self.amount
        if isinstance(a, bool) or not isinstance(a, int | float) or not math.isfinite(a) or a < 0:
            raise InvalidDuration(f"a duration amount must be a number >= 0, got {a!r}")
        try:
            object.__setattr__(self, "unit", Unit(self.unit))
        except ValueError:
            units = ", ".join(u.value for u in Unit)
            raise InvalidDuration(
                f"unknown duration unit {self.unit!r}; use one of {units}"
            ) from None

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read "30m", "1h", "90bm", "2bh", "2wd" (or "2 working_days"); decimals allowed."""
        match = _TEXT.fullmatch(text.lower()) if isinstance(text, str) else None
        unit = match and (_BY_SUFFIX.get(match[2]) or _unit_named(match[2]))
        if match is None or unit is None:
            raise InvalidDuration(f"cannot read duration {text!r}: {_HELP}")
        number = match[1]
        return cls(float(number) if "." in number else int(number), unit)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Duration:
        """Read `{"amount": 2, "unit": "working_days"}`."""
        if not isinstance(data, Mapping) or set(data) != {"amount", "unit"}:
            raise InvalidDuration(
                f"a duration mapping needs exactly the keys 'amount' and 'unit', got {data!r}"
            )
        return cls(data["amount"], data["unit"])

    @classmethod
    def coerce(cls, value: Duration | str | Mapping[str, Any]) -> Duration:
        """A Duration from itself, its short text, or its mapping form."""
        if isinstance(value, Duration):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        return cls.from_dict(value)

    def to_dict(self) -> dict[str, Any]:
        """The mapping form `from_dict` reads."""
        return {"amount": self.amount, "unit": self.unit.value}

    def __str__(self) -> str:
        a = self.amount
        text = str(a) if isinstance(a, int) else f"{Decimal(repr(a)):f}"  # never 1e-07
        return f"{text}{_SUFFIX[self.unit]}"

    @property
    def is_business(self) -> bool:
        """Whether the duration counts business time (business units and working days)."""
        return self.unit in (Unit.business_minutes, Unit.business_hours, Unit.working_days)

    def to_timedelta(self, calendar: BusinessCalendar) -> timedelta:
        """The amount as a timedelta of its own kind of time (wall-clock or business)."""
        try:
            if self.unit is Unit.working_days:
                return self.amount * calendar.working_day_length()
            return timedelta(minutes=self.amount * _MINUTES[self.unit])
        except OverflowError:
            raise InvalidDuration(f"duration {self} is too long") from None


def to_business_timedelta(calendar: BusinessCalendar, duration: Duration) -> timedelta:
    """Business time a business-unit or working-day duration stands for on `calendar`."""
    if not duration.is_business:
        raise InvalidDuration(
            f"{duration} counts wall-clock time ({duration.unit.value}), not business time"
        )
    return duration.to_timedelta(calendar)


def due(calendar: BusinessCalendar, start: datetime, duration: Duration) -> datetime:
    """When a clock started at `start` with target `duration` falls due (UTC).

    Calendar units are elapsed time regardless of the calendar; business units and working
    days are business time on `calendar` (a working day is one day of its working periods).
    """
    if start.utcoffset() is None:
        raise NaiveDatetime(f"expected a timezone-aware datetime, got {start!r}")
    delta = duration.to_timedelta(calendar)
    if duration.is_business:
        return calendar.add(start, delta)
    return start.astimezone(UTC) + delta


def _unit_named(name: str) -> Unit | None:
    try:
        return Unit(name)
    except ValueError:
        return None
