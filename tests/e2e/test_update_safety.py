"""No lost update and no doubled ticket: ETag/If-Match and Idempotency-Key."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itsm.db import Database
from itsm.tickets.models import Ticket
from tests.factories import World


def _count(db: Database, world: World) -> int:
    with db.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.contract_id == world.contract_id)
            )
            or 0
        )


def test_same_idempotency_key_and_body_give_the_same_ticket_once(
    client: FlaskClient, world: World, db: Database
) -> None:
    headers = world.headers("agent", **{"Idempotency-Key": "call-2025-10-01-0001"})
    first = client.post("/api/v1/tickets", json=world.ticket_body(), headers=headers)
    again = client.post("/api/v1/tickets", json=world.ticket_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["number"] == first.get_json()["number"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(db, world) == 1


def test_same_idempotency_key_with_another_body_is_refused(
    client: FlaskClient, world: World, db: Database
) -> None:
    headers = world.headers("agent", **{"Idempotency-Key": "k-1"})
    client.post("/api/v1/tickets", json=world.ticket_body(), headers=headers)
    other = client.post(
        "/api/v1/tickets", json=world.ticket_body(title="另一个问题"), headers=headers
    )
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"
    assert _count(db, world) == 1


def test_idempotency_keys_belong_to_their_user(
    client: FlaskClient, world: World, db: Database
) -> None:
    for who in ("agent", "manager"):
        response = client.post(
            "/api/v1/tickets",
            json=world.ticket_body(),
            headers=world.headers(who, **{"Idempotency-Key": "shared"}),
        )
        assert response.status_code == 201
    assert _count(db, world) == 2


def test_concurrent_retries_with_one_key_create_one_ticket(
    app: Flask, world: World, db: Database
) -> None:
    headers = world.headers("agent", **{"Idempotency-Key": "retry-storm"})

    def post(_: int) -> tuple[int, int]:
        response = app.test_client().post(
            "/api/v1/tickets", json=world.ticket_body(), headers=headers
        )
        return response.status_code, response.get_json()["id"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(post, range(12)))
    assert {status for status, _ in results} == {201}
    assert len({ticket_id for _, ticket_id in results}) == 1
    assert _count(db, world) == 1


def test_patch_without_if_match_is_428_and_changes_nothing(
    client: FlaskClient, world: World
) -> None:
    ticket = world.open_ticket(client)
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"priority": "P1"}, headers=world.headers("agent")
    )
    assert response.status_code == 428
    assert "If-Match" in response.get_json()["message"]
    after = client.get(f"/api/v1/tickets/{ticket['id']}", headers=world.headers("agent")).get_json()
    assert (after["priority"], after["version"]) == ("P2", ticket["version"])


def test_stale_if_match_is_412_and_the_later_update_is_not_lost(
    client: FlaskClient, world: World
) -> None:
    ticket = world.open_ticket(client)
    url = f"/api/v1/tickets/{ticket['id']}"
    etag = client.get(url, headers=world.headers("agent")).headers["ETag"]
    first = client.patch(
        url, json={"priority": "P1"}, headers=world.headers("agent", **{"If-Match": etag})
    )
    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    second = client.patch(
        url, json={"title": "覆盖"}, headers=world.headers("manager", **{"If-Match": etag})
    )
    assert second.status_code == 412
    assert second.headers["ETag"] == first.headers["ETag"]
    after = client.get(url, headers=world.headers("agent")).get_json()
    assert after["priority"] == "P1" and after["title"] == ticket["title"]


def test_transition_needs_if_match_too(client: FlaskClient, world: World) -> None:
    ticket = world.open_ticket(client)
    url = f"/api/v1/tickets/{ticket['id']}/transitions"
    missing = client.post(url, json={"trigger": "acknowledge"}, headers=world.headers("agent"))
    assert missing.status_code == 428
    stale = client.post(
        url,
        json={"trigger": "acknowledge"},
        headers=world.headers("agent", **{"If-Match": f'"{ticket["id"]}-{ticket["version"] + 5}"'}),
    )
    assert stale.status_code == 412
    state = client.get(f"/api/v1/tickets/{ticket['id']}", headers=world.headers("agent")).get_json()
    assert state["state"] == "new"


def test_two_engineers_taking_one_ticket_at_once_one_wins(app: Flask, world: World) -> None:
    client = app.test_client()
    ticket = world.open_ticket(client)
    url = f"/api/v1/tickets/{ticket['id']}/transitions"
    etag = client.get(f"/api/v1/tickets/{ticket['id']}", headers=world.headers("agent")).headers[
        "ETag"
    ]

    def take(who: str) -> int:
        return (
            app.test_client()
            .post(
                url,
                json={"trigger": "acknowledge"},
                headers=world.headers(who, **{"If-Match": etag}),
            )
            .status_code
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(take, ["engineer", "engineer2"]))
    assert statuses == [200, 412]
    events = client.get(f"/api/v1/tickets/{ticket['id']}/events", headers=world.headers("agent"))
    assert [e["trigger"] for e in events.get_json()].count("acknowledge") == 1


def test_invalid_trigger_is_409_with_the_triggers_allowed_now(
    client: FlaskClient, world: World
) -> None:
    ticket = world.open_ticket(client)
    response = world.fire(client, ticket["id"], "resolve", note="x")
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "transition_refused"
    assert body["allowed"] == ["acknowledge", "start_remote", "cancel"]
    assert "resolve" in body["message"]


def test_resolve_without_a_note_is_refused_and_says_why(client: FlaskClient, world: World) -> None:
    ticket = world.open_ticket(client)
    world.fire(client, ticket["id"], "start_remote", who="engineer")
    response = world.fire(client, ticket["id"], "resolve", who="engineer")
    assert response.status_code == 409
    assert "resolution note is required" in response.get_json()["message"]


def test_wait_for_customer_and_back_to_where_work_stopped(
    client: FlaskClient, world: World
) -> None:
    ticket = world.open_ticket(client)
    tid = ticket["id"]
    world.fire(client, tid, "dispatch", assignee_id=world.users["engineer"])
    world.fire(client, tid, "arrive", who="engineer")
    waiting = world.fire(client, tid, "wait_customer", who="engineer", note="等待医院停机窗口")
    assert waiting.get_json()["state"] == "waiting_customer"
    resumed = world.fire(client, tid, "resume", who="engineer")
    assert resumed.get_json()["state"] == "on_site"


def test_reopen_and_cancel(client: FlaskClient, world: World) -> None:
    ticket = world.open_ticket(client)
    tid = ticket["id"]
    world.fire(client, tid, "start_remote", who="engineer")
    world.fire(client, tid, "resolve", who="engineer", note="重启服务")
    reopened = world.fire(client, tid, "reopen", who="requester", note="问题又出现了")
    assert (reopened.get_json()["state"], reopened.get_json()["reopen_count"]) == ("in_progress", 1)
    other = world.open_ticket(client)
    cancelled = world.fire(client, other["id"], "cancel", who="requester", note="误报")
    assert cancelled.get_json()["state"] == "cancelled"
    assert world.fire(client, other["id"], "acknowledge").status_code == 409


def test_an_engineer_who_takes_a_ticket_owns_it(client: FlaskClient, world: World) -> None:
    ticket = world.open_ticket(client)
    taken = world.fire(client, ticket["id"], "acknowledge", who="engineer")
    assert taken.get_json()["assignee"]["id"] == world.users["engineer"]
