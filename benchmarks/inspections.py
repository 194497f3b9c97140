"""A year of inspections for many sites: the plan rules beside a day-by-day generator, and the
occurrences written to PostgreSQL.

Run: .venv/bin/python benchmarks/inspections.py [--sites 1000] [--year 2026] [--repeat 3]
     [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-database]

1. In memory: each site has a plan of one weekly device inspection (its weekday by site, moved
   to the nearest working day of the week when the day is closed). `sla_rules.inspections`
   (the calendar asked once per day for all sites, then each plan's candidate days looked up)
   against a day-by-day generator in the same run (every day asked of the calendar for every
   site, as a per-site job that wakes daily would); both must give the same occurrences.
   Also counted: how many occurrences a generator blind to the calendar (every 7 days from
   the first, GLPI's recurring tickets) would put on non-working days.
2. In the database (a database of the run's own): `inspections.generate` for every site's
   contract through the year's end: rows per second, and a second run that must add nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sla_rules.inspections import (  # noqa: E402
    WEEKDAYS,
    Plan,
    WorkingDays,
    occurrences,
    parse_plan,
    span_for,
)
from sla_rules.schedule import ScheduleBook  # noqa: E402

CHECKLIST = [
    {"key": "hosts", "label": "主机运行状态", "type": "check"},
    {"key": "cpu", "label": "CPU 使用率", "type": "number", "unit": "%", "max": 80},
]


def site_plan(site: int) -> dict[str, Any]:
    return {
        "obligations": [
            {
                "kind": "device",
                "title": "设备巡检",
                "required": 52,
                "recurrence": {"every": "week", "weekday": WEEKDAYS[site % 5]},
                "checklist": CHECKLIST,
            }
        ]
    }


def by_plan_rules(plans: list[Plan], book: ScheduleBook, year: int) -> list[list[date]]:
    """The calendar asked once per day of the span, for all sites; each site's plan then asks
    only about its candidate days."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    days = WorkingDays(book, *span_for(first, last))
    return [[o.day for o in occurrences(plan, days, first, last)] for plan in plans]


def day_by_day(plans: list[Plan], book: ScheduleBook, year: int) -> list[list[date]]:
    """Every day of the year asked of the calendar, for every site: a week's occurrence is its
    weekday if a working day, else the nearest working day of the week (the earlier of two);
    a week with none takes the nearest working day around it not already taken."""
    out = []
    for plan in plans:
        weekday = plan.obligations[0].recurrence.weekday
        assert weekday is not None
        days: list[date] = []
        monday = date(year, 1, 1) - timedelta(days=date(year, 1, 1).weekday())
        while monday.year <= year:
            week = [monday + timedelta(days=i) for i in range(7)]
            working = [d for d in week if book.is_working_day(d)]
            target = week[weekday]
            if working:
                chosen = min(working, key=lambda d: (abs((d - target).days), d))
            else:
                around = [
                    d
                    for n in range(1, 32)
                    for d in (monday - timedelta(days=n), week[-1] + timedelta(days=n))
                    if book.is_working_day(d) and d not in days
                ]
                chosen = around[0]
            if chosen.year == year and chosen not in days:
                days.append(chosen)
            monday += timedelta(days=7)
        out.append(sorted(days))
    return out


def calendar_blind(site: int, year: int) -> list[date]:
    """Every 7 days from the year's first such weekday, whatever the calendar says."""
    day = date(year, 1, 1)
    while day.weekday() != site % 5:
        day += timedelta(days=1)
    return [
        day + timedelta(days=7 * i) for i in range(53) if (day + timedelta(days=7 * i)).year == year
    ]


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def in_memory(sites: int, year: int, repeat: int) -> None:
    book = ScheduleBook.from_chinesecalendar(range(year - 1, year + 1))
    plans = [parse_plan(site_plan(site)) for site in range(sites)]
    ours_s, ours = timed(lambda: by_plan_rules(plans, book, year), repeat)
    naive_s, naive = timed(lambda: day_by_day(plans, book, year), repeat)
    total = sum(len(days) for days in ours)
    assert sum(len(days) for days in naive) == total, "the generators disagree on counts"
    mismatched = sum(1 for a, b in zip(ours, naive, strict=True) if a != b)
    closed = sum(
        1 for site in range(sites) for d in calendar_blind(site, year) if not book.is_working_day(d)
    )
    print(f"in memory, {sites} sites, {year}: {total} occurrences")
    print(f"  plan rules        {ours_s * 1000:8.1f} ms  ({total / ours_s:,.0f} occurrences/s)")
    print(f"  day by day        {naive_s * 1000:8.1f} ms  ({total / naive_s:,.0f} occurrences/s)")
    print(f"  plan rules / day by day: {naive_s / ours_s:.1f}x faster")
    print(f"  sites whose weeks differ between the two: {mismatched}")
    print(f"  a calendar-blind generator would put {closed} on non-working days")


def in_database(sites: int, year: int, base_url: str) -> None:
    from harness import BenchDatabase
    from sqlalchemy import func, select

    from itsm import migrate
    from itsm.areas import import_models, import_registrations
    from itsm.db import Database
    from itsm.directory.models import Contract
    from itsm.inspections.models import Inspection, InspectionPlan
    from itsm.inspections.services import inspections

    import_models()
    import_registrations()
    bench = BenchDatabase(base_url)
    bench.create()
    try:
        migrate.upgrade(bench.url)
        database = Database(bench.url)
        now = datetime(year, 1, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        with database.transaction() as session:
            contracts = [
                Contract(
                    code=f"S{site:05d}",
                    name=f"站点{site}",
                    customer="基准客户",
                    service_hours="5×8",
                    calendar="cn-5x8",
                )
                for site in range(sites)
            ]
            session.add_all(contracts)
            session.flush()
            session.add_all(
                InspectionPlan(
                    contract_id=c.id, version=1, document=site_plan(site), published_at=now
                )
                for site, c in enumerate(contracts)
            )
        through = date(year, 12, 31)
        start = time.perf_counter()
        with database.transaction() as session:
            for contract in session.scalars(select(Contract).order_by(Contract.id)):
                inspections.generate(session, contract, through, now)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        with database.transaction() as session:
            again = sum(
                inspections.generate(session, c, through, now).created
                for c in session.scalars(select(Contract).order_by(Contract.id))
            )
        second_s = time.perf_counter() - start
        with database.sessions() as session:
            rows = session.scalar(select(func.count()).select_from(Inspection)) or 0
        database.dispose()
        assert again == 0, "generating again made occurrences"
        print(f"PostgreSQL, {sites} sites, {year}: {rows} inspections with their deadlines")
        print(f"  first generation  {first_s:8.2f} s  ({rows / first_s:,.0f} inspections/s)")
        print(f"  generating again  {second_s:8.2f} s  (made {again})")
    finally:
        bench.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--no-database", action="store_true")
    args = parser.parse_args()
    in_memory(args.sites, args.year, args.repeat)
    if not args.no_database:
        in_database(args.sites, args.year, args.database_url)


if __name__ == "__main__":
    main()
