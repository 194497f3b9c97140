"""Failures of the workflow package."""

from __future__ import annotations


class TriggerRefused(Exception):
    """A trigger that may not fire now: unknown here, forbidden to the role, or a guard said no."""

    def __init__(self, trigger: str, state: str, reason: str, allowed: list[str]) -> None:
        super().__init__(reason)
        self.trigger = trigger
        self.state = state
        self.reason = reason
        self.allowed = allowed
