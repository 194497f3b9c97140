"""The shipped policies as the contracts say them, over the API: C1-8's repair counted from
the fault's location, C1-7's remote parts of far suburbs, C1-2's night response, C4-2's limits
per service item; every clock names the clause its target comes from."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from itsm.db import Database
from sla_rules.policy import shipped_policy
from tests.conftest import at
from tests.e2e.test_sla_clocks import clocks, contract_world, due
from tests.factories import World
from tests.pages import post_form, sign_in

MONDAY_9 = "2025-11-17T09:00:00+08:00"  # an ordinary working Monday


def ticket_json(client: FlaskClient, world: World, ticket_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/tickets/{ticket_id}", headers=world.headers("agent"))
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def test_c1_hardware_restore_is_due_eight_business_hours_after_the_fault_is_located(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    """C1-8: reported Mon 09:00, located Mon 11:30: restore due Tue 11:30 on cn-5x8 (Mon
    11:30-17:00 is 5.5 h, then 2.5 h on Tuesday from 09:00); response 1 h and on site 2 h
    still count from the report."""
    world = contract_world(db, client, "C1", institution_kind="hospital")
    travel(MONDAY_9)
    ticket = world.open_ticket(client, category="hardware", priority="P2", onsite_required=True)
    tid = ticket["id"]
    c = clocks(client, world, tid)
    assert due(c["response"]) == at("2025-11-17T10:00:00+08:00")
    assert due(c["arrival"]) == at("2025-11-17T11:00:00+08:00")
    assert "restore" not in c  # nothing counts until the fault is located

    travel("2025-11-17T09:20:00+08:00")
    assert world.fire(client, tid, "dispatch", assignee_id=world.users["engineer"]).status_code
    travel("2025-11-17T10:40:00+08:00")
    assert world.fire(client, tid, "arrive", who="engineer").status_code == 200
    travel("2025-11-17T11:30:00+08:00")
    refused = world.fire(client, tid, "locate", who="engineer")
    assert refused.status_code == 409 and "diagnosis" in refused.get_json()["message"]
    located = world.fire(client, tid, "locate", who="engineer", note="服务器RAID卡故障，需更换")
    assert located.status_code == 200, located.get_json()
    assert located.get_json()["state"] == "on_site"

    restore = clocks(client, world, tid)["restore"]
    assert (restore["rule"], restore["target"], restore["starts"]) == ("hardware", "8bh", "located")
    assert at(restore["started_at"]) == at("2025-11-17T11:30:00+08:00")
    assert due(restore) == at("2025-11-18T11:30:00+08:00")
    assert "在故障定位以后" in restore["rule_description"]
    assert restore["rule_description"].startswith("C1-8")
    assert restore["timeline"][0]["cause"].startswith("fault located; rule hardware")
    shown = ticket_json(client, world, tid)
    assert shown["diagnosis"] == "服务器RAID卡故障，需更换"
    assert at(shown["located_at"]) == at("2025-11-17T11:30:00+08:00")

    again = world.fire(client, tid, "locate", who="engineer", note="再次定位")
    assert again.status_code == 409 and "located already" in again.get_json()["message"]
    travel("2025-11-18T10:00:00+08:00")
    assert world.fire(client, tid, "restore", who="engineer").status_code == 200
    assert clocks(client, world, tid)["restore"]["status"] == "met"


def test_locating_a_fault_while_working_remotely_starts_the_restore_clock_too(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    world = contract_world(db, client, "C1")
    travel(MONDAY_9)
    tid = world.open_ticket(client, category="hardware", priority="P3")["id"]
    assert world.fire(client, tid, "start_remote", who="engineer").status_code == 200
    travel("2025-11-17T16:00:00+08:00")
    assert world.fire(client, tid, "locate", who="engineer", note="交换机端口故障").status_code
    assert due(clocks(client, world, tid)["restore"]) == at("2025-11-18T16:00:00+08:00")


def test_c1_p1_arrival_is_two_hours_in_a_far_suburb_and_four_in_its_remote_parts(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    """C1-7: 远郊区的偏远地区 4 hours; the far suburbs' other institutions 2 hours."""
    travel(MONDAY_9)
    due_at = {}
    for remote in (False, True):
        world = contract_world(db, client, "C1", tier="far_suburb", remote_area=remote)
        tid = world.open_ticket(client, priority="P1", onsite_required=True)["id"]
        arrival = clocks(client, world, tid)["arrival"]
        due_at[remote] = due(arrival)
        expected_rule = "p1-remote-area" if remote else "p1"
        assert arrival["rule"] == expected_rule
    assert due_at[False] == at("2025-11-17T11:00:00+08:00")
    assert due_at[True] == at("2025-11-17T13:00:00+08:00")
    api = client.get(f"/api/v1/institutions/{world.institution_id}", headers=world.headers("agent"))
    assert api.get_json()["remote_area"] is True


def test_c1_p1_reported_on_a_saturday_night_gets_a_response_within_the_hour(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    """C1-2 7×24 remote emergency response (its hour a product default, and labelled so);
    arrival on site still counts business hours."""
    world = contract_world(db, client, "C1")
    travel("2025-11-15T22:00:00+08:00")  # Saturday
    tid = world.open_ticket(client, priority="P1", onsite_required=True)["id"]
    c = clocks(client, world, tid)
    assert (c["response"]["rule"], c["response"]["calendar"]) == ("p1-off-hours", "24x7")
    assert due(c["response"]) == at("2025-11-15T23:00:00+08:00")
    assert "产品默认值" in c["response"]["rule_description"]
    assert due(c["arrival"]) == at("2025-11-17T11:00:00+08:00")


def test_c4_outages_restore_per_service_item_and_have_no_resolution_clock(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    """C4-2: the HIS recovers within 1 h (1.3.1); the interoperability platform's longest
    single outage is 2 h (1.2.2); neither is a resolution target."""
    travel("2025-11-16T03:00:00+08:00")  # Sunday night: C4 is 7×24
    expected = {"his": "2025-11-16T04:00:00+08:00", "interoperability": "2025-11-16T05:00:00+08:00"}
    for group, restore_due in expected.items():
        world = contract_world(db, client, "C4", calendar="24x7", ci_group=group)
        tid = world.open_ticket(client, priority="P1", kind="incident")["id"]
        c = clocks(client, world, tid)
        assert set(c) == {"response", "restore"}
        assert due(c["restore"]) == at(restore_due)
        assert due(c["response"]) == at("2025-11-16T03:10:00+08:00")
        assert c["restore"]["rule_description"].startswith("C4-2")
    other = contract_world(db, client, "C4", calendar="24x7", ci_group="cloud")
    tid = other.open_ticket(client, priority="P1", kind="incident")["id"]
    assert set(clocks(client, other, tid)) == {"response"}


def test_moving_a_ticket_to_the_his_retargets_it_to_the_his_limit(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    world = contract_world(db, client, "C4", calendar="24x7")
    travel("2025-11-16T03:00:00+08:00")
    tid = world.open_ticket(client, priority="P1", configuration_item_id=None)["id"]
    assert set(clocks(client, world, tid)) == {"response"}
    with db.transaction() as session:
        from itsm.directory.models import ConfigurationItem

        session.get_one(ConfigurationItem, world.configuration_item_id).group = "his"  # type: ignore[assignment]
    travel("2025-11-16T03:05:00+08:00")
    etag = client.get(f"/api/v1/tickets/{tid}", headers=world.headers("agent")).headers["ETag"]
    response = client.patch(
        f"/api/v1/tickets/{tid}",
        json={"configuration_item_id": world.configuration_item_id},
        headers=world.headers("agent", **{"If-Match": etag}),
    )
    assert response.status_code == 200, response.get_json()
    assert due(clocks(client, world, tid)["restore"]) == at("2025-11-16T04:00:00+08:00")


def test_the_policy_api_returns_each_rules_clause(client: FlaskClient, db: Database) -> None:
    world = contract_world(db, client, "C1")
    response = client.get(
        f"/api/v1/contracts/{world.contract_code}/policy", headers=world.headers("agent")
    )
    rules = {r["name"]: r for r in response.get_json()["document"]["rules"]}
    assert (
        rules["p1-remote-area"]["description"]
        == "C1-4 1小时内实质性响应；C1-7 远郊区的偏远地区 4 小时到达现场"
    )
    assert rules["hardware"]["targets"]["restore"]["starts"] == "located"
    assert rules["p1-remote-area"]["when"]["remote_area"] == [True]


def test_tickets_opened_under_an_older_version_keep_its_targets(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    """Publishing the corrected policy changes no ticket opened before: its clocks and their
    rule stay those of the version it was opened under."""
    world = contract_world(db, client, "C1")
    old = shipped_policy("C1")
    old["contract"] = world.contract_code
    for rule in old["rules"]:  # the version before: C1-8's 8 hours counted from the report
        if "restore" in rule["targets"]:
            rule["targets"]["restore"]["starts"] = "reported"
    put = client.put(
        f"/api/v1/contracts/{world.contract_code}/policy", json=old, headers=world.headers("admin")
    )
    assert put.status_code == 200 and put.get_json()["version"] == 2
    travel(MONDAY_9)
    before = world.open_ticket(client, category="hardware")["id"]
    assert due(clocks(client, world, before)["restore"]) == at("2025-11-17T17:00:00+08:00")

    corrected = {**shipped_policy("C1"), "contract": world.contract_code}
    put = client.put(
        f"/api/v1/contracts/{world.contract_code}/policy",
        json=corrected,
        headers=world.headers("admin"),
    )
    assert put.get_json()["version"] == 3
    after = world.open_ticket(client, category="hardware")["id"]
    assert "restore" not in clocks(client, world, after)
    restore = clocks(client, world, before)["restore"]
    assert (restore["starts"], due(restore)) == ("reported", at("2025-11-17T17:00:00+08:00"))
    travel("2025-11-17T11:30:00+08:00")
    world.fire(client, before, "start_remote", who="engineer")
    world.fire(client, before, "locate", who="engineer", note="电源故障")
    assert due(clocks(client, world, before)["restore"]) == at("2025-11-17T17:00:00+08:00")


def test_the_ticket_page_locates_the_fault_and_shows_each_clocks_clause(
    client: FlaskClient, db: Database, travel: Any
) -> None:
    """Before the location the panel says the restore clock waits for it, with its clause;
    the engineer records the diagnosis in its own form; then the clock runs, clause shown."""
    world = contract_world(db, client, "C1")
    travel(MONDAY_9)
    tid = world.open_ticket(client, category="hardware", priority="P3")["id"]
    path = f"/tickets/{tid}"
    engineer = sign_in(client.application.test_client(), db, world, "engineer")
    html = engineer.get(path).get_data(as_text=True)
    assert 'id="form-locate"' not in html  # not before work has started
    assert re.search(r'data-metric="restore" data-status="awaited"', html)
    assert "未开始" in html and "自故障定位起 8 工作小时" in html
    assert "C1-8 硬件故障" in html
    assert world.fire(client, tid, "start_remote", who="engineer").status_code == 200

    html = engineer.get(path).get_data(as_text=True)
    assert 'id="form-locate"' in html and "故障定位" in html
    travel("2025-11-17T11:30:00+08:00")
    response, _ = post_form(engineer, path, "form-locate", note="服务器电源模块损坏")
    assert response.status_code == 302, response.get_data(as_text=True)
    html = engineer.get(path).get_data(as_text=True)
    assert 'id="form-locate"' not in html  # located once
    assert re.search(r'data-metric="restore" data-status="running"', html)
    assert "2025-11-18 11:30" in html  # due, in the contract's time
    rules = re.findall(
        r'class="small text-break clock-rule mb-1" data-rule="([\w-]+)">([^<]+)<', html
    )
    assert rules == [("hardware", shipped_rule("C1", "hardware"))]  # the clause, once
    assert "服务器电源模块损坏" in html


def shipped_rule(code: str, name: str) -> str:
    return next(r["description"] for r in shipped_policy(code)["rules"] if r["name"] == name)


def test_a_policy_whose_clock_no_step_would_start_is_refused_with_its_path(
    client: FlaskClient, db: Database
) -> None:
    """Only the fault's location starts `located` clocks, and it starts restore and
    resolution: an arrival counting from it would never run."""
    world = contract_world(db, client, "C1")
    document = {
        "contract": world.contract_code,
        "calendar": "cn-5x8",
        "rules": [
            {"name": "a", "targets": {"arrival": {"duration": "2bh", "starts": "located"}}},
            {"name": "b", "targets": {"resolution": {"duration": "1wd", "starts": "dispatched"}}},
        ],
    }
    response = client.put(
        f"/api/v1/contracts/{world.contract_code}/policy",
        json=document,
        headers=world.headers("admin"),
    )
    assert response.status_code == 422
    problems = response.get_json()["errors"]["policy"]
    assert [p.split(":")[0] for p in problems] == [
        "rules[0].targets.arrival.starts",
        "rules[1].targets.resolution.starts",
    ]
    assert "it starts resolution, restore" in problems[0]
