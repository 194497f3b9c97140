"""Who is told what, when: the rows written with each event, quiet hours, the log and settings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itsm.db import Database
from itsm.models.outbox import OutboxMessage
from itsm.notify.models import Notification
from itsm.notify.services import notices
from itsm.sla.services import sla_sweep
from tests.conftest import at
from tests.factories import World, build_world, publish_shipped_policy

MONDAY_10 = "2026-11-23T10:00:00+08:00"
FRIDAY_22 = "2026-11-20T22:00:00+08:00"


def log(client: FlaskClient, world: World, ticket_id: int, who: str = "agent") -> list[dict]:
    response = client.get(f"/api/v1/notifications?ticket={ticket_id}", headers=world.headers(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]  # type: ignore[no-any-return]


def by_event(items: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return sorted((i for i in items if i["event"] == event), key=lambda i: i["audience"])


def configure(client: FlaskClient, world: World, settings: dict[str, Any], **people: str) -> None:
    contacts = {duty: [f"{who}-{world.contract_code}".lower()] for duty, who in people.items()}
    url = f"/api/v1/contracts/{world.contract_code}/notifications"
    current = client.get(url, headers=world.headers("admin")).headers["ETag"]
    response = client.put(
        url,
        json={"settings": settings, "contacts": contacts},
        headers={**world.headers("admin"), "If-Match": current},
    )
    assert response.status_code == 200, response.get_json()


def test_opened_ticket_texts_the_reporter_at_once_in_working_hours(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3")
    [sms] = log(client, world, ticket["id"])
    assert (sms["event"], sms["audience"], sms["channel"]) == ("ticket_opened", "reporter", "sms")
    assert sms["recipient"] == "+8613912345678"
    assert sms["status"] == "pending" and sms["not_before"] is None and not sms["urgent"]
    assert sms["key"] == f"ticket_opened:t{ticket['id']}:reporter:+8613912345678:sms"


def test_the_delivery_job_is_in_the_outbox_with_the_row(client, db, world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3")
    [sms] = log(client, world, ticket["id"])
    with db.sessions() as session:
        row = session.scalar(
            select(OutboxMessage).where(OutboxMessage.key == f"notify:{sms['key']}:1")
        )
    assert row is not None and row.kind == "notification" and row.payload == {"key": sms["key"]}


@pytest.mark.parametrize(
    ("phone", "reason"),
    [("010-62345678", "not a mobile number"), ("", "gave no mobile number")],
)
def test_a_reporter_without_a_mobile_is_skipped_with_the_reason(  # type: ignore[no-untyped-def]
    client, world, travel, phone: str, reason: str
) -> None:
    travel(MONDAY_10)
    ticket = world.open_ticket(client, reporter_phone=phone)
    [row] = log(client, world, ticket["id"])
    assert row["status"] == "skipped" and reason in row["skip_reason"]


def test_p1_tells_the_on_duty_engineer_and_the_group_at_night(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    configure(client, world, {"robot_key": "robot-key-4711"}, on_duty="engineer")
    travel(FRIDAY_22)
    ticket = world.open_ticket(client, priority="P1")
    rows = log(client, world, ticket["id"])
    [group, duty] = by_event(rows, "p1_opened")
    # The robot key lets anyone post to the group: the log shows only its end.
    assert (group["channel"], group["recipient"]) == ("wechat_robot", "…4711")
    assert all("robot-key" not in r["key"] and "robot-key" not in r["recipient"] for r in rows)
    assert (duty["channel"], duty["recipient"]) == ("wechat_app", f"engineer-{world.contract_code}")
    assert all(r["urgent"] and r["not_before"] is None for r in rows)
    [reporter] = by_event(rows, "ticket_opened")
    assert reporter["not_before"] is None  # a P1 reporter is told at once, night or not


def test_rows_written_with_the_robot_key_in_them_show_it_masked(client, db, world, travel) -> None:  # type: ignore[no-untyped-def]
    configure(client, world, {"robot_key": "robot-key-4711"}, on_duty="engineer")
    travel(FRIDAY_22)
    ticket = world.open_ticket(client, priority="P1")
    with db.transaction() as session:  # as rows were keyed, and errors worded, before
        row = session.scalars(
            select(Notification).where(
                Notification.subject_type == "ticket",
                Notification.subject_id == ticket["id"],
                Notification.channel == "wechat_robot",
            )
        ).one()
        row.key = f"p1_opened:t{ticket['id']}:v1:group:robot-key-4711:wechat_robot"
        row.error_code, row.error_message = "connection_error", "url: /send?key=robot-key-4711"
    [group] = [r for r in log(client, world, ticket["id"]) if r["channel"] == "wechat_robot"]
    assert "robot-key-4711" not in str(group) and "…4711" in group["key"]
    assert group["error_message"] == "url: /send?key=…4711"


def test_p1_with_no_one_on_duty_records_why_nobody_was_told(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P1")
    skipped = {
        r["audience"]: r["skip_reason"]
        for r in by_event(log(client, world, ticket["id"]), "p1_opened")
    }
    assert "names no on duty" in skipped["on_duty"]
    assert "no WeChat group robot" in skipped["group"]


def test_a_wechat_message_on_a_p2_has_an_sms_deadline(client, db, world, travel) -> None:  # type: ignore[no-untyped-def]
    configure(client, world, {"wechat_fallback_minutes": 7})
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P2", assignee_id=world.users["engineer"])
    [assigned] = by_event(log(client, world, ticket["id"]), "ticket_assigned")
    assert assigned["channel"] == "wechat_app"
    with db.sessions() as session:
        row = session.scalar(select(Notification).where(Notification.key == assigned["key"]))
        assert row.fallback_at == at(MONDAY_10).replace(minute=7)
        assert (
            session.scalar(
                select(OutboxMessage.run_at).where(
                    OutboxMessage.key == f"notify-fallback:{assigned['key']}"
                )
            )
            == row.fallback_at
        )


def test_not_urgent_messages_wait_for_the_next_working_morning(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(FRIDAY_22)
    ticket = world.open_ticket(client, priority="P3")
    [sms] = log(client, world, ticket["id"])
    assert at(sms["not_before"]) == at("2026-11-23T09:00:00+08:00")  # Monday, 09:00


def test_a_round_the_clock_contract_has_no_quiet_hours(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world = build_world(db, calendar="24x7")
    travel(FRIDAY_22)
    ticket = world.open_ticket(client, priority="P3")
    [sms] = log(client, world, ticket["id"])
    assert sms["not_before"] is None


def test_assign_dispatch_and_resolve_tell_the_right_people(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3")
    etag = client.get(f"/api/v1/tickets/{ticket['id']}", headers=world.headers("agent")).headers[
        "ETag"
    ]
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"assignee_id": world.users["engineer"]},
        headers=world.headers("agent", **{"If-Match": etag}),
    )
    assert response.status_code == 200, response.get_json()
    assert world.fire(client, ticket["id"], "dispatch").status_code == 200
    for trigger in ("depart", "arrive", "restore"):
        assert world.fire(client, ticket["id"], trigger, who="engineer").status_code == 200
    response = world.fire(client, ticket["id"], "resolve", who="engineer", note="换了打印机驱动")
    assert response.status_code == 200, response.get_json()
    rows = log(client, world, ticket["id"])
    engineer = f"engineer-{world.contract_code}"
    assert [r["recipient"] for r in by_event(rows, "ticket_assigned")] == [engineer]
    assert [r["recipient"] for r in by_event(rows, "ticket_dispatched")] == [engineer]
    assert [r["recipient"] for r in by_event(rows, "ticket_resolved")] == ["+8613912345678"]
    assert len(rows) == 4


def test_an_engineer_taking_a_ticket_is_not_told_about_it(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3")
    assert world.fire(client, ticket["id"], "acknowledge", who="engineer").status_code == 200
    assert by_event(log(client, world, ticket["id"]), "ticket_assigned") == []


def test_a_person_with_neither_wechat_nor_mobile_is_skipped(client, db, world, travel) -> None:  # type: ignore[no-untyped-def]
    from itsm.accounts.models import User

    with db.transaction() as session:
        user = session.get(User, world.users["engineer2"])
        user.wechat_user_id, user.phone = None, "010-12345678"
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3", assignee_id=world.users["engineer2"])
    [row] = by_event(log(client, world, ticket["id"]), "ticket_assigned")
    assert row["status"] == "skipped"
    assert "neither a WeChat Work id nor a mobile number" in row["skip_reason"]


def _breach(
    db: Database, client: FlaskClient, calendar: str, policy: str, travel: Any
) -> tuple[World, int]:
    world = build_world(db, calendar=calendar)
    publish_shipped_policy(client, world, policy)
    configure(client, world, {}, supervisor="manager", project_manager="agent")
    travel(FRIDAY_22)
    ticket = world.open_ticket(client, priority="P2", assignee_id=world.users["engineer"])
    travel("2026-11-30T22:00:00+08:00")  # a week later: every clock is breached
    with db.transaction() as session:
        result = sla_sweep.sweep(session, at("2026-11-30T22:00:00+08:00"))
        notices.on_clocks(session, result.warned, result.breached, at("2026-11-30T22:00:00+08:00"))
    return world, ticket["id"]


def test_a_breach_tells_engineer_supervisor_and_manager(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world, ticket_id = _breach(db, client, "24x7", "C4", travel)
    breaches = by_event(log(client, world, ticket_id), "sla_breach")
    audiences = {r["audience"] for r in breaches}
    assert audiences == {"assignee", "supervisor", "project_manager"}
    round_the_clock = [r for r in breaches if r["urgent"]]
    assert round_the_clock and all(r["not_before"] is None for r in round_the_clock)


def test_a_breach_of_a_working_hours_clock_waits_for_the_morning(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world, ticket_id = _breach(db, client, "cn-5x8", "C3", travel)
    breaches = by_event(log(client, world, ticket_id), "sla_breach")
    assert breaches
    waiting = [r for r in breaches if not r["urgent"]]
    assert waiting and all(at(r["not_before"]) == at("2026-12-01T09:00:00+08:00") for r in waiting)


def test_emitting_the_same_cause_twice_records_nothing_new(client, db, travel) -> None:  # type: ignore[no-untyped-def]
    world, ticket_id = _breach(db, client, "24x7", "C4", travel)
    with db.transaction() as session:
        from itsm.sla.models import Clock

        breached = list(
            session.scalars(
                select(Clock.id).where(
                    Clock.subject_type == "ticket", Clock.subject_id == ticket_id
                )
            )
        )
        before = session.scalar(select(func.count()).select_from(Notification))
        assert notices.on_clocks(session, [], breached, at("2026-11-30T22:00:00+08:00")) == 0
        assert session.scalar(select(func.count()).select_from(Notification)) == before


@pytest.mark.parametrize("who", ["engineer", "requester"])
def test_the_delivery_log_is_for_agents_and_managers(client, world, travel, who: str) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client)
    response = client.get(
        f"/api/v1/notifications?ticket={ticket['id']}", headers=world.headers(who)
    )
    assert response.status_code == 403
    assert "agents and managers" in response.get_json()["message"]


def test_another_contracts_log_is_not_found(client, world, other_world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = other_world.open_ticket(client)
    response = client.get(
        f"/api/v1/notifications?ticket={ticket['id']}", headers=world.headers("agent")
    )
    assert response.status_code == 404
    mine = client.get("/api/v1/notifications", headers=world.headers("manager")).get_json()
    assert all(i["ticket_id"] != ticket["id"] for i in mine["items"])


def test_the_log_filters_by_status_and_channel(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P1")
    base = f"/api/v1/notifications?ticket={ticket['id']}"
    skipped = client.get(base + "&status=skipped", headers=world.headers("manager")).get_json()
    assert skipped["total"] == 2 and {i["status"] for i in skipped["items"]} == {"skipped"}
    sms = client.get(base + "&channel=sms", headers=world.headers("manager")).get_json()
    assert sms["total"] == 1
    bad = client.get(base + "&status=lost", headers=world.headers("manager"))
    assert bad.status_code == 422


def test_settings_show_the_defaults_and_only_staff_may_be_contacts(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/contracts/{world.contract_code}/notifications"
    shown = client.get(url, headers=world.headers("agent")).get_json()
    assert shown["settings"]["events"]["sla_breach"] == [
        "assignee",
        "supervisor",
        "project_manager",
    ]
    assert shown["contacts"] == {"on_duty": [], "supervisor": [], "project_manager": []}
    client.put(
        url,
        json={"settings": {"robot_key": "robot-key-4711"}, "contacts": {}},
        headers={**world.headers("admin"), "If-Match": "*"},
    )
    shown = client.get(url, headers=world.headers("agent")).get_json()
    assert shown["settings"]["robot_key"] == "…4711"  # an agent may not post to the group
    edited = client.get(url, headers=world.headers("admin")).get_json()
    assert edited["settings"]["robot_key"] == "robot-key-4711"  # who may change it sees it
    assert client.get(url, headers=world.headers("requester")).status_code == 403
    for wrong in ("…4711", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdefgh"):
        masked = client.put(
            url,
            json={"settings": {"robot_key": wrong}, "contacts": {}},
            headers={**world.headers("admin"), "If-Match": "*"},
        )
        assert masked.status_code == 422 and "key=" in masked.get_json()["message"]
    assert client.get(url, headers=world.headers("admin")).get_json() == edited
    admin = {**world.headers("admin"), "If-Match": "*"}
    body = {"settings": {}, "contacts": {"on_duty": [f"requester-{world.contract_code}".lower()]}}
    refused = client.put(url, json=body, headers=admin)
    assert refused.status_code == 422 and "not a member of staff" in refused.get_json()["message"]
    forbidden = client.put(
        url,
        json={"settings": {}, "contacts": {}},
        headers={**world.headers("agent"), "If-Match": "*"},
    )
    assert forbidden.status_code == 403
    unknown = client.put(
        url, json={"settings": {"events": {"coffee": ["reporter"]}}, "contacts": {}}, headers=admin
    )
    assert unknown.status_code == 422
    assert client.get(url, headers=world.headers("agent")).get_json() == shown  # nothing written


def test_a_replace_names_the_version_it_read_so_no_change_is_lost(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/contracts/{world.contract_code}/notifications"
    admin = world.headers("admin")
    read = client.get(url, headers=admin)
    seen = read.headers["ETag"]
    mine = {"settings": {"wechat_fallback_minutes": 5}, "contacts": {}}
    theirs = {
        "settings": {"lang": "en"},
        "contacts": {"supervisor": [f"manager-{world.contract_code}".lower()]},
    }

    missing = client.put(url, json=mine, headers=admin)
    assert missing.status_code == 428 and "If-Match" in missing.get_json()["message"]

    first = client.put(url, json=theirs, headers={**admin, "If-Match": seen})
    assert first.status_code == 200 and first.headers["ETag"] != seen
    assert first.headers["ETag"] == client.get(url, headers=admin).headers["ETag"]

    stale = client.put(url, json=mine, headers={**admin, "If-Match": seen})
    assert stale.status_code == 412 and "reload" in stale.get_json()["message"]
    assert stale.headers["ETag"] == first.headers["ETag"]  # what to reload against
    now = client.get(url, headers=admin).get_json()
    assert now["settings"]["lang"] == "en" and now["settings"]["wechat_fallback_minutes"] != 5
    assert now["contacts"]["supervisor"] == [f"manager-{world.contract_code}".lower()]

    weak = client.put(url, json=mine, headers={**admin, "If-Match": "W/" + first.headers["ETag"]})
    assert weak.status_code == 200
    assert client.get(url, headers=admin).get_json()["settings"]["wechat_fallback_minutes"] == 5


def test_an_event_can_be_told_to_other_people_per_contract(client, world, travel) -> None:  # type: ignore[no-untyped-def]
    configure(
        client,
        world,
        {"events": {"ticket_opened": ["reporter", "supervisor"]}},
        supervisor="manager",
    )
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3")
    rows = by_event(log(client, world, ticket["id"]), "ticket_opened")
    assert [r["audience"] for r in rows] == ["reporter", "supervisor"]


def test_two_admins_replacing_at_once_one_wins_and_the_other_is_told(app, world) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/contracts/{world.contract_code}/notifications"
    admin = world.headers("admin")
    seen = app.test_client().get(url, headers=admin).headers["ETag"]

    def replace(minutes: int) -> int:
        body = {"settings": {"wechat_fallback_minutes": minutes}, "contacts": {}}
        headers = {**admin, "If-Match": seen}
        return app.test_client().put(url, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(replace, [7, 9]))
    assert sorted(statuses) == [200, 412]
    winner = [7, 9][statuses.index(200)]
    now = app.test_client().get(url, headers=admin).get_json()
    assert now["settings"]["wechat_fallback_minutes"] == winner
