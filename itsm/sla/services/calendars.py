"""Business calendars: the Chinese schedule from the package, corrected by operator-loaded years."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from itsm import caches, clock
from itsm.accounts.services.access import Actor
from itsm.errors import InvalidInput, NotFound
from itsm.sla.models import CalendarYear
from sla_rules.calendar import BusinessCalendar, DayInfo, always, cn_5x8
from sla_rules.errors import InvalidSchedule
from sla_rules.schedule import ScheduleBook, YearSchedule

log = logging.getLogger(__name__)
BUILTIN = ("24x7", "cn-5x8")
_lock = threading.Lock()
_base: ScheduleBook | None = None
_books: dict[tuple[tuple[int, str], ...], ScheduleBook] = {}


def _base_book() -> ScheduleBook:
    global _base
    with _lock:
        if _base is None:
            _base = ScheduleBook.from_chinesecalendar()
        return _base


def _database(session: Session) -> str:
    return str(session.get_bind().engine.url)


BOOK_TTL_SECONDS = 10.0
_current: dict[str, tuple[float, ScheduleBook]] = {}
"""Per database: the book last read and until when it is used without asking again."""


def schedule_book(session: Session, fresh: bool = False) -> ScheduleBook:
    """The package's schedule with every operator-loaded year applied.

    Opening a ticket needs it, and the years change about once a year: a process asks the
    database again after BOOK_TTL_SECONDS (`fresh` asks now), so a year loaded elsewhere is
    used everywhere within that time; each revision is built once.
    """
    database = _database(session)
    now = time.monotonic()
    with _lock:
        current = _current.get(database)
    if current is not None and current[0] > now and not fresh:
        return current[1]
    revision = tuple(
        (year, loaded_at.isoformat())
        for year, loaded_at in session.execute(
            select(CalendarYear.year, CalendarYear.loaded_at).order_by(CalendarYear.year)
        )
    )
    with _lock:
        book = _books.get(revision)
    if book is None:
        book = _base_book()
        documents = session.scalars(select(CalendarYear.document).order_by(CalendarYear.year))
        for document in documents:
            book = book.with_year(YearSchedule.from_dict(document))
        with _lock:
            _books[revision] = book
    with _lock:
        _current[database] = (now + BOOK_TTL_SECONDS, book)
    return book


def builtin_calendar(name: str, book: ScheduleBook) -> BusinessCalendar:
    if name == "24x7":
        return always()
    if name == "cn-5x8":
        return cn_5x8(book)
    raise NotFound(f"no calendar named {name!r}; known: {', '.join(BUILTIN)}")


_built: dict[tuple[str, int], BusinessCalendar] = {}


def _forget() -> None:
    with _lock:
        _current.clear()
        _books.clear()
        _built.clear()


caches.register(
    "calendars",
    f"the working-day schedule (asked again after {BOOK_TTL_SECONDS:g} s) and calendars on it",
    _forget,
)


def contract_calendar(session: Session, name: str) -> BusinessCalendar:
    """A built-in calendar on the current schedule, built once per schedule revision (a
    calendar caches each year's working periods as it is first used)."""
    book = schedule_book(session)
    key = (name, id(book))
    with _lock:
        calendar = _built.get(key)
    if calendar is None:
        calendar = builtin_calendar(name, book)
        with _lock:
            _built[key] = calendar
    return calendar


def load_year(
    session: Session, actor: Actor | None, year: int, document: dict[str, Any]
) -> YearSchedule:
    """Load or correct a year of the working-day schedule (admins; `itsm calendar load`)."""
    document = {**document, "year": document.get("year", year)}
    document.setdefault("source", "operator")
    if document["year"] != year:
        raise InvalidInput(f"the document is for {document['year']}, not {year}")
    try:
        schedule = YearSchedule.from_dict(document)
    except InvalidSchedule as error:
        raise InvalidInput(str(error)) from None
    row = session.scalar(select(CalendarYear).where(CalendarYear.year == year))
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.document = schedule.to_dict()
    row.loaded_at = clock.now()
    row.loaded_by_id = actor.user_id if actor else None
    session.flush()
    database = _database(session)

    def forget_cached_book(_session: Session) -> None:
        with _lock:  # this process sees the year at once; the others within BOOK_TTL_SECONDS
            _current.pop(database, None)

    event.listen(session, "after_commit", forget_cached_book, once=True)
    log.info("loaded the working-day schedule for %s", year)
    return schedule


def days(session: Session, name: str, start: date, end: date) -> tuple[list[DayInfo], list[int]]:
    """The calendar's days from `start` to `end` and the years that fell back to Mon–Fri."""
    if end < start:
        raise InvalidInput("'to' is before 'from'")
    if (end - start).days > 366:
        raise InvalidInput("ask for at most 366 days at a time")
    book = schedule_book(session, fresh=True)
    calendar = builtin_calendar(name, book)
    infos = calendar.days(start, end)
    fallback = sorted(
        y for y in range(start.year, end.year + 1) if name != "24x7" and not book.has_year(y)
    )
    for year in fallback:
        log.warning("no working-day schedule for %s: Mon–Fri assumed; load it", year)
    return infos, fallback
