"""When a call may be said to have started (a ticket's `reported_at`): at most
ITSM_MAX_BACKDATE_HOURS (72) before the ticket is opened, and not ahead of the server's clock
by more than a few minutes (a time within them is taken as now); an admin importing history
may go back as far as they like. Otherwise a call from year 1 opens with every clock breached
and tells everyone at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from itsm import clock
from itsm.app import create_app
from itsm.db import Database
from itsm.tickets.models import Ticket
from tests.e2e.test_bad_input import assert_actionable_error
from tests.factories import World
from tests.pages import post_form, sign_in

TICKETS = "/api/v1/tickets"


def _ago(**delta: float) -> str:
    return (clock.now() - timedelta(**delta)).isoformat()


def _ahead(**delta: float) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()


REFUSED = {
    "73 hours ago": (lambda: _ago(hours=73), "72 hours"),
    "in year 2": (lambda: "0002-01-01T00:00:00+00:00", "72 hours"),
    "a year ago": (lambda: _ago(days=365), "72 hours"),
    "6 minutes ahead": (lambda: _ahead(minutes=6), "future"),
    "in year 9999": (lambda: "9999-12-31T23:59:59+00:00", "future"),
}


@pytest.mark.parametrize(("when", "mention"), REFUSED.values(), ids=REFUSED.keys())
def test_an_agent_cannot_open_a_ticket_far_back_or_ahead(
    client: FlaskClient, world: World, when, mention: str
) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        TICKETS, json=world.ticket_body(reported_at=when()), headers=world.headers("agent")
    )
    assert_actionable_error(response, 422, "invalid_input", mention)
    assert "reported_at" in response.get_json()["errors"]


def test_a_call_of_71_hours_ago_is_taken(client: FlaskClient, world: World) -> None:
    reported = clock.now() - timedelta(hours=71)
    ticket = world.open_ticket(client, reported_at=reported.isoformat())
    assert datetime.fromisoformat(ticket["reported_at"]) == reported


def test_a_call_a_few_minutes_ahead_is_taken_as_now(client: FlaskClient, world: World) -> None:
    """A PC or phone whose clock runs fast is not refused; the call cannot have started after
    the ticket was opened, so it is recorded as starting then."""
    ticket = world.open_ticket(client, reported_at=_ahead(minutes=4))
    assert ticket["reported_at"] == ticket["created_at"]


def test_an_admin_may_import_a_call_of_any_age(client: FlaskClient, world: World) -> None:
    reported = datetime(2016, 3, 1, 9, 30, tzinfo=UTC)
    ticket = world.open_ticket(client, who="admin", reported_at=reported.isoformat())
    assert datetime.fromisoformat(ticket["reported_at"]) == reported
    ahead = client.post(
        TICKETS,
        json=world.ticket_body(reported_at=_ahead(hours=1)),
        headers=world.headers("admin"),
    )
    assert_actionable_error(ahead, 422, "invalid_input", "future")


def test_a_correction_stays_within_the_hours_before_the_ticket_was_opened(
    client: FlaskClient, world: World
) -> None:
    ticket = world.open_ticket(client)
    opened = datetime.fromisoformat(ticket["created_at"])
    url = f"{TICKETS}/{ticket['id']}"

    def patch(who: str, when: datetime) -> object:
        etag = client.get(url, headers=world.headers(who)).headers["ETag"]
        return client.patch(
            url,
            json={"reported_at": when.isoformat()},
            headers=world.headers(who, **{"If-Match": etag}),
        )

    refused = patch("agent", opened - timedelta(hours=73))
    assert_actionable_error(refused, 422, "invalid_input", "72 hours")  # type: ignore[arg-type]
    taken = patch("agent", opened - timedelta(hours=70))
    assert taken.status_code == 200  # type: ignore[attr-defined]
    ahead = patch("agent", clock.now() + timedelta(days=1))
    assert_actionable_error(ahead, 422, "invalid_input", "future")  # type: ignore[arg-type]
    imported = patch("admin", opened - timedelta(days=400))
    assert imported.status_code == 200  # type: ignore[attr-defined]


def _console_time(value: datetime) -> str:
    """The console's datetime-local value (its timezone's wall clock)."""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


PAGE_REFUSED = {
    "four days ago": (lambda: _console_time(clock.now() - timedelta(days=4)), "72"),
    "in year 2": (lambda: "0002-01-01T00:00", "72"),
    "tomorrow": (lambda: _console_time(clock.now() + timedelta(days=1)), "晚于现在"),
}


@pytest.mark.parametrize(("when", "says"), PAGE_REFUSED.values(), ids=PAGE_REFUSED.keys())
def test_the_console_refuses_a_call_far_back_or_ahead_in_chinese(
    client: FlaskClient, db: Database, world: World, when, says: str
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, db, world, "agent")
    response, _ = post_form(
        client,
        "/hotline",
        "call-form",
        institution_id=str(world.institution_id),
        title="四天前的来电",
        reported_at=when(),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    problem = re.search(r'id="form-problem">(.*?)</div>', html, re.S)
    assert problem and "来电时间" in problem.group(1) and says in problem.group(1), html[:300]
    assert 'value="四天前的来电"' in html  # what was typed stays
    with db.sessions() as session:
        assert session.scalar(select(Ticket.id).where(Ticket.title == "四天前的来电")) is None


def test_the_console_takes_a_call_of_two_hours_ago(
    client: FlaskClient, db: Database, world: World
) -> None:
    sign_in(client, db, world, "agent")
    started = (clock.now() - timedelta(hours=2)).replace(second=0, microsecond=0)
    response, _ = post_form(
        client,
        "/hotline",
        "call-form",
        institution_id=str(world.institution_id),
        title="两小时前的来电",
        reported_at=_console_time(started),
    )
    assert response.status_code == 302
    with db.sessions() as session:
        reported = session.scalar(
            select(Ticket.reported_at).where(Ticket.title == "两小时前的来电")
        )
    assert reported == started


@pytest.fixture
def two_hour_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with ITSM_MAX_BACKDATE_HOURS=2, on the run's database."""
    application = create_app(
        instance_path=tmp_path, database_url=database_url, redis_url="", max_backdate_hours=2
    )
    yield application
    application.extensions["itsm.db"].dispose()


def test_the_limit_is_the_setting(two_hour_app: Flask, world: World) -> None:
    client = two_hour_app.test_client()
    refused = client.post(
        TICKETS, json=world.ticket_body(reported_at=_ago(hours=3)), headers=world.headers("agent")
    )
    assert_actionable_error(refused, 422, "invalid_input", "2 hours")
    taken = client.post(
        TICKETS, json=world.ticket_body(reported_at=_ago(hours=1)), headers=world.headers("agent")
    )
    assert taken.status_code == 201, taken.get_json()
