"""Page sessions: the cookie's attributes, how long a session lasts, and what ends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from itsm.accounts.services import users
from itsm.db import Database
from tests.factories import World
from tests.pages import PASSWORD, field, give_password, username

SIGNED_IN_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _sign_in(client: FlaskClient, db: Database, world: World, who: str) -> Any:
    name = give_password(db, world, who)
    page = client.get("/signin").get_data(as_text=True)
    response = client.post(
        "/signin",
        data={"username": name, "password": PASSWORD, "csrf_token": field(page, "csrf_token")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _copy(client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of this one's session cookie (no expiry of its own)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = client.application.test_client()
    other.set_cookie("session", cookie.value)
    return other


def _signed_in(client: FlaskClient) -> bool:
    response = client.get("/hotline")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def test_the_session_cookie_is_lax_http_only_and_lasts_twelve_hours_idle(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    travel(SIGNED_IN_AT)
    cookie = _session_cookie(_sign_in(client, db, world, "agent"))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    assert "Secure" not in cookie  # the test app has no https public URL
    assert "Expires=Mon, 02 Mar 2026 20:00:00 GMT" in cookie
    travel(SIGNED_IN_AT + timedelta(hours=5))
    renewed = _session_cookie(client.get("/hotline"))
    assert "Expires=Tue, 03 Mar 2026 01:00:00 GMT" in renewed


@pytest.mark.parametrize(
    ("settings", "secure"),
    [
        ({}, False),
        ({"public_url": "https://itsm.example.cn"}, True),
        ({"public_url": "https://itsm.example.cn", "secure_cookies": "false"}, False),
        ({"public_url": "http://10.0.0.5:8000", "secure_cookies": "true"}, True),
    ],
)
def test_the_session_cookie_is_secure_when_the_service_is_reached_over_https(
    app_with: Any, settings: dict[str, str], secure: bool
) -> None:
    client = app_with(**settings).test_client()
    cookie = _session_cookie(client.get("/lang/en", base_url="https://localhost"))
    assert ("; Secure" in cookie) is secure
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_a_session_unused_for_twelve_hours_no_longer_signs_in(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    travel(SIGNED_IN_AT)
    _sign_in(client, db, world, "agent")
    left_alone = _copy(client)
    travel(SIGNED_IN_AT + timedelta(hours=11))
    assert _signed_in(client)  # used: its cookie is renewed for 12 more hours
    travel(SIGNED_IN_AT + timedelta(hours=12, seconds=1))
    assert not _signed_in(left_alone)
    assert _signed_in(client)


def test_a_session_ends_seven_days_after_sign_in_however_busy(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    travel(SIGNED_IN_AT)
    _sign_in(client, db, world, "agent")
    for hours in range(11, 7 * 24, 11):
        travel(SIGNED_IN_AT + timedelta(hours=hours))
        assert _signed_in(client), hours
    travel(SIGNED_IN_AT + timedelta(days=7))
    assert not _signed_in(client)
    _sign_in(client, db, world, "agent")
    assert _signed_in(client)


def test_signing_out_ends_every_copy_of_the_session(
    client: FlaskClient, db: Database, world: World
) -> None:
    _sign_in(client, db, world, "agent")
    stolen = _copy(client)
    assert _signed_in(stolen)
    html = client.get("/hotline").get_data(as_text=True)
    response = client.post("/signout", data={"csrf_token": field(html, "csrf_token")})
    assert response.status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(stolen)


def test_a_new_password_ends_every_session(client: FlaskClient, db: Database, world: World) -> None:
    _sign_in(client, db, world, "agent")
    stolen = _copy(client)
    with db.transaction() as session:
        users.set_password(session, username(world, "agent"), "a-brand-new-password")
    assert not _signed_in(client)
    assert not _signed_in(stolen)


def test_deactivation_ends_every_session_for_good(
    client: FlaskClient, db: Database, world: World
) -> None:
    _sign_in(client, db, world, "agent")
    stolen = _copy(client)
    with db.transaction() as session:
        users.set_active(session, username(world, "agent"), False)
    assert not _signed_in(stolen)
    with db.transaction() as session:
        users.set_active(session, username(world, "agent"), True)
    assert not _signed_in(stolen)  # reactivated, the old cookie stays dead
    assert not _signed_in(client)


def test_sign_out_everywhere_is_for_admins_and_the_user_themself(
    client: FlaskClient, db: Database, world: World
) -> None:
    def sign_out_everywhere(who: str, user_id: int) -> Any:
        return client.post(
            f"/api/v1/users/{user_id}/sign-out-everywhere", headers=world.headers(who)
        )

    browser = client.application.test_client()
    _sign_in(browser, db, world, "agent")
    refused = sign_out_everywhere("manager", world.users["agent"])
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert _signed_in(browser)
    assert sign_out_everywhere("agent", world.users["agent"]).status_code == 204
    assert not _signed_in(browser)
    _sign_in(browser, db, world, "agent")
    response = sign_out_everywhere("admin", world.users["agent"])
    assert response.status_code == 204 and response.get_data() == b""
    assert not _signed_in(browser)
    assert sign_out_everywhere("admin", 2147483647).status_code == 404
    assert (
        client.post(f"/api/v1/users/{world.users['agent']}/sign-out-everywhere").status_code == 401
    )
