"""Every cache a process keeps, named in one place, and one way to empty them all (tests).

A module that keeps one registers it here when imported, with a line saying what it holds and
how stale it may be; `clear_all` empties those of the modules imported so far.
"""

from __future__ import annotations

from collections.abc import Callable

_REGISTERED: dict[str, tuple[str, Callable[[], None]]] = {}


def register(name: str, holds: str, clear: Callable[[], None]) -> None:
    _REGISTERED[name] = (holds, clear)


def described() -> dict[str, str]:
    """Each cache's name and what it holds."""
    return {name: holds for name, (holds, _clear) in _REGISTERED.items()}


def clear_all() -> None:
    for _holds, clear in _REGISTERED.values():
        clear()
