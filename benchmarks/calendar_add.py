"""How fast is business-time arithmetic on cn-5x8? Run: python benchmarks/calendar_add.py [N]

Measures BusinessCalendar.add and .between for seeded random starts in 2025–2026 and durations
up to 30 working days, beside a naive day-walking add and the brute-force minute walk (on
smaller samples), checks that all three agree, and prints calls per second and ratios. N is
the sample size (default 200,000; the naive and oracle samples scale with it).
"""

from __future__ import annotations

import logging
import random
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sla_rules.calendar import BusinessCalendar, cn_5x8  # noqa: E402

SEED = 20251001
SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = timedelta(minutes=1)
FIRST, LAST = datetime(2025, 1, 1, tzinfo=SHANGHAI), datetime(2027, 1, 1, tzinfo=SHANGHAI)
MAX_MINUTES = 30 * 8 * 60  # 30 working days of 8 hours

Case = tuple[datetime, timedelta]
T = TypeVar("T")


def cases(rng: random.Random, n: int, whole_minutes: bool = False) -> list[Case]:
    """Random (start, duration) pairs; whole minutes when the minute walk must agree."""
    unit = MINUTE if whole_minutes else timedelta(seconds=1)
    span = int((LAST - FIRST) / unit)
    longest = int(MAX_MINUTES * MINUTE / unit)
    return [
        (FIRST + rng.randrange(span) * unit, rng.randrange(longest + 1) * unit) for _ in range(n)
    ]


def day_walk_add(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """Naive: step one day at a time, consuming each working day's periods."""
    if not duration:
        return start.astimezone(UTC)
    assert cal.book is not None
    t, left, day = start.astimezone(SHANGHAI), duration, start.astimezone(SHANGHAI).date()
    while True:
        if cal.book.is_working_day(day):
            for s, e in cal.periods:
                lo = max(datetime.combine(day, s, tzinfo=SHANGHAI), t)
                hi = datetime.combine(day, e, tzinfo=SHANGHAI)
                if lo < hi:
                    if left <= hi - lo:
                        return (lo + left).astimezone(UTC)
                    left -= hi - lo
        day += timedelta(days=1)


def minute_walk_add(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """Brute force: step one minute at a time, counting the minutes that are business time."""
    assert cal.book is not None
    working: dict[date, bool] = {}
    t, left = start.astimezone(UTC), int(duration / MINUTE)
    while left:
        local = t.astimezone(SHANGHAI)
        day = local.date()
        if day not in working:
            working[day] = cal.book.is_working_day(day)
        if working[day] and any(s <= local.time() < e for s, e in cal.periods):
            left -= 1
        t += MINUTE
    return t


def rate(
    fn: Callable[[datetime, T], object], sample: Sequence[tuple[datetime, T]], repeat: int
) -> float:
    """Best calls per second over `repeat` runs through the sample."""
    best = float("inf")
    for _ in range(repeat):
        began = clock.perf_counter()
        for a, d in sample:
            fn(a, d)
        best = min(best, clock.perf_counter() - began)
    return len(sample) / best


def main(samples: int = 200_000) -> None:
    logging.basicConfig(level=logging.WARNING, format="  (log) %(message)s")
    rng = random.Random(SEED)
    began = clock.perf_counter()
    cal = cn_5x8()
    cal.add(FIRST, MAX_MINUTES * MINUTE)  # builds 2025's intervals
    cold = clock.perf_counter() - began
    for year in (2026, 2027):  # a 30-working-day add from late 2026 ends in 2027 (fallback)
        cal.add(datetime(year, 1, 2, tzinfo=SHANGHAI), MINUTE)

    fast_sample = cases(rng, samples)
    walk_sample = fast_sample[: max(samples // 40, 1)]
    oracle_sample = cases(rng, max(samples // 10_000, 1), whole_minutes=True)
    between_sample = [(a, a + 2 * d) for a, d in fast_sample]

    add_rate = rate(cal.add, fast_sample, 3)
    between_rate = rate(cal.between, between_sample, 3)
    walk_rate = rate(lambda a, d: day_walk_add(cal, a, d), walk_sample, 1)
    oracle_rate = rate(lambda a, d: minute_walk_add(cal, a, d), oracle_sample, 1)

    agree_walk = all(day_walk_add(cal, a, d) == cal.add(a, d) for a, d in walk_sample)
    agree_oracle = all(minute_walk_add(cal, a, d) == cal.add(a, d) for a, d in oracle_sample)
    agree_between = all(cal.between(a, cal.add(a, d)) == d for a, d in fast_sample[:20_000])

    print(f"cn-5x8, starts 2025-2026, durations 0..30 working days, seed {SEED}")
    print(f"calendar build + first year: {cold * 1e3:.1f} ms")
    print(f"{'method':<34}{'sample':>9}{'calls/s':>14}{'vs add':>12}")
    rows = [
        ("BusinessCalendar.add (bisect)", len(fast_sample), add_rate),
        ("BusinessCalendar.between", len(between_sample), between_rate),
        ("day-walking add (naive)", len(walk_sample), walk_rate),
        ("minute-walking add (oracle)", len(oracle_sample), oracle_rate),
    ]
    for name, n, r in rows:
        print(f"{name:<34}{n:>9,}{r:>14,.1f}{r / add_rate:>12.2g}")
    walk_x, oracle_x = add_rate / walk_rate, add_rate / oracle_rate
    print(f"add is {walk_x:,.0f}x day walking, {oracle_x:,.0f}x the oracle")
    print(
        f"agree: day walk {agree_walk}, oracle {agree_oracle}, between(a, add(a, d)) == d "
        f"{agree_between}"
    )
    if not (agree_walk and agree_oracle and agree_between):
        sys.exit("MISMATCH between implementations")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
