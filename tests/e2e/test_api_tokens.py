"""API tokens: listed, created (with an optional expiry) and revoked by their owner or an admin,
through the API and the pages; a revoked, expired or deactivated user's token is refused at
once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from itsm.accounts.models import User
from itsm.accounts.pages import TOKENS_SHOWN
from itsm.accounts.services import tokens, users
from itsm.db import Database
from tests.factories import World
from tests.pages import form_of, sign_in, username

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _works(client: FlaskClient, token: str) -> bool:
    status = client.get("/api/v1/users/me", headers=_bearer(token)).status_code
    assert status in (200, 401)
    return status == 200


def test_a_user_creates_lists_and_revokes_their_own_tokens(
    client: FlaskClient, world: World
) -> None:
    created = client.post(
        "/api/v1/tokens", json={"name": "监控脚本"}, headers=world.headers("agent")
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["name"] == "监控脚本" and body["expires_at"] is None
    assert body["user"]["id"] == world.users["agent"] and len(body["token"]) >= 40
    secret = body["token"]
    assert _works(client, secret)  # and now remembered by this process

    listed = client.get("/api/v1/tokens", headers=world.headers("agent")).get_json()
    assert listed["total"] == 2  # the world's token and the new one, newest first
    assert [t["id"] for t in listed["items"]][0] == body["id"]
    assert all("token" not in t and "token_hash" not in t for t in listed["items"])

    revoked = client.delete(f"/api/v1/tokens/{body['id']}", headers=world.headers("agent"))
    assert revoked.status_code == 204
    assert not _works(client, secret)  # at once, though it was remembered
    again = client.delete(f"/api/v1/tokens/{body['id']}", headers=world.headers("agent"))
    assert again.status_code == 204
    listed = client.get("/api/v1/tokens", headers=world.headers("agent")).get_json()
    assert listed["items"][0]["revoked_at"] is not None
    assert _works(client, world.tokens["agent"])


def _token_id(client: FlaskClient, world: World, who: str) -> int:
    listed = client.get("/api/v1/tokens", headers=world.headers(who)).get_json()
    return int(listed["items"][0]["id"])


def test_only_the_owner_or_an_admin_sees_and_revokes_a_token(
    client: FlaskClient, world: World
) -> None:
    agent_id, agent_token = world.users["agent"], world.tokens["agent"]
    token_id = _token_id(client, world, "agent")
    nosy = client.get(f"/api/v1/tokens?user_id={agent_id}", headers=world.headers("manager"))
    assert nosy.status_code == 403
    admin_view = client.get(f"/api/v1/tokens?user_id={agent_id}", headers=world.headers("admin"))
    assert admin_view.status_code == 200
    assert [t["id"] for t in admin_view.get_json()["items"]] == [token_id]
    own_view = client.get(f"/api/v1/tokens?user_id={agent_id}", headers=world.headers("agent"))
    assert own_view.status_code == 200

    refused = client.delete(f"/api/v1/tokens/{token_id}", headers=world.headers("manager"))
    assert refused.status_code == 404  # nobody learns which ids are someone else's tokens
    assert _works(client, agent_token)
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=world.headers("admin")).status_code
    assert not _works(client, agent_token)

    nobody = client.get("/api/v1/tokens?user_id=2147483647", headers=world.headers("admin"))
    assert nobody.status_code == 404
    missing = client.delete("/api/v1/tokens/2147483647", headers=world.headers("admin"))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("user_id=abc", None),
        ("user_id=0", None),
        ("user_id=99999999999", None),
        (None, {"expires_at": "soon"}),
        (None, {"expires_at": "2026-03-02T09:00:00"}),  # no offset
        (None, {"expires_at": "2026-03-02T07:59:59Z"}),  # already past
        (None, {"name": "x" * 101}),
        (None, {"name": "bad\x00name"}),
        (None, {"user_id": 1}),
    ],
)
def test_bad_token_requests_are_refused_with_422(
    client: FlaskClient, world: World, travel: Any, query: str | None, body: dict[str, Any]
) -> None:
    travel(NOW)
    if query is not None:
        response = client.get(f"/api/v1/tokens?{query}", headers=world.headers("admin"))
    else:
        response = client.post("/api/v1/tokens", json=body, headers=world.headers("agent"))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "invalid_input"


def test_a_token_stops_working_when_it_expires(
    client: FlaskClient, world: World, travel: Any
) -> None:
    travel(NOW)
    created = client.post(
        "/api/v1/tokens",
        json={"name": "巡检脚本", "expires_at": "2026-03-02T17:00:00+08:00"},
        headers=world.headers("agent"),
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["expires_at"].startswith("2026-03-02T09:00:00")
    secret = created.get_json()["token"]
    assert _works(client, secret)
    travel(NOW + timedelta(minutes=59, seconds=59))
    assert _works(client, secret)
    travel(NOW + timedelta(hours=1))
    assert not _works(client, secret)  # on time, though this process remembered it


def test_a_token_used_while_its_revocation_commits_is_refused_after_the_commit(
    client: FlaskClient, db: Database, world: World
) -> None:
    """Another request may read the token, still valid, between the revocation and its commit,
    and remember it: the commit makes this process forget it again."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the other request waits for the revocation's commit")
    secret = world.tokens["agent"]
    with db.sessions() as session:
        tokens.revoke(session, tokens.find(session, _token_id(client, world, "agent")), NOW)
        assert _works(client, secret)  # the revocation is not committed yet
        session.commit()
    assert not _works(client, secret)


def test_a_deactivated_users_tokens_are_refused_at_once(
    client: FlaskClient, db: Database, world: World
) -> None:
    token = world.tokens["engineer"]
    assert _works(client, token)
    with db.transaction() as session:
        users.set_active(session, username(world, "engineer"), False)
    assert not _works(client, token)
    with db.transaction() as session:
        users.set_active(session, username(world, "engineer"), True)
    assert _works(client, token)


def _revoke_button(html: str, token_id: int) -> tuple[str, dict[str, str]]:
    form_id = f"revoke-{token_id}"
    action = re.search(rf'<form[^>]*action="([^"]+)"[^>]*id="{form_id}"', html)
    assert action, html
    return action.group(1), form_of(html, form_id)


def test_the_tokens_page_shows_ones_own_tokens_and_revokes_them(
    client: FlaskClient, db: Database, world: World
) -> None:
    api = client.application.test_client()
    second = api.post("/api/v1/tokens", json={"name": "值班大屏"}, headers=world.headers("agent"))
    token_id, secret = second.get_json()["id"], second.get_json()["token"]
    assert _works(api, secret)
    sign_in(client, db, world, "agent")
    page = client.get("/account/tokens")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>API 令牌" in html and "值班大屏" in html and "吊销" in html
    assert 'href="/account/tokens"' in html  # in the navigation
    action, form = _revoke_button(html, token_id)
    response = client.post(action, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/account/tokens"
    assert not _works(api, secret)
    assert _works(api, world.tokens["agent"])
    html = client.get("/account/tokens").get_data(as_text=True)
    assert "已吊销：使用它的程序从现在起将被拒绝" in html and f'id="revoke-{token_id}"' not in html
    resent = client.post(action, data=form)  # a double tap: done once, the first outcome shown
    assert resent.status_code == 302
    assert "此表单已提交过" in client.get("/account/tokens").get_data(as_text=True)


def test_only_an_admin_sees_and_revokes_someone_elses_tokens_in_the_pages(
    client: FlaskClient, db: Database, world: World
) -> None:
    agent_name = username(world, "agent")
    manager = client.application.test_client()
    sign_in(manager, db, world, "manager")
    assert manager.get(f"/account/tokens?user={agent_name}").status_code == 403
    token_id = _token_id(client, world, "agent")
    html = manager.get("/account/tokens").get_data(as_text=True)
    assert f'id="revoke-{token_id}"' not in html
    forged = manager.post(
        f"/account/tokens/{token_id}/revoke",
        data=_revoke_button(html, _token_id(client, world, "manager"))[1],
    )
    assert forged.status_code == 404
    assert _works(client, world.tokens["agent"])

    sign_in(client, db, world, "admin")
    assert client.get("/account/tokens?user=nobody-at-all").status_code == 404
    assert client.get("/account/tokens?user=bad%00name").status_code == 404
    html = client.get(f"/account/tokens?user={agent_name}").get_data(as_text=True)
    assert agent_name in html
    action, form = _revoke_button(html, token_id)
    response = client.post(action, data=form)
    assert response.headers["Location"] == f"/account/tokens?user={agent_name}"
    assert not _works(client, world.tokens["agent"])


def test_the_tokens_page_says_when_it_shows_only_the_newest(
    client: FlaskClient, db: Database, world: World
) -> None:
    with db.transaction() as session:
        requester = session.get_one(User, world.users["requester"])
        for n in range(TOKENS_SHOWN):
            tokens.issue(session, requester, f"脚本 {n}", None, NOW)
    sign_in(client, db, world, "requester")
    html = client.get("/account/tokens").get_data(as_text=True)
    assert html.count('class="card mb-2 token-card"') == TOKENS_SHOWN
    assert f"最新 {TOKENS_SHOWN} 个，共 {TOKENS_SHOWN + 1} 个" in html
