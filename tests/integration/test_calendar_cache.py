"""The working-day schedule a process uses: read again after BOOK_TTL_SECONDS, at once after a
load in this process."""

from __future__ import annotations

import time

import pytest

from itsm import clock
from itsm.db import Database
from itsm.sla.models import CalendarYear
from itsm.sla.services import calendars


@pytest.fixture
def short_ttl(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(calendars, "BOOK_TTL_SECONDS", 0.5)
    return 0.5


def _year(year: int, holiday: str) -> dict[str, object]:
    return {"year": year, "holidays": [holiday], "workdays": [], "source": "operator"}


def test_a_year_loaded_elsewhere_is_used_once_the_cached_book_expires(
    db: Database, short_ttl: float
) -> None:
    with db.sessions() as session:
        calendars.schedule_book(session, fresh=True)
        # another process loads 2097 (written here without the service, as it would be)
        session.add(
            CalendarYear(year=2097, document=_year(2097, "2097-03-04"), loaded_at=clock.now())
        )
        session.commit()
        assert not calendars.schedule_book(session).has_year(2097)  # the cached book
        time.sleep(short_ttl + 0.1)
        assert calendars.schedule_book(session).has_year(2097)


def test_a_year_loaded_in_this_process_is_used_at_once_after_its_commit(
    db: Database, short_ttl: float
) -> None:
    with db.sessions() as session:
        calendars.schedule_book(session, fresh=True)
        calendars.load_year(session, None, 2096, _year(2096, "2096-03-05"))
        session.commit()
        assert calendars.schedule_book(session).has_year(2096)
