"""Where the pages send someone after switching language or signing in: only a path on this
site, never another site, and never a 500 for a `next` that a header cannot carry."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from flask.testing import FlaskClient

from itsm.db import Database
from tests.factories import World
from tests.pages import PASSWORD, field, give_password, sign_in

HOSTILE = {
    "tab after the slash": "/\t/evil.example",
    "tab first": "\t/evil.example",
    "CR LF": "/\r\nSet-Cookie: session=stolen",
    "LF": "/hotline\n",
    "NUL": "/\x00evil.example",
    "DEL": "/\x7f/evil.example",
    "two slashes": "//evil.example",
    "three slashes": "///evil.example",
    "slash backslash": "/\\evil.example",
    "backslash slash": "\\/evil.example",
    "two backslashes": "\\\\evil.example",
    "a backslash later": "/hotline\\..\\evil",
    "https URL": "https://evil.example/",
    "scheme without slashes": "http:evil.example",
    "javascript": "javascript:alert(1)",
    "no leading slash": "evil.example",
    "leading space": " /evil.example",
    "empty": "",
    "fullwidth solidus": "/\uff0fevil.example",
    "fullwidth solidi first": "\uff0f\uff0fevil.example",
    "ideographic space": "/\u3000/evil.example",
    "zero-width space": "/\u200b/evil.example",
    "line separator": "/\u2028/evil.example",
    "byte order mark": "\ufeff//evil.example",
    "division slash": "/\u2215evil.example",
    "longer than 2048 characters": "/" + "x" * 2048,
}
# `/%2F/evil.example` and `/%09/evil.example` in the query string arrive decoded.
RAW = {
    "%2F decoded": "/%2F/evil.example",
    "%09 decoded": "/%09/evil.example",
    "%0D%0A decoded": "/%0D%0ALocation:%20https://evil.example",
    "%5C decoded": "/%5Cevil.example",
}
GOOD = ["/hotline", "/tickets/7?x=1", "/hotline?q=%E5%8C%97%E4%BA%AC", "/my"]


def _query(value: str) -> str:
    return quote(value, safe="")


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_language_switch_never_leaves_the_site(client: FlaskClient, value: str) -> None:
    response = client.get(f"/lang/en?next={_query(value)}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin"


@pytest.mark.parametrize("raw", RAW.values(), ids=RAW.keys())
def test_the_language_switch_refuses_what_arrives_decoded(client: FlaskClient, raw: str) -> None:
    response = client.get(f"/lang/en?next={raw}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin"


@pytest.mark.parametrize("value", GOOD)
def test_the_language_switch_goes_back_to_the_page(client: FlaskClient, value: str) -> None:
    response = client.get(f"/lang/en?next={_query(value)}")
    assert response.headers["Location"] == value


def test_a_signed_in_user_goes_home_instead(
    client: FlaskClient, db: Database, world: World
) -> None:
    sign_in(client, db, world, "agent")
    for value in [*HOSTILE.values()]:
        response = client.get(f"/lang/zh_CN?next={_query(value)}")
        assert response.headers["Location"] == "/hotline", value
        response = client.get(f"/signin?next={_query(value)}")
        assert response.headers["Location"] == "/hotline", value
    for raw in RAW.values():
        assert client.get(f"/signin?next={raw}").headers["Location"] == "/hotline", raw


@pytest.mark.parametrize("value", [*HOSTILE.values(), *map(unquote, RAW.values())])
def test_signing_in_never_leaves_the_site(
    client: FlaskClient, db: Database, world: World, value: str
) -> None:
    name = give_password(db, world, "agent")
    page = client.get(f"/signin?next={_query(value)}").get_data(as_text=True)
    assert field(page, "next") == ""  # a hostile next is not even carried in the form
    response = client.post(
        "/signin",
        data={
            "username": name,
            "password": PASSWORD,
            "csrf_token": field(page, "csrf_token"),
            "next": value,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/hotline"


def test_signing_in_goes_on_to_the_page_asked_for(
    client: FlaskClient, db: Database, world: World
) -> None:
    name = give_password(db, world, "agent")
    response = client.get("/tickets/7")
    assert response.headers["Location"] == "/signin?next=/tickets/7"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert field(page, "next") == "/tickets/7"
    response = client.post(
        "/signin",
        data={
            "username": name,
            "password": PASSWORD,
            "csrf_token": field(page, "csrf_token"),
            "next": "/tickets/7",
        },
    )
    assert response.headers["Location"] == "/tickets/7"
