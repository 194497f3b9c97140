"""SLA clocks over the API: due at the instant the contract's calendar says, explained."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from itsm import clock
from itsm.db import Database
from itsm.sla.services import sla_sweep
from sla_rules.policy import shipped_policy
from tests.conftest import at
from tests.factories import World, build_world, publish_shipped_policy


def contract_world(db: Database, client: FlaskClient, code: str, **kwargs: Any) -> World:
    """A world whose contract runs the shipped policy of `code` (C0..C4)."""
    world = build_world(db, **kwargs)
    publish_shipped_policy(client, world, code)
    return world


def clocks(client: FlaskClient, world: World, ticket_id: int) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/v1/tickets/{ticket_id}/clocks", headers=world.headers("agent"))
    assert response.status_code == 200, response.get_json()
    return {c["metric"]: c for c in response.get_json()}


def due(c: dict[str, Any]) -> datetime:
    return at(c["due_at"])


def test_c2_response_and_urban_arrival_on_national_day(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C2", calendar="24x7")
    travel("2025-10-01T10:01:00+08:00")
    ticket = world.open_ticket(
        client, reported_at="2025-10-01T10:00:00+08:00", onsite_required=True, priority="P2"
    )
    c = clocks(client, world, ticket["id"])
    assert due(c["response"]) == at("2025-10-01T10:30:00+08:00")
    assert due(c["arrival"]) == at("2025-10-01T12:00:00+08:00")
    assert c["response"]["status"] == "running"
    assert c["response"]["timeline"][0]["kind"] == "started"


def test_c1_far_suburban_p1_arrival_skips_the_national_day_holidays(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    # C1-7's 4 hours are for the remote parts of far-suburban districts (远郊区的偏远地区)
    world = contract_world(db, client, "C1", tier="far_suburb", remote_area=True)
    travel("2025-09-30T16:00:00+08:00")
    ticket = world.open_ticket(client, priority="P1", onsite_required=True)
    c = clocks(client, world, ticket["id"])
    assert due(c["response"]) == at("2025-09-30T17:00:00+08:00")
    assert due(c["arrival"]) == at("2025-10-09T12:00:00+08:00")
    assert c["arrival"]["calendar"] == "cn-5x8"


def test_response_stops_at_the_first_substantive_step(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C4", calendar="24x7")
    travel("2025-11-03T09:00:00+08:00")
    ticket = world.open_ticket(client, priority="P3")
    travel("2025-11-03T09:07:00+08:00")
    world.fire(client, ticket["id"], "acknowledge", who="engineer")
    c = clocks(client, world, ticket["id"])["response"]
    assert (c["status"], at(c["met_at"])) == ("met", at("2025-11-03T09:07:00+08:00"))
    assert c["business_seconds_elapsed"] == 7 * 60
    assert [e["kind"] for e in c["timeline"]] == ["started", "met"]


def test_arrival_clock_starts_at_dispatch_when_the_rule_says_so(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C1", institution_kind="qc_center")
    travel("2025-11-04T09:00:00+08:00")
    ticket = world.open_ticket(client, priority="P3")
    assert "arrival" not in clocks(client, world, ticket["id"])
    travel("2025-11-04T10:00:00+08:00")
    world.fire(client, ticket["id"], "dispatch", assignee_id=world.users["engineer"])
    arrival = clocks(client, world, ticket["id"])["arrival"]
    assert at(arrival["started_at"]) == at("2025-11-04T10:00:00+08:00")
    assert due(arrival) == at("2025-11-04T14:00:00+08:00")  # C1-5: 4 h from being sent
    travel("2025-11-04T13:00:00+08:00")
    world.fire(client, ticket["id"], "arrive", who="engineer")
    assert clocks(client, world, ticket["id"])["arrival"]["status"] == "met"


def test_waiting_for_the_customer_moves_due_by_the_business_time_paused(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C1")
    travel("2025-11-05T09:00:00+08:00")  # Wednesday
    ticket = world.open_ticket(client, priority="P1", onsite_required=True)
    tid = ticket["id"]
    assert due(clocks(client, world, tid)["arrival"]) == at("2025-11-05T11:00:00+08:00")
    world.fire(client, tid, "dispatch", assignee_id=world.users["engineer"])
    travel("2025-11-05T10:00:00+08:00")
    world.fire(client, tid, "wait_customer", who="engineer", note="医院要求下午再来")
    paused = clocks(client, world, tid)["arrival"]
    assert paused["status"] == "paused"
    travel("2025-11-06T10:30:00+08:00")  # 8.5 business hours later (10-17 Wed, 9-10:30 Thu)
    world.fire(client, tid, "resume", who="engineer")
    arrival = clocks(client, world, tid)["arrival"]
    assert arrival["status"] == "running"
    assert due(arrival) == at("2025-11-06T11:30:00+08:00")  # 1 h left when paused
    assert [e["kind"] for e in arrival["timeline"]] == ["started", "paused", "resumed"]
    assert arrival["timeline"][2]["data"]["paused_seconds"] == 8 * 3600 + 30 * 60


def test_reopen_resumes_the_resolution_clock_where_it_stopped(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C3")
    travel("2025-11-10T09:00:00+08:00")  # Monday
    ticket = world.open_ticket(client, priority="P3")
    tid = ticket["id"]
    assert due(clocks(client, world, tid)["resolution"]) == at("2025-11-12T17:00:00+08:00")
    world.fire(client, tid, "start_remote", who="engineer")
    travel("2025-11-10T11:00:00+08:00")
    world.fire(client, tid, "resolve", who="engineer", note="已修复")
    assert clocks(client, world, tid)["resolution"]["status"] == "met"
    travel("2025-11-11T11:00:00+08:00")  # one working day later the customer reopens
    world.fire(client, tid, "reopen", who="requester", note="仍然报错")
    resolution = clocks(client, world, tid)["resolution"]
    assert resolution["status"] == "running" and resolution["met_at"] is None
    assert due(resolution) == at("2025-11-13T17:00:00+08:00")
    assert resolution["timeline"][-1]["cause"] == "ticket reopened"


def test_changing_priority_retargets_running_clocks_from_their_start(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C3")
    travel("2025-11-10T09:00:00+08:00")
    ticket = world.open_ticket(client, priority="P3")
    tid = ticket["id"]
    assert due(clocks(client, world, tid)["response"]) == at("2025-11-10T09:30:00+08:00")
    travel("2025-11-10T09:02:00+08:00")
    etag = client.get(f"/api/v1/tickets/{tid}", headers=world.headers("agent")).headers["ETag"]
    response = client.patch(
        f"/api/v1/tickets/{tid}",
        json={"priority": "P1"},
        headers=world.headers("agent", **{"If-Match": etag}),
    )
    assert response.status_code == 200
    c = clocks(client, world, tid)["response"]
    assert due(c) == at("2025-11-10T09:10:00+08:00")  # C3-4: 10 minutes from the call
    assert (c["target"], c["calendar"]) == ("10m", "24x7")
    retargeted = c["timeline"][-1]
    assert retargeted["kind"] == "retargeted" and "30bm → 10m" in retargeted["cause"]
    history = client.get(f"/api/v1/tickets/{tid}/events", headers=world.headers("agent"))
    assert history.get_json()[-1]["data"]["changes"] == {"priority": ["P3", "P1"]}


def test_a_new_policy_version_changes_only_tickets_opened_after_it(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C4", calendar="24x7")
    travel("2025-11-10T09:00:00+08:00")
    before = world.open_ticket(client, priority="P3")
    document = shipped_policy("C4")
    document["contract"] = world.contract_code
    for rule in document["rules"]:
        rule["targets"]["response"]["duration"] = "5m"
    published = client.put(
        f"/api/v1/contracts/{world.contract_code}/policy",
        json=document,
        headers=world.headers("admin"),
    )
    assert published.get_json()["version"] == 2
    after = world.open_ticket(client, priority="P3")
    assert due(clocks(client, world, before["id"])["response"]) == at("2025-11-10T09:10:00+08:00")
    assert due(clocks(client, world, after["id"])["response"]) == at("2025-11-10T09:05:00+08:00")
    current = client.get(
        f"/api/v1/contracts/{world.contract_code}/policy", headers=world.headers("agent")
    )
    assert current.get_json()["version"] == 2


def test_warning_and_breach_are_raised_once_however_often_the_sweep_runs(
    client,
    db,
    travel,  # type: ignore[no-untyped-def]
) -> None:
    world = contract_world(db, client, "C4", calendar="24x7")
    travel("2030-01-07T09:00:00+08:00")
    ticket = world.open_ticket(client, priority="P3")
    tid = ticket["id"]
    response_clock = clocks(client, world, tid)["response"]
    assert at(response_clock["warn_at"]) == at("2030-01-07T09:07:30+08:00")  # 75 % of 10 min

    def sweep(now: str) -> None:
        travel(now)
        with db.transaction() as session:
            sla_sweep.sweep(session, clock.now())

    sweep("2030-01-07T09:08:00+08:00")
    sweep("2030-01-07T09:09:00+08:00")
    board = client.get("/api/v1/sla/clocks?status=at_risk", headers=world.headers("manager"))
    assert tid in [row["ticket"]["id"] for row in board.get_json()]
    sweep("2030-01-07T09:11:00+08:00")
    sweep("2030-01-07T09:12:00+08:00")
    history = client.get(f"/api/v1/tickets/{tid}/events", headers=world.headers("agent")).get_json()
    kinds = [e["kind"] for e in history]
    assert kinds.count("sla_warning") == 1 and kinds.count("sla_breach") == 1
    breached = clocks(client, world, tid)["response"]
    assert breached["status"] == "breached"
    assert at(breached["breached_at"]) == at("2030-01-07T09:10:00+08:00")
    board = client.get(
        f"/api/v1/sla/clocks?status=breached&contract={world.contract_code}",
        headers=world.headers("manager"),
    )
    assert [row["ticket"]["id"] for row in board.get_json()] == [tid]
    travel("2030-01-07T09:20:00+08:00")
    world.fire(client, tid, "acknowledge", who="engineer")
    late = clocks(client, world, tid)["response"]
    assert (late["status"], at(late["met_at"])) == ("breached", at("2030-01-07T09:20:00+08:00"))


def test_cancel_cancels_every_clock(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C0")
    travel("2025-11-10T09:00:00+08:00")
    ticket = world.open_ticket(client, onsite_required=True)
    world.fire(client, ticket["id"], "cancel", note="重复报障")
    assert {c["status"] for c in clocks(client, world, ticket["id"]).values()} == {"cancelled"}


def test_bad_policy_is_refused_with_every_problem_and_changes_nothing(client, db) -> None:  # type: ignore[no-untyped-def]
    world = contract_world(db, client, "C4", calendar="24x7")
    document = {
        "calendar": "nowhere",
        "rules": [{"name": "x", "when": {"priority": ["P9"]}, "targets": {"speed": {}}}],
    }
    url = f"/api/v1/contracts/{world.contract_code}/policy"
    refused = client.put(url, json=document, headers=world.headers("admin"))
    assert refused.status_code == 422
    assert len(refused.get_json()["errors"]["policy"]) >= 3
    assert (
        client.put(url, json=shipped_policy("C4"), headers=world.headers("agent")).status_code
        == 403
    )
    assert client.get(url, headers=world.headers("agent")).get_json()["version"] == 1


def test_calendar_days_show_make_up_working_days_and_fallback_years(client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/api/v1/calendars/cn-5x8/days?from=2025-09-27&to=2025-10-12",
        headers=world.headers("agent"),
    )
    days = {d["date"]: d for d in response.get_json()["days"]}
    assert days["2025-09-28"]["reason"] == "makeup_workday" and days["2025-09-28"]["is_working_day"]
    assert all(not days[f"2025-10-0{d}"]["is_working_day"] for d in range(1, 9))
    assert days["2025-10-11"]["is_working_day"]
    assert response.get_json()["fallback"] is False


def test_an_admin_loads_a_year_the_package_does_not_know(client, world) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/calendars/cn-5x8/days?from=2099-01-01&to=2099-01-10"
    before = client.get(url, headers=world.headers("agent")).get_json()
    assert before["fallback"] is True and before["fallback_years"] == [2099]
    year = {"holidays": ["2099-01-01", "2099-01-02"], "workdays": ["2099-01-04"]}
    put = "/api/v1/calendars/cn-5x8/years/2099"
    assert client.put(put, json=year, headers=world.headers("agent")).status_code == 403
    bad = client.put(
        put, json={"holidays": ["2098-12-31"], "workdays": []}, headers=world.headers("admin")
    )
    assert bad.status_code == 422 and "2098-12-31" in bad.get_json()["message"]
    assert client.put(put, json=year, headers=world.headers("admin")).status_code == 200
    after = client.get(url, headers=world.headers("agent")).get_json()
    assert after["fallback"] is False
    days = {d["date"]: d for d in after["days"]}
    assert not days["2099-01-02"]["is_working_day"]
    assert days["2099-01-04"]["reason"] == "makeup_workday"
