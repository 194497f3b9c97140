"""A ticket from call to close over the API, every step recorded."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.factories import World


def test_call_to_close_records_every_step(client: FlaskClient, world: World) -> None:
    ticket = world.open_ticket(client, onsite_required=True)
    assert ticket["number"].startswith("INC-20")
    assert ticket["state"] == "new"
    tid = ticket["id"]
    engineer = world.users["engineer"]
    assert world.fire(client, tid, "acknowledge").status_code == 200
    response = world.fire(client, tid, "dispatch", assignee_id=engineer)
    assert response.status_code == 200, response.get_json()
    assert world.fire(client, tid, "depart", who="engineer").status_code == 200
    arrived = world.fire(
        client,
        tid,
        "arrive",
        who="engineer",
        position={"latitude": 39.912, "longitude": 116.4, "accuracy_m": 15},
    )
    assert arrived.get_json()["state"] == "on_site"
    assert world.fire(client, tid, "restore", who="engineer").status_code == 200
    resolved = world.fire(client, tid, "resolve", who="engineer", note="更换打印机驱动")
    assert resolved.get_json()["resolution"] == "更换打印机驱动"
    closed = world.fire(client, tid, "close", who="requester")
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["state"] == "closed"

    events = client.get(f"/api/v1/tickets/{tid}/events", headers=world.headers("manager"))
    steps = [(e["trigger"], e["from_state"], e["to_state"]) for e in events.get_json()]
    assert steps == [
        (None, None, "new"),
        ("acknowledge", "new", "acknowledged"),
        ("dispatch", "acknowledged", "dispatched"),
        ("depart", "dispatched", "en_route"),
        ("arrive", "en_route", "on_site"),
        ("restore", "on_site", "restored"),
        ("resolve", "restored", "resolved"),
        ("close", "resolved", "closed"),
    ]
    arrival = events.get_json()[4]
    assert arrival["data"]["position"]["latitude"] == 39.912
    assert arrival["data"]["distance_m"] == 222  # 0.002° of latitude from the institution
    assert arrival["actor"]["id"] == engineer


def test_the_answer_to_a_new_ticket_shows_its_instants_as_a_read_does(
    client: FlaskClient, world: World
) -> None:
    ticket = world.open_ticket(client, "admin", reported_at="2025-10-09T10:00:00+08:00")
    read = client.get(f"/api/v1/tickets/{ticket['id']}", headers=world.headers("agent"))
    assert ticket["reported_at"] == read.get_json()["reported_at"] == "2025-10-09T02:00:00+00:00"
