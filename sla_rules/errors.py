"""Exceptions raised by the SLA rules; each is also a ValueError, since bad input causes it."""

from __future__ import annotations


class SlaRulesError(Exception):
    """Base of every error raised by sla_rules."""


class InvalidSchedule(SlaRulesError, ValueError):
    """A year's working-day schedule is malformed or inconsistent."""


class InvalidCalendar(SlaRulesError, ValueError):
    """A business calendar's definition is malformed (periods, timezone, schedule)."""


class InvalidDuration(SlaRulesError, ValueError):
    """A duration cannot be parsed, is negative, or does not fit the calculation asked."""


class NaiveDatetime(SlaRulesError, ValueError):
    """A datetime without a timezone was given where an instant is required."""


class InvalidPolicy(SlaRulesError, ValueError):
    """An SLA policy document is malformed; `errors` lists every problem with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
