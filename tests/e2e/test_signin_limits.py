"""Failed sign-ins: counted per client behind a trusted proxy, and counted exactly when many
arrive at once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from itsm.db import Database
from tests.factories import World
from tests.pages import PASSWORD, field, give_password


def _try(client: FlaskClient, name: str, password: str, **headers: str) -> int:
    """Send the sign-in form; the answer's status (302 in, 401 wrong, 429 locked)."""
    token = field(client.get("/signin").get_data(as_text=True), "csrf_token")
    data = {"username": name, "password": password, "csrf_token": token}
    return client.post("/signin", data=data, headers=headers).status_code


def _from(app: Flask, address: str) -> FlaskClient:
    """A browser whose connections come from `address` (the proxy's, behind one)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_behind_a_trusted_proxy_failures_count_per_client_not_for_everyone(
    app_with: Any, db: Database, world: World, trusted_proxies: int
) -> None:
    """The proxy connects from one address; trusted, the client's comes from X-Forwarded-For.
    Not trusted, the header is ignored: anyone could otherwise write it."""
    app = app_with(trusted_proxies=trusted_proxies, signin_max_failures=1)
    proxy = f"192.0.2.{10 + trusted_proxies}"

    def via_proxy(client_address: str, name: str, password: str) -> int:
        return _try(_from(app, proxy), name, password, **{"X-Forwarded-For": client_address})

    for attempt in range(4):  # an address may fail 4 × as often as an account
        assert via_proxy("203.0.113.9", f"nobody-{world.contract_code}-{attempt}", "?") == 401
    name = give_password(db, world, "agent")
    assert via_proxy("198.51.100.20", name, PASSWORD) == (302 if trusted_proxies else 429)
    assert via_proxy("203.0.113.9", name, PASSWORD) == 429


def test_parallel_wrong_guesses_check_no_more_passwords_than_allowed(
    app: Flask, db: Database, world: World
) -> None:
    """40 wrong guesses at once: each is counted before the next is decided, so only
    ITSM_SIGNIN_MAX_FAILURES passwords are checked (401); the others are refused unchecked
    (429), and so is every later attempt, even with the right password."""
    settings = app.config["ITSM_SETTINGS"]
    name = give_password(db, world, "engineer")
    clients = [_from(app, f"192.0.2.{100 + i}") for i in range(40)]
    tokens = [field(c.get("/signin").get_data(as_text=True), "csrf_token") for c in clients]
    start = threading.Barrier(len(clients))
    statuses: Counter[int] = Counter()

    def guess(client: FlaskClient, token: str) -> None:
        data = {"username": name, "password": "wrong-guess", "csrf_token": token}
        start.wait()
        statuses[client.post("/signin", data=data).status_code] += 1

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(statuses.values()) == 40, statuses
    assert statuses == {401: settings.signin_max_failures, 429: 40 - settings.signin_max_failures}
    assert _try(_from(app, "192.0.2.99"), name, PASSWORD) == 429
