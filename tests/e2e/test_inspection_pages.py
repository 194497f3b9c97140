"""The inspections' pages through the Flask test client: the manager's obligations ledger and
month calendar, the list, the inspection page where the engineer runs the checklist with a
photo and opens a fault's ticket, steps done once, and who may see what."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itsm.db import Database
from itsm.inspections import pages
from itsm.inspections.models import Inspection, InspectionEvent
from tests.e2e.test_inspections_api import PLAN, generate, get, publish, step
from tests.factories import World
from tests.pages import field, form_of, post_form, sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MONDAY = datetime(2026, 4, 27, 8, 0, tzinfo=SHANGHAI)
"""The Monday before Labour Day 2026 (1–5 May are holidays, Saturday 9 May is worked)."""

C1_LIKE: dict[str, Any] = {
    "description": "C1 式巡检计划",
    "obligations": [
        {
            "kind": "system",
            "title": "系统巡检",
            "clause": "C1-10 每年不少于 52 次系统巡检",
            "required": 52,
            "recurrence": {"every": "week", "weekday": "mon"},
            "mode": "remote",
            "checklist": [{"key": "services", "label": "应用服务运行状态", "type": "check"}],
        },
        PLAN["obligations"][0],
    ],
}


def _client(client: FlaskClient, db: Database, world: World, who: str) -> FlaskClient:
    return sign_in(client.application.test_client(), db, world, who)


def _ids(db: Database, world: World) -> list[tuple[int, str, date, str]]:
    """(id, number, day, kind) of the world's inspections, by day."""
    with db.transaction() as session:
        rows = session.execute(
            select(Inspection.id, Inspection.number, Inspection.day, Inspection.kind)
            .where(Inspection.contract_id == world.contract_id)
            .order_by(Inspection.day, Inspection.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _planned(client: FlaskClient, db: Database, world: World, travel: Any, plan: Any) -> None:
    publish(client, world, plan)
    travel(MONDAY)
    generate(db, world, MONDAY, date(2026, 5, 31))


def _device(db: Database, world: World) -> tuple[int, str]:
    """The first on-site device inspection (Wednesday 29 April)."""
    found = next((i, n) for i, n, _day, kind in _ids(db, world) if kind == "device")
    return found


def _done_through_the_api(client: FlaskClient, world: World, inspection_id: int) -> None:
    """Assign, start, answer and submit the (remote, one-item) system inspection."""
    engineer = world.users["engineer"]
    assert (
        step(client, world, inspection_id, "manager", "assign", assignee_id=engineer).status_code
        == 200
    )
    assert step(client, world, inspection_id, "engineer", "start").status_code == 200
    _body, etag = get(client, world, inspection_id, "engineer")
    answered = client.put(
        f"/api/v1/inspections/{inspection_id}/checklist",
        json={"answers": {"services": "ok"}},
        headers=world.headers("engineer", **{"If-Match": etag}),
    )
    assert answered.status_code == 200, answered.get_json()
    assert step(client, world, inspection_id, "engineer", "submit").status_code == 200


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _cell(html: str, day: str) -> str:
    cell = rf'<div class="cal-day [^"]*"[^>]*data-day="{day}".*?</h3>'
    match = re.search(cell + r".*?(?=<div class=\"cal-day|</div>\s*<p)", html, re.S)
    assert match, f"no calendar cell for {day}"
    return match.group(0)


def test_the_ledger_counts_and_the_calendar_shows_a_day_s_inspection_and_shades_a_holiday(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    _planned(client, db, world, travel, C1_LIKE)
    inspection_id, number = _device(db, world)
    _done_through_the_api(client, world, _ids(db, world)[0][0])
    api_ledger = client.get(
        f"/api/v1/contracts/{world.contract_code}/obligations?year=2026",
        headers=world.headers("manager"),
    ).get_json()["obligations"]
    assert [line["done"] for line in api_ledger] == [1, 0]
    manager = _client(client, db, world, "manager")
    url = f"/inspections/obligations?contract={world.contract_code}&year=2026&month=2026-05"
    response = manager.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>巡检义务" in html
    for line in api_ledger:
        row = re.search(rf'<tr[^>]*data-kind="{line["kind"]}".*?</tr>', html, re.S)
        assert row, line["kind"]
        for count in ("required", "planned", "done", "missed", "open", "remaining"):
            shown = re.search(rf'data-count="{count}">(\d+)<', row.group(0))
            assert shown and int(shown.group(1)) == line[count], (line["kind"], count)
    assert "C1-10 每年不少于 52 次系统巡检" in html and "设备巡检" in html

    # May 2026: Labour Day shaded with its reason, the make-up Saturday marked, and each day
    # lists its inspections with number, kind, state and engineer.
    holiday = _cell(html, "2026-05-01")
    assert "cal-holiday" in holiday and "法定节假日" in _text(holiday)
    assert "cal-makeup" in _cell(html, "2026-05-09") and "调休上班" in _cell(html, "2026-05-09")
    may = [(i, n, d) for i, n, d, _kind in _ids(db, world) if d.month == 5]
    assert may, "the plan made inspections in May"
    for inspection, shown_number, day in may:
        cell = _cell(html, day.isoformat())
        assert shown_number in cell and f"/inspections/{inspection}" in cell
        assert "cal-holiday" not in cell  # inspections land on working days
    device = next(d for _i, _n, d, kind in _ids(db, world) if kind == "device" and d.month == 5)
    cell = _cell(html, device.isoformat())
    assert "设备巡检" in cell and "待执行" in cell and "insp-planned" in cell and "未指派" in cell
    # The month's neighbours, and April's calendar with the first device inspection.
    assert "month=2026-04" in html and "month=2026-06" in html
    april = manager.get(url.replace("2026-05", "2026-04")).get_data(as_text=True)
    assert number in _cell(april, "2026-04-29") and inspection_id
    manager.get("/lang/en")
    english = manager.get(url).get_data(as_text=True)
    assert "Inspections in May 2026" in english and "<div>Mon</div>" in english
    assert "Friday, May 1, 2026" in english and "Make-up working day" in english


def test_a_contract_without_a_plan_says_its_terms_have_no_inspection_clause(
    client: FlaskClient, db: Database, world: World
) -> None:
    manager = _client(client, db, world, "manager")
    html = manager.get(f"/inspections/obligations?contract={world.contract_code}").get_data(
        as_text=True
    )
    assert 'id="no-plan"' in html and "该合同条款中没有巡检条款" in html
    assert 'id="ledger"' not in html


def test_obligations_are_for_staff_and_navigation_follows_the_role(
    client: FlaskClient, db: Database, world: World, other_world: World
) -> None:
    manager = _client(client, db, world, "manager")
    html = manager.get("/inspections").get_data(as_text=True)
    assert 'href="/inspections"' in html and 'href="/inspections/obligations"' in html
    engineer = _client(client, db, world, "engineer")
    html = engineer.get("/my").get_data(as_text=True)
    assert 'href="/inspections"' in html and 'href="/inspections/obligations"' not in html
    assert engineer.get("/inspections/obligations").status_code == 403
    requester = _client(client, db, world, "requester")
    assert requester.get("/inspections/obligations").status_code == 403
    assert requester.get("/inspections").status_code == 200
    other = f"/inspections/obligations?contract={other_world.contract_code}"
    assert manager.get(other).status_code == 404


def test_the_list_keeps_its_filters_in_the_url_and_pages_with_the_total(
    client: FlaskClient,
    db: Database,
    world: World,
    travel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _planned(client, db, world, travel, C1_LIKE)
    monkeypatch.setattr(pages, "PER_PAGE", 2)
    devices = [(i, n) for i, n, _d, kind in _ids(db, world) if kind == "device"]
    engineer = _client(client, db, world, "engineer")
    path = f"/inspections?contract={world.contract_code}&kind=device&state=planned"
    html = engineer.get(path).get_data(as_text=True)
    assert f'data-total="{len(devices)}"' in html
    assert re.findall(r'<tr data-number="([^"]+)"', html) == [n for _i, n in devices[:2]]
    assert f'href="/inspections/{devices[0][0]}"' in html
    following = re.search(r'href="([^"]+)" rel="next"', html)
    assert following
    link = following.group(1).replace("&amp;", "&")
    assert "kind=device" in link and "state=planned" in link and "page=2" in link
    second = engineer.get(link).get_data(as_text=True)
    assert re.findall(r'<tr data-number="([^"]+)"', second) == [n for _i, n in devices[2:4]]
    assert 'value="device" selected' in second and 'value="planned" selected' in second
    ranged = engineer.get(f"{path}&from=2026-05-06&to=2026-05-06").get_data(as_text=True)
    assert re.findall(r'<tr data-number="([^"]+)"', ranged) == [
        n for i, n, d, k in _ids(db, world) if k == "device" and d == date(2026, 5, 6)
    ]
    assert engineer.get("/inspections?from=yesterday").status_code == 422


def test_the_engineer_runs_the_checklist_through_the_page(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    """Assigned on the page, found on the phone's "My work", started with a position, the
    checklist answered with a fault and a photo, a ticket opened for the fault, submitted,
    accepted by the manager."""
    _planned(client, db, world, travel, PLAN)
    inspection_id, number = _device(db, world)
    path = f"/inspections/{inspection_id}"
    manager = _client(client, db, world, "manager")
    engineer = _client(client, db, world, "engineer")
    assert 'id="form-checklist"' not in engineer.get(path).get_data(as_text=True)
    response, _ = post_form(manager, path, "form-assign", assignee_id=str(world.users["engineer"]))
    assert response.status_code == 302, response.get_data(as_text=True)

    my = engineer.get("/my").get_data(as_text=True)
    card = re.search(
        rf'<article class="card mb-3 inspection-card" data-inspection="{number}".*?</article>',
        my,
        re.S,
    )
    assert card and f'href="{path}"' in card.group(0) and "3 项检查待填写" in card.group(0)
    html = engineer.get(path).get_data(as_text=True)
    assert 'data-state="assigned"' in html and 'data-geolocate="1"' in html
    response, _ = post_form(
        engineer, path, "form-start", latitude="39.91", longitude="116.4", accuracy="20"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = engineer.get(path).get_data(as_text=True)
    assert 'id="inspection-state" data-state="in_progress"' in html
    assert 'name="photo-photo" accept="image/*" capture="environment"' in html
    assert "正常：不超过 80 %" in html  # the threshold shown with the unit

    response, _ = post_form(
        engineer,
        path,
        "form-checklist",
        **{
            "answer-hosts": "ok",
            "answer-cpu": "95",
            "photo-photo": (io.BytesIO(PNG), "机房.png"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = engineer.get(path).get_data(as_text=True)
    assert "清单已保存" in html and "已添加 1 张照片" in html
    cpu = re.search(
        r'<li class="check-item[^"]*" id="item-cpu".*?</li>\s*(?=<li class="check-item|</ol>)',
        html,
        re.S,
    )
    assert cpu and "check-item fault" in cpu.group(0) and 'value="95"' in cpu.group(0)
    assert 'id="complete"' in html and 'id="faults"' in html
    assert 'name="answer-hosts" id="answer-hosts-ok" value="ok" checked' in html
    photo = re.search(rf'href="({path}/photos/\d+)"', html)
    assert photo
    content = engineer.get(photo.group(1))
    assert content.status_code == 200 and content.mimetype == "image/png"
    assert content.data == PNG
    content.close()

    response, _ = post_form(engineer, path, "form-ticket-cpu")
    assert response.status_code == 302, response.get_data(as_text=True)
    html = engineer.get(path).get_data(as_text=True)
    ticket = re.search(
        r'class="small mb-0 mt-1 fault-ticket">[^<]*<a href="(/tickets/\d+)">(INC-[^<]+)<', html
    )
    assert ticket, "the fault links to its ticket"
    assert engineer.get(ticket.group(1)).status_code == 200
    assert 'id="form-ticket-cpu"' not in html

    step = {**form_of(html, "form-steps"), "trigger": "submit"}
    assert engineer.post(f"{path}/steps", data=step).status_code == 302
    html = manager.get(path).get_data(as_text=True)
    assert 'data-state="submitted"' in html and 'value="accept"' in html
    assert re.search(r'start-position">距机构 \d+ 米', html)  # staff see where it started
    response, _ = post_form(manager, path, "form-steps", trigger="accept")
    assert response.status_code == 302
    history = manager.get(path).get_data(as_text=True)
    triggers = re.findall(r'data-kind="transition" data-trigger="(\w+)"', history)
    assert triggers == ["assign", "start", "submit", "accept"]
    assert "保存了检查清单" in history and "为故障开了工单" in history


def test_a_resent_form_does_its_step_once_and_a_stale_one_is_refused(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    _planned(client, db, world, travel, PLAN)
    inspection_id, _number = _device(db, world)
    path = f"/inspections/{inspection_id}"
    manager = _client(client, db, world, "manager")
    html = manager.get(path).get_data(as_text=True)
    assign = {**form_of(html, "form-assign"), "assignee_id": str(world.users["engineer"])}
    assert manager.post(f"{path}/steps", data=assign).status_code == 302
    again = manager.post(f"{path}/steps", data=assign, follow_redirects=True)
    assert again.status_code == 200 and "此表单已提交过" in again.get_data(as_text=True)

    engineer = _client(client, db, world, "engineer")
    html = engineer.get(path).get_data(as_text=True)
    body = {
        **form_of(html, "form-checklist"),
        "answer-hosts": "fault",
        "answer-cpu": "12.5",
    }
    stale = dict(body)
    for _attempt in range(2):
        assert engineer.post(f"{path}/checklist", data=body).status_code == 302
    with db.transaction() as session:
        saved = session.scalar(
            select(func.count()).where(
                InspectionEvent.inspection_id == inspection_id, InspectionEvent.kind == "checklist"
            )
        )
        answers = session.get_one(Inspection, inspection_id).answers
    assert saved == 1 and answers == {"hosts": "fault", "cpu": 12.5}

    # The same page's form with a fresh token, after the inspection moved on: refused.
    stale["form_token"] = "x" * 32
    stale["answer-cpu"] = "13"
    refused = engineer.post(f"{path}/checklist", data=stale)
    assert refused.status_code == 412
    assert "在您打开后被他人修改" in refused.get_data(as_text=True)
    bad = {**form_of(engineer.get(path).get_data(as_text=True), "form-checklist")}
    bad["answer-cpu"] = "很高"
    response = engineer.post(f"{path}/checklist", data=bad)
    assert response.status_code == 422 and "CPU 使用率" in response.get_data(as_text=True)
    # A step that needs a reason is refused without one.
    html = manager.get(path).get_data(as_text=True)
    cancel = {**form_of(html, "form-noted"), "trigger": "cancel", "note": " "}
    assert manager.post(f"{path}/steps", data=cancel).status_code == 422


def test_another_contract_s_inspection_is_not_found(
    client: FlaskClient, db: Database, world: World, other_world: World, travel: Any
) -> None:
    _planned(client, db, world, travel, PLAN)
    inspection_id, _number = _device(db, world)
    path = f"/inspections/{inspection_id}"
    for who in ("manager", "engineer", "requester"):
        outsider = _client(client, db, other_world, who)
        assert outsider.get(path).status_code == 404, who
        assert outsider.get(f"{path}/photos/1").status_code == 404, who
        html = outsider.get("/inspections").get_data(as_text=True)
        assert 'data-total="0"' in html
    # The world's requester sees their institution's inspection but may not work it.
    engineer = world.users["engineer"]
    assigned = step(client, world, inspection_id, "manager", "assign", assignee_id=engineer)
    assert assigned.status_code == 200
    requester = _client(client, db, world, "requester")
    html = requester.get(path).get_data(as_text=True)
    assert 'id="form-checklist"' not in html and 'id="form-assign"' not in html
    with db.transaction() as session:
        version = session.get_one(Inspection, inspection_id).version
    body = {"csrf_token": field(html, "csrf_token"), "form_token": "r" * 32}
    answers = {**body, "version": str(version), "answer-hosts": "ok"}
    assert requester.post(f"{path}/checklist", data=answers).status_code == 403
    fault = {**body, "item_key": "cpu"}
    assert requester.post(f"{path}/tickets", data=fault).status_code == 403


def test_a_fault_of_an_inspection_with_no_site_opens_its_ticket_where_the_engineer_says(
    client: FlaskClient, db: Database, world: World, travel: Any
) -> None:
    published = client.put(  # no site: the remote inspection of a contract's systems
        f"/api/v1/contracts/{world.contract_code}/inspection-plan",
        json=C1_LIKE,
        headers=world.headers("admin", **{"If-Match": "*"}),
    )
    assert published.status_code == 200, published.get_json()
    travel(MONDAY)
    generate(db, world, MONDAY, date(2026, 5, 8))
    inspection_id = next(i for i, _n, _d, kind in _ids(db, world) if kind == "system")
    engineer = world.users["engineer"]
    assigned = step(client, world, inspection_id, "manager", "assign", assignee_id=engineer)
    assert assigned.status_code == 200
    path = f"/inspections/{inspection_id}"
    page = _client(client, db, world, "engineer")
    response, _ = post_form(page, path, "form-checklist", **{"answer-services": "fault"})
    assert response.status_code == 302, response.get_data(as_text=True)
    html = page.get(path).get_data(as_text=True)
    assert "合同所辖系统（无固定地点）" in html
    assert 'form="form-ticket-services" required' in html
    assert f'<option value="{world.second_institution_id}">' in html
    response, _ = post_form(
        page, path, "form-ticket-services", institution_id=str(world.second_institution_id)
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    linked = client.get(
        f"/api/v1/inspections/{inspection_id}/tickets", headers=world.headers("engineer")
    ).get_json()
    ticket = client.get(
        f"/api/v1/tickets/{linked[0]['id']}", headers=world.headers("engineer")
    ).get_json()
    assert ticket["institution"]["id"] == world.second_institution_id
    assert "应用服务运行状态" in ticket["title"]
