"""Helpers for page tests: sign in as a world's person, read form fields out of a page."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from itsm.accounts.services import users
from itsm.db import Database
from tests.factories import World

PASSWORD = "page-test-password"


def username(world: World, who: str) -> str:
    return f"{who}-{world.contract_code}".lower()


def give_password(db: Database, world: World, who: str) -> str:
    with db.transaction() as session:
        users.set_password(session, username(world, who), PASSWORD)
    return username(world, who)


def field(html: str, name: str) -> str:
    """The value of the first hidden input called `name` in the page."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no field {name} in the page"
    return match.group(1)


def sign_in(client: FlaskClient, db: Database, world: World, who: str) -> FlaskClient:
    name = give_password(db, world, who)
    page = client.get("/signin").get_data(as_text=True)
    response = client.post(
        "/signin",
        data={"username": name, "password": PASSWORD, "csrf_token": field(page, "csrf_token")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def form_of(html: str, form_id: str) -> dict[str, str]:
    """The hidden fields of the form with this id."""
    match = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert match, f"no form {form_id} in the page"
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', match.group(0)))


def post_form(
    client: FlaskClient, path: str, form_id: str, **data: Any
) -> tuple[TestResponse, dict[str, Any]]:
    """Read the page at `path`, then send its form `form_id` with `data` added."""
    html = client.get(path).get_data(as_text=True)
    body: dict[str, Any] = {**form_of(html, form_id), **data}
    action = re.search(rf'<form[^>]*action="([^"]+)"[^>]*id="{form_id}"', html)
    assert action, f"form {form_id} has no action"
    return client.post(action.group(1), data=body), body
