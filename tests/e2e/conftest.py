"""Fixtures the inspection report tests over the API and over the pages share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from itsm.db import Database
from tests.e2e.test_inspections_api import generate, publish, step
from tests.factories import World
from tests.integration.notify_env import worker_runtime

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
PLAN: dict[str, Any] = {
    "obligations": [
        {
            "kind": "device",
            "title": "设备巡检",
            "clause": "C1-10 每年不少于 52 次设备巡检",
            "required": 52,
            "recurrence": {"every": "week", "weekday": "wed"},
            "mode": "remote",
            "checklist": [
                {"key": "hosts", "label": "主机运行状态", "type": "check"},
                {"key": "cpu", "label": "CPU 使用率", "type": "number", "unit": "%", "max": 80},
                {"key": "findings", "label": "发现与建议", "type": "text", "required": False},
            ],
        }
    ],
}


@pytest.fixture
def worker(app: Flask, database_url: str) -> Iterator[None]:
    """Job functions run in this process as a worker would: same database, same instance
    folder as the app, no queue."""
    instance = app.config["ITSM_SETTINGS"].instance_path
    env = {
        "ITSM_DATABASE_URL": database_url,
        "ITSM_INSTANCE_PATH": str(instance),
        "ITSM_REDIS_URL": "",
    }
    with worker_runtime(env):
        yield


@pytest.fixture
def done(client: FlaskClient, db: Database, world: World, travel: Any) -> int:
    """The world's device inspection of 4 March 2026, a fault found and its ticket opened,
    submitted; its id."""
    publish(client, world, PLAN)
    travel(MONDAY)
    generate(db, world, MONDAY, date(2026, 3, 8))
    listed = client.get(
        f"/api/v1/inspections?contract={world.contract_code}", headers=world.headers("manager")
    ).get_json()
    inspection_id: int = listed["items"][0]["id"]
    engineer = world.users["engineer"]
    assert (
        step(client, world, inspection_id, "manager", "assign", assignee_id=engineer).status_code
        == 200
    )
    travel(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI))
    assert step(client, world, inspection_id, "engineer", "start").status_code == 200
    etag = client.get(
        f"/api/v1/inspections/{inspection_id}", headers=world.headers("engineer")
    ).headers["ETag"]
    answered = client.put(
        f"/api/v1/inspections/{inspection_id}/checklist",
        json={"answers": {"hosts": "ok", "cpu": 95, "findings": "CPU 偏高，建议扩容。"}},
        headers=world.headers("engineer", **{"If-Match": etag}),
    )
    assert answered.status_code == 200, answered.get_json()
    ticket = client.post(
        f"/api/v1/inspections/{inspection_id}/tickets",
        json={"item_key": "cpu", "institution_id": world.institution_id},
        headers=world.headers("engineer"),
    )
    assert ticket.status_code == 201, ticket.get_json()
    assert step(client, world, inspection_id, "engineer", "submit").status_code == 200
    return inspection_id
