"""Business calendars: when SLA clocks run, and exact business-time arithmetic over them.

Each local year is precomputed once, lazily, into a sorted array of its business intervals
(UTC microseconds) with running totals, so `add` and `between` are a bisect and some
arithmetic per year spanned: cost grows with years spanned, never with minutes.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla_rules.errors import InvalidCalendar, InvalidDuration, NaiveDatetime
from sla_rules.schedule import DayReason, ScheduleBook

Period = tuple[time, time]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayInfo:
    """One local date: whether it is a working day, why, and its business periods."""

    date: date
    is_working_day: bool
    reason: DayReason
    periods: tuple[tuple[datetime, datetime], ...]  # aware, in the calendar's timezone


class _Year:
    """A local year's business intervals [starts[k], ends[k]) in UTC µs, with running totals."""

    __slots__ = ("starts", "ends", "cum_end", "total")

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self.starts = [s for s, _ in intervals]
        self.ends = [e for _, e in intervals]
        self.cum_end = list(accumulate(e - s for s, e in intervals))
        self.total = self.cum_end[-1] if self.cum_end else 0

    def elapsed(self, t: int) -> int:
        """Business µs of this year before instant `t`."""
        k = bisect_right(self.ends, t)
        if k == len(self.ends):
            return self.total
        start = self.starts[k]
        before = self.cum_end[k] - (self.ends[k] - start)
        return before + t - start if t > start else before

    def instant(self, target: int) -> int:
        """The first instant by which `target` µs (0 < target <= total) have elapsed."""
        k = bisect_left(self.cum_end, target)
        return self.ends[k] - (self.cum_end[k] - target)


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    """Working periods on working days in one timezone, or always open (24x7).

    Every method takes timezone-aware datetimes (any zone) and returns UTC ones. A period
    ending at 00:00 ends at midnight after its day. Business time is elapsed time, so a
    period across a DST change lasts what the wall clock skipped or repeated.
    """

    name: str
    timezone: str
    periods: tuple[Period, ...] = ()
    book: ScheduleBook | None = None
    always_open: bool = False
    _tz: ZoneInfo = field(init=False, repr=False)
    _years: dict[int, _Year] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidCalendar(f"a calendar needs a non-empty name, got {self.name!r}")
        try:
            object.__setattr__(self, "_tz", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidCalendar(
                f"calendar {self.name!r}: unknown timezone {self.timezone!r} "
                "(use an IANA name such as 'Asia/Shanghai')"
            ) from None
        periods = tuple((p[0], p[1]) for p in self.periods)
        object.__setattr__(self, "periods", periods)
        if self.always_open:
            if periods or self.book is not None:
                raise InvalidCalendar(
                    f"calendar {self.name!r} is always open: give it no periods and no book"
                )
            return
        if self.book is None:
            raise InvalidCalendar(f"calendar {self.name!r} needs a ScheduleBook of working days")
        _validate_periods(self.name, periods)

    def with_book(self, book: ScheduleBook) -> BusinessCalendar:
        """The same calendar over another schedule book (for example with a new year loaded)."""
        return dataclasses.replace(self, book=book)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The first instant by which `duration` of business time has elapsed after `start`.

        Zero returns `start` itself even outside business time; time running out at the end
        of a period gives that end, not the next period's start.
        """
        t, d = _us(start), _duration_us(duration)
        if d == 0 or self.always_open:
            return _at(t + d)
        year = self._local_year(start)
        chunk = self._year(year)
        target = chunk.elapsed(t) + d
        while target > chunk.total:
            target -= chunk.total
            year += 1
            chunk = self._year(year)
        return _at(chunk.instant(target))

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Business time in [a, b); zero when b <= a."""
        ta, tb = _us(a), _us(b)
        if tb <= ta:
            return timedelta(0)
        if self.always_open:
            return (tb - ta) * _US
        ya, yb = self._local_year(a), self._local_year(b)
        if ya == yb:
            chunk = self._year(ya)
            return (chunk.elapsed(tb) - chunk.elapsed(ta)) * _US
        first = self._year(ya)
        middle = sum(self._year(y).total for y in range(ya + 1, yb))
        return (first.total - first.elapsed(ta) + middle + self._year(yb).elapsed(tb)) * _US

    def is_open(self, at: datetime) -> bool:
        """Whether `at` is business time (a period includes its start, not its end)."""
        t = _us(at)
        if self.always_open:
            return True
        chunk = self._year(self._local_year(at))
        k = bisect_right(chunk.ends, t)
        return k < len(chunk.ends) and chunk.starts[k] <= t

    def next_open(self, at: datetime) -> datetime:
        """`at` itself if it is business time, else the start of the next business period."""
        t = _us(at)
        if self.always_open:
            return _at(t)
        year = self._local_year(at)
        chunk = self._year(year)
        k = bisect_right(chunk.ends, t)
        while k == len(chunk.ends):
            year, k = year + 1, 0
            chunk = self._year(year)
        return _at(max(t, chunk.starts[k]))

    def working_day_length(self) -> timedelta:
        """Nominal business time of one working day: the sum of its periods (24 h if 24x7)."""
        if self.always_open:
            return _DAY
        return sum((_tod(e, end=True) - _tod(s) for s, e in self.periods), timedelta(0))

    def days(self, from_date: date, to_date: date) -> list[DayInfo]:
        """Each local date from `from_date` to `to_date` inclusive, explained."""
        out: list[DayInfo] = []
        for ordinal in range(from_date.toordinal(), to_date.toordinal() + 1):
            d = date.fromordinal(ordinal)
            if self.always_open:
                midnight = datetime.combine(d, time(0), tzinfo=self._tz)
                out.append(DayInfo(d, True, DayReason.ALWAYS_OPEN, ((midnight, midnight + _DAY),)))
                continue
            book = self._book()
            working = book.is_working_day(d)
            spans = self._bounds(d) if working else []
            local = tuple(
                (_at(s).astimezone(self._tz), _at(e).astimezone(self._tz)) for s, e in spans
            )
            out.append(DayInfo(d, working, book.reason(d), local))
        return out

    def _book(self) -> ScheduleBook:
        assert self.book is not None  # guaranteed by __post_init__ unless always_open
        return self.book

    def _local_year(self, at: datetime) -> int:
        return at.astimezone(self._tz).year

    def _bounds(self, day: date) -> list[tuple[int, int]]:
        """UTC µs of each period on local `day`, computed in local wall time."""
        midnight = datetime.combine(day, time(0), tzinfo=self._tz)
        return [
            (_us(midnight + _tod(s)), _us(midnight + _tod(e, end=True))) for s, e in self.periods
        ]

    def _year(self, year: int) -> _Year:
        chunk = self._years.get(year)
        if chunk is None:
            if not 1 <= year <= 9998:
                raise OverflowError(f"calendar {self.name!r}: business time runs past year 9998")
            intervals: list[tuple[int, int]] = []
            for day in self._book().working_days(year):
                for s, e in self._bounds(day):
                    s = max(s, intervals[-1][1]) if intervals else s
                    if e > s:
                        intervals.append((s, e))
            chunk = self._years[year] = _Year(intervals)
        return chunk


def cn_5x8(book: ScheduleBook | None = None) -> BusinessCalendar:
    """Chinese working days (State Council schedule by default), 09:00–17:00 Asia/Shanghai."""
    if book is None:
        book = ScheduleBook.from_chinesecalendar()
    return BusinessCalendar("cn-5x8", "Asia/Shanghai", ((time(9), time(17)),), book)


def always(name: str = "24x7", timezone: str = "Asia/Shanghai") -> BusinessCalendar:
    """A calendar in which every instant is business time."""
    return BusinessCalendar(name, timezone, always_open=True)


def _validate_periods(name: str, periods: tuple[Period, ...]) -> None:
    if not periods:
        raise InvalidCalendar(f"calendar {name!r} needs at least one working period")
    previous: Period | None = None
    for i, (s, e) in enumerate(periods, 1):
        shown = f"period {i} ({s}–{e})"
        if not isinstance(s, time) or not isinstance(e, time) or s.tzinfo or e.tzinfo:
            raise InvalidCalendar(f"calendar {name!r}: {shown} must be two naive times")
        if _tod(s) >= _tod(e, end=True):
            raise InvalidCalendar(f"calendar {name!r}: {shown} must start before it ends")
        if previous is not None and _tod(s) < _tod(previous[1], end=True):
            raise InvalidCalendar(
                f"calendar {name!r}: {shown} starts before period {i - 1} "
                f"({previous[0]}–{previous[1]}) ends; give periods in order, not overlapping"
            )
        previous = (s, e)


def _tod(t: time, end: bool = False) -> timedelta:
    """Time of day as an offset from midnight; an end at 00:00 means the next midnight."""
    if end and t == time(0):
        return _DAY
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _us(dt: datetime) -> int:
    try:
        return (dt - _EPOCH) // _US
    except TypeError:
        raise NaiveDatetime(f"expected a timezone-aware datetime, got {dt!r}") from None


def _duration_us(duration: timedelta) -> int:
    if not isinstance(duration, timedelta):
        raise InvalidDuration(f"expected a timedelta, got {duration!r}")
    if duration < timedelta(0):
        raise InvalidDuration(f"a business duration cannot be negative, got {duration}")
    return duration // _US


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)
