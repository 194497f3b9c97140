"""The inspections API over HTTP: a plan published with If-Match, its occurrences worked from
assignment to acceptance, a fault's ticket, photos, the ledger, and who may see what."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from itsm import clock
from itsm.db import Database
from itsm.directory.models import Contract
from itsm.inspections.services import inspections
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

PLAN: dict[str, Any] = {
    "description": "测试巡检计划",
    "obligations": [
        {
            "kind": "device",
            "title": "设备巡检",
            "clause": "测试条款",
            "required": 52,
            "recurrence": {"every": "week", "weekday": "wed"},
            "mode": "on_site",
            "checklist": [
                {"key": "hosts", "label": "主机运行状态", "type": "check"},
                {"key": "cpu", "label": "CPU 使用率", "type": "number", "unit": "%", "max": 80},
                {"key": "photo", "label": "机房照片", "type": "photo"},
            ],
        }
    ],
}


def publish(client: FlaskClient, world: World, plan: dict[str, Any] = PLAN) -> str:
    """The plan, its on-site inspection at the world's first institution."""
    obligations = [{**o, "site": f"{world.contract_code}-I1"} for o in plan["obligations"]]
    response = client.put(
        f"/api/v1/contracts/{world.contract_code}/inspection-plan",
        json={**plan, "obligations": obligations},
        headers=world.headers("admin", **{"If-Match": "*"}),
    )
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def generate(db: Database, world: World, now: datetime, through: date) -> None:
    with db.transaction() as session:
        contract = session.get_one(Contract, world.contract_id)
        inspections.generate(session, contract, through, now)


def get(client: FlaskClient, world: World, inspection_id: int, who: str) -> tuple[Any, str]:
    response = client.get(f"/api/v1/inspections/{inspection_id}", headers=world.headers(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json(), response.headers["ETag"]


def step(
    client: FlaskClient, world: World, inspection_id: int, who: str, trigger: str, **body: Any
) -> Any:
    _, etag = get(client, world, inspection_id, who)
    return client.post(
        f"/api/v1/inspections/{inspection_id}/transitions",
        json={"trigger": trigger, **body},
        headers=world.headers(who, **{"If-Match": etag}),
    )


def test_a_plan_is_published_only_on_the_version_read_and_a_bad_one_names_its_paths(
    client: FlaskClient, world: World
) -> None:
    url = f"/api/v1/contracts/{world.contract_code}/inspection-plan"
    assert client.get(url, headers=world.headers("manager")).status_code == 404
    assert client.put(url, json=PLAN, headers=world.headers("admin")).status_code == 428
    forbidden = client.put(url, json=PLAN, headers=world.headers("manager", **{"If-Match": "*"}))
    assert forbidden.status_code == 403
    bad = client.put(
        url,
        json={"obligations": [{"kind": "weekly", "required": "many"}]},
        headers=world.headers("admin", **{"If-Match": "*"}),
    )
    assert bad.status_code == 422
    paths = bad.get_json()["errors"]["plan"]
    assert any(p.startswith("$.obligations[0].kind") for p in paths)
    first = publish(client, world)
    current = client.get(url, headers=world.headers("manager"))
    assert current.status_code == 200 and current.headers["ETag"] == first
    assert current.get_json()["version"] == 1
    second = client.put(url, json=PLAN, headers=world.headers("admin", **{"If-Match": first}))
    assert second.status_code == 200 and second.get_json()["version"] == 2
    stale = client.put(url, json=PLAN, headers=world.headers("admin", **{"If-Match": first}))
    assert stale.status_code == 412


def test_an_on_site_inspection_from_assignment_to_acceptance(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    publish(client, world)
    monday = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    travel(monday)
    generate(db, world, monday, date(2026, 3, 8))
    listed = client.get(
        f"/api/v1/inspections?contract={world.contract_code}&state=planned",
        headers=world.headers("manager"),
    ).get_json()
    assert listed["total"] == 1
    found = listed["items"][0]
    assert found["number"].startswith("INS-2026-") and found["kind"] == "device"
    assert found["day"] == "2026-03-04" and found["window_end"] == "2026-03-06"
    assert found["mode"] == "on_site" and found["plan_version"] == 1
    inspection_id = found["id"]
    engineer = world.users["engineer"]
    assert (
        step(client, world, inspection_id, "manager", "assign", assignee_id=engineer).status_code
        == 200
    )
    travel(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI))
    started = step(
        client,
        world,
        inspection_id,
        "engineer",
        "start",
        position={"latitude": 39.91, "longitude": 116.4, "accuracy_m": 20},
    )
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["state"] == "in_progress"
    body, etag = get(client, world, inspection_id, "engineer")
    no_match = client.put(
        f"/api/v1/inspections/{inspection_id}/checklist",
        json={"answers": {"hosts": "ok"}},
        headers=world.headers("engineer"),
    )
    assert no_match.status_code == 428
    answered = client.put(
        f"/api/v1/inspections/{inspection_id}/checklist",
        json={"answers": {"hosts": "ok", "cpu": 95}},
        headers=world.headers("engineer", **{"If-Match": etag}),
    )
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["faults"] == ["cpu"]
    assert answered.get_json()["missing"] == ["photo"]
    refused = step(client, world, inspection_id, "engineer", "submit")
    assert refused.status_code == 409 and "checklist" in refused.get_json()["message"]
    photo = client.post(
        f"/api/v1/inspections/{inspection_id}/attachments",
        data={"file": (io.BytesIO(PNG), "机房.png"), "item_key": "photo"},
        headers=world.headers("engineer"),
        content_type="multipart/form-data",
    )
    assert photo.status_code == 201, photo.get_json()
    ticket = client.post(
        f"/api/v1/inspections/{inspection_id}/tickets",
        json={"item_key": "cpu", "institution_id": world.institution_id},
        headers=world.headers("engineer"),
    )
    assert ticket.status_code == 201, ticket.get_json()
    submitted = step(client, world, inspection_id, "engineer", "submit")
    assert submitted.status_code == 200, submitted.get_json()
    accepted = step(client, world, inspection_id, "manager", "accept")
    assert accepted.get_json()["state"] == "accepted"
    assert [t["number"] for t in accepted.get_json()["tickets"]] == [ticket.get_json()["number"]]
    ledger = client.get(
        f"/api/v1/contracts/{world.contract_code}/obligations?year=2026",
        headers=world.headers("manager"),
    ).get_json()
    line = ledger["obligations"][0]
    assert line["kind"] == "device" and line["done"] == 1 and line["required"] == 52
    events = client.get(
        f"/api/v1/inspections/{inspection_id}/events", headers=world.headers("manager")
    ).get_json()
    assert [e["trigger"] for e in events if e["kind"] == "transition"] == [
        "assign",
        "start",
        "submit",
        "accept",
    ]
    start = next(e for e in events if e["trigger"] == "start")
    assert start["data"]["location_refused"] is False and "distance_m" in start["data"]


@pytest.mark.parametrize("who", ["requester", "agent"])
def test_inspections_of_another_contract_are_not_found(
    client: FlaskClient, db: Database, world: World, other_world: World, who: str, travel: Any
) -> None:
    publish(client, world)
    monday = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    travel(monday)
    generate(db, world, monday, date(2026, 3, 8))
    own = client.get(
        f"/api/v1/inspections?contract={world.contract_code}", headers=world.headers("agent")
    ).get_json()["items"][0]
    response = client.get(f"/api/v1/inspections/{own['id']}", headers=other_world.headers(who))
    assert response.status_code == 404


def test_an_ad_hoc_inspection_is_asked_for_by_staff_only(client: FlaskClient, world: World) -> None:
    soon = (clock.now() + timedelta(days=30)).isoformat()
    body = {"contract": world.contract_code, "due_at": soon}
    assert (
        client.post("/api/v1/inspections", json=body, headers=world.headers("engineer")).status_code
        == 403
    )
    made = client.post("/api/v1/inspections", json=body, headers=world.headers("manager"))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["kind"] == "ad_hoc" and made.headers["ETag"]
    past = client.post(
        "/api/v1/inspections",
        json={**body, "due_at": "2000-01-05T17:00:00+08:00"},
        headers=world.headers("manager"),
    )
    assert past.status_code == 422
    far = client.post(
        "/api/v1/inspections",
        json={**body, "due_at": "2099-01-05T17:00:00+08:00"},
        headers=world.headers("manager"),
    )
    assert far.status_code == 422 and "366 days" in far.get_json()["message"]
