"""The server-rendered pages through the Flask test client: sign-in, CSRF, roles, tenancy,
steps done once, the call-to-close flow, language."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itsm import clock
from itsm.accounts.models import FormSubmission
from itsm.app import create_app
from itsm.db import Database
from itsm.notify.services import notices
from itsm.tickets.models import Ticket, TicketEvent
from itsm.web import labels
from tests.factories import World, publish_shipped_policy
from tests.pages import PASSWORD, field, give_password, post_form, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _log_call(client: FlaskClient, world: World, **data: str) -> str:
    """Log a call from the console; the ticket page's path."""
    response, _ = post_form(
        client,
        "/hotline",
        "call-form",
        institution_id=str(world.institution_id),
        title="收费系统无法打印发票",
        kind="incident",
        priority="P2",
        category="software",
        configuration_item_id=str(world.configuration_item_id),
        **data,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def _ticket_id(path: str) -> int:
    return int(path.rstrip("/").rsplit("/", 1)[1])


def test_root_is_the_sign_in_page_and_the_api_docs_stay(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="password"' in html and "<title>登录" in html
    assert 'href="/api/v1/docs"' in html
    assert client.get("/api/v1/docs").status_code == 200


def test_pages_ask_to_sign_in_first(client: FlaskClient) -> None:
    response = client.get("/hotline")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=/hotline")


def test_sign_in_lands_on_the_roles_home_and_sign_out_ends_the_session(
    client: FlaskClient, db: Database, world: World
) -> None:
    homes = {"agent": "/hotline", "engineer": "/my", "requester": "/portal"}
    for who, home in homes.items():
        fresh = client.application.test_client()
        sign_in(fresh, db, world, who)
        assert fresh.get("/").headers["Location"] == home
    page = client.application.test_client()
    sign_in(page, db, world, "agent")
    html = page.get("/hotline").get_data(as_text=True)
    response = page.post("/signout", data={"csrf_token": field(html, "csrf_token")})
    assert response.status_code == 302
    assert page.get("/hotline").status_code == 302


def test_a_wrong_password_is_refused(client: FlaskClient, db: Database, world: World) -> None:
    name = give_password(db, world, "agent")
    token = field(client.get("/signin").get_data(as_text=True), "csrf_token")
    response = client.post(
        "/signin", data={"username": name, "password": "wrong-one", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_sign_ins_are_limited_across_processes(
    app: Flask, db: Database, world: World, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Five failures lock the account for the window, also in another process (the count is in
    the database); even the right password is then refused without being checked."""
    name = give_password(db, world, "engineer")
    settings = app.config["ITSM_SETTINGS"]
    other_process = create_app(
        instance_path=tmp_path, database_url=settings.database_url, redis_url="", secret_key="x"
    )
    try:
        clients = [app.test_client(), other_process.test_client()]
        for attempt in range(settings.signin_max_failures):
            c = clients[attempt % 2]
            token = field(c.get("/signin").get_data(as_text=True), "csrf_token")
            r = c.post("/signin", data={"username": name, "password": "bad", "csrf_token": token})
            assert r.status_code == 401
        for c in clients:
            token = field(c.get("/signin").get_data(as_text=True), "csrf_token")
            r = c.post(
                "/signin", data={"username": name, "password": PASSWORD, "csrf_token": token}
            )
            assert r.status_code == 429
            assert "登录失败次数过多" in r.get_data(as_text=True)
        with time_machine.travel(clock.now() + timedelta(seconds=settings.signin_window_seconds)):
            sign_in(app.test_client(), db, world, "engineer")
    finally:
        other_process.extensions["itsm.db"].dispose()


def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, db: Database, world: World
) -> None:
    name = give_password(db, world, "agent")
    response = client.post("/signin", data={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    sign_in(client, db, world, "agent")
    html = client.get("/hotline").get_data(as_text=True)
    response = client.post(
        "/hotline/calls",
        data={
            "form_token": field(html, "form_token"),
            "institution_id": world.institution_id,
            "title": "no token",
        },
    )
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    with client.application.app_context():
        session = client.application.extensions["itsm.db"].sessions()
        assert session.scalar(select(func.count()).where(Ticket.title == "no token")) == 0
        session.close()


def test_another_institutions_ticket_is_404_for_a_requester(
    client: FlaskClient, db: Database, world: World, other_world: World
) -> None:
    own = world.open_ticket(client)
    second = world.open_ticket(client, institution_id=world.second_institution_id)
    elsewhere = other_world.open_ticket(client)
    requester = client.application.test_client()
    sign_in(requester, db, world, "requester")
    assert requester.get(f"/tickets/{own['id']}").status_code == 200
    for hidden in (second["id"], elsewhere["id"], 2_147_483_647):
        response = requester.get(f"/tickets/{hidden}")
        assert response.status_code == 404
        assert f"ticket {hidden} not found" in response.get_data(as_text=True)
    html = requester.get(f"/tickets/{own['id']}").get_data(as_text=True)
    response = requester.post(
        f"/tickets/{second['id']}/comments",
        data={"csrf_token": field(html, "csrf_token"), "form_token": "x" * 20, "body": "hi"},
    )
    assert response.status_code == 404


def test_the_ticket_page_tells_staff_who_was_told_but_not_the_hospital(
    client: FlaskClient, db: Database, world: World
) -> None:
    client.put(
        f"/api/v1/contracts/{world.contract_code}/notifications",
        json={"settings": {"robot_key": "robot-key-4711"}, "contacts": {}},
        headers={**world.headers("admin"), "If-Match": "*"},
    )
    ticket = world.open_ticket(client, priority="P1", reporter_phone="139 1234 5678")
    agent = client.application.test_client()
    sign_in(agent, db, world, "agent")
    html = agent.get(f"/tickets/{ticket['id']}").get_data(as_text=True)
    log = html[html.index('id="notifications-title"') :]
    assert 'data-channel="sms"' in log and "+8613912345678" in log  # the caller's SMS
    assert 'data-channel="wechat_robot"' in log and "4711" not in log  # the key stays secret
    assert "未发送" in log and "未指定值班工程师" in log  # nobody on duty, said in Chinese
    requester = client.application.test_client()
    sign_in(requester, db, world, "requester")
    page = requester.get(f"/tickets/{ticket['id']}").get_data(as_text=True)
    assert 'id="notifications-title"' not in page and "+8613912345678" not in page


def test_navigation_follows_the_role(client: FlaskClient, db: Database, world: World) -> None:
    pages = {}
    for who in ("agent", "engineer", "requester"):
        c = client.application.test_client()
        sign_in(c, db, world, who)
        pages[who] = c
    agent = pages["agent"].get("/hotline").get_data(as_text=True)
    assert 'href="/hotline"' in agent and 'href="/portal"' not in agent
    engineer = pages["engineer"].get("/my").get_data(as_text=True)
    assert 'href="/my"' in engineer and 'href="/hotline"' not in engineer
    requester = pages["requester"].get("/portal").get_data(as_text=True)
    assert 'href="/portal/new"' in requester and 'href="/hotline"' not in requester
    assert 'href="/api/v1/docs"' not in requester
    assert pages["requester"].get("/hotline").status_code == 403
    assert pages["engineer"].get("/portal").status_code == 403
    assert pages["requester"].get("/hotline/queue").status_code == 403


def test_the_language_can_be_switched(client: FlaskClient, db: Database, world: World) -> None:
    sign_in(client, db, world, "agent")
    assert "<title>热线台" in client.get("/hotline").get_data(as_text=True)
    response = client.get("/lang/en?next=/hotline")
    assert response.headers["Location"] == "/hotline"
    html = client.get("/hotline").get_data(as_text=True)
    assert "<title>Hotline console" in html and '<html lang="en">' in html
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/hotline"
    client.get("/lang/zh_CN")
    assert '<html lang="zh-CN">' in client.get("/hotline").get_data(as_text=True)


def test_console_finds_institutions_by_initials_phone_and_code(
    client: FlaskClient, db: Database, world: World
) -> None:
    sign_in(client, db, world, "agent")
    ticket = world.open_ticket(client)
    code = f"{world.contract_code}-I1"
    for q in (code.lower(), "010-6", code):
        html = client.get("/hotline/search", query_string={"q": q}).get_data(as_text=True)
        assert f'data-id="{world.institution_id}"' in html, q
    html = client.get("/hotline/search", query_string={"q": code}).get_data(as_text=True)
    assert ticket["number"] in html  # the institution's open tickets come with it
    html = client.get("/hotline/search", query_string={"q": "bjscsq"}).get_data(as_text=True)
    assert "data-id=" in html  # 北京市测试区…社区 by pinyin initials
    assert "没有与" in client.get("/hotline/search?q=zzzzzz").get_data(as_text=True)


def test_a_resent_form_does_its_step_once(client: FlaskClient, db: Database, world: World) -> None:
    sign_in(client, db, world, "agent")
    html = client.get("/hotline").get_data(as_text=True)
    body = {
        "csrf_token": field(html, "csrf_token"),
        "form_token": field(html, "form_token"),
        "institution_id": world.institution_id,
        "title": "重发的来电",
        "priority": "P3",
    }
    first = client.post("/hotline/calls", data=body)
    again = client.post("/hotline/calls", data=body, follow_redirects=True)
    assert first.status_code == 302
    assert again.request.path == first.headers["Location"]
    assert "此表单已提交过" in again.get_data(as_text=True)
    ticket_id = _ticket_id(first.headers["Location"])
    path = f"/tickets/{ticket_id}"
    html = client.get(path).get_data(as_text=True)
    step = {**_form(html, "form-steps"), "trigger": "acknowledge"}
    assert client.post(f"{path}/steps", data=step).status_code == 302
    assert client.post(f"{path}/steps", data=step).status_code == 302
    session = db.sessions()
    try:
        titles = session.scalars(select(Ticket.id).where(Ticket.title == "重发的来电")).all()
        assert titles == [ticket_id]
        acks = session.scalar(
            select(func.count()).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.trigger == "acknowledge"
            )
        )
        assert acks == 1
        assert (
            session.scalar(select(func.count()).where(FormSubmission.token == step["form_token"]))
            == 1
        )
    finally:
        session.close()
    # A failed step records nothing: the same form can be sent again once it is fixed.
    html = client.get(path).get_data(as_text=True)
    comment = {**_form(html, "form-comment"), "body": ""}
    assert client.post(f"{path}/comments", data=comment).status_code == 422
    comment["body"] = "已电话回访"
    assert client.post(f"{path}/comments", data=comment).status_code == 302


def _form(html: str, form_id: str) -> dict[str, str]:
    from tests.pages import form_of

    return form_of(html, form_id)


def test_call_to_close_through_the_pages(client: FlaskClient, db: Database, world: World) -> None:
    """Agent logs and dispatches, engineer departs, arrives with a position and resolves with
    a photo, the requester confirms; the agent sees it closed with its clocks met."""
    publish_shipped_policy(client, world, "C1")
    agent, engineer, requester = (client.application.test_client() for _ in range(3))
    sign_in(agent, db, world, "agent")
    sign_in(engineer, db, world, "engineer")
    sign_in(requester, db, world, "requester")

    path = _log_call(agent, world, onsite_required="on", reporter_name="刘医生")
    html = agent.get(path).get_data(as_text=True)
    number = re.search(r'id="ticket-number">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert number.startswith("INC-")
    response, _ = post_form(agent, path, "form-assign", assignee_id=str(world.users["engineer"]))
    assert response.status_code == 302
    response, _ = post_form(agent, path, "form-dispatch", assignee_id=str(world.users["engineer"]))
    assert response.status_code == 302

    my_work = engineer.get("/my").get_data(as_text=True)
    assert number in my_work and 'href="geo:' in my_work
    html = engineer.get(path).get_data(as_text=True)
    assert 'value="depart"' in html and 'value="close"' not in html
    response, _ = post_form(engineer, path, "form-steps", trigger="depart")
    assert response.status_code == 302
    response, _ = post_form(
        engineer, path, "form-arrive", latitude="39.9105", longitude="116.4", accuracy="12"
    )
    assert response.status_code == 302
    page = agent.get(path).get_data(as_text=True)
    assert "距机构" in page and "米" in page  # the check-in's distance, shown to staff

    html = engineer.get(path).get_data(as_text=True)
    fields = _form(html, "form-resolve")
    bad = engineer.post(
        f"{path}/steps",
        data={**fields, "note": "更换打印机驱动", "photos": (io.BytesIO(b"MZ\x90"), "a.exe")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and ".exe" in bad.get_data(as_text=True)
    response = engineer.post(
        f"{path}/steps",
        data={**fields, "note": "更换打印机驱动", "photos": (io.BytesIO(PNG), "现场.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302

    html = requester.get(path).get_data(as_text=True)
    assert "现场.png" in html and 'value="close"' in html and 'value="reopen"' in html
    assert "距机构" not in html  # positions are for staff
    response, _ = post_form(requester, path, "form-steps", trigger="close")
    assert response.status_code == 302

    final = agent.get(path).get_data(as_text=True)
    assert 'data-state="closed"' in final
    statuses = re.findall(r'data-metric="(\w+)" data-status="(\w+)"', final)
    assert {m for m, _ in statuses} >= {"response", "arrival"}
    assert all(status == "met" for _, status in statuses), statuses


def test_a_refused_location_still_checks_in_marked(
    client: FlaskClient, db: Database, world: World
) -> None:
    ticket = world.open_ticket(client, onsite_required=True, assignee_id=world.users["engineer"])
    assert world.fire(client, ticket["id"], "dispatch").status_code == 200
    sign_in(client, db, world, "engineer")
    path = f"/tickets/{ticket['id']}"
    response, _ = post_form(client, path, "form-arrive", location_refused="1")
    assert response.status_code == 302
    events = client.get(
        f"/api/v1/tickets/{ticket['id']}/events", headers=world.headers("agent")
    ).get_json()
    arrival = [e for e in events if e["trigger"] == "arrive"][0]
    assert arrival["data"]["location_refused"] is True
    agent = client.application.test_client()
    sign_in(agent, db, world, "agent")
    assert "拒绝定位" in agent.get(path).get_data(as_text=True)


def test_only_allowed_steps_are_buttons(client: FlaskClient, db: Database, world: World) -> None:
    ticket = world.open_ticket(client)
    sign_in(client, db, world, "agent")
    html = client.get(f"/tickets/{ticket['id']}").get_data(as_text=True)
    shown = set(re.findall(r'name="trigger" value="(\w+)"', html))
    assert shown == {"acknowledge", "start_remote", "cancel", "dispatch"}
    stale = {**_form(html, "form-steps"), "trigger": "acknowledge"}
    world.fire(client, ticket["id"], "acknowledge")
    response = client.post(f"/tickets/{ticket['id']}/steps", data=stale)
    assert response.status_code == 412  # someone else moved it since the page was read


def test_queue_lists_nearest_due_first_and_marks_breaches(
    client: FlaskClient, db: Database, world: World
) -> None:
    publish_shipped_policy(client, world, "C4")
    now = clock.now()
    slow = world.open_ticket(
        client, title="后来", reported_at=(now - timedelta(minutes=1)).isoformat()
    )
    fast = world.open_ticket(
        client, title="先来", reported_at=(now - timedelta(minutes=5)).isoformat()
    )
    sign_in(client, db, world, "agent")
    html = client.get("/hotline/queue").get_data(as_text=True)
    order = [
        n
        for n in re.findall(r'data-ticket="([^"]+)"', html)
        if n in (slow["number"], fast["number"])
    ]
    assert order == [fast["number"], slow["number"]]
    with time_machine.travel(clock.now() + timedelta(days=30)):
        sign_in(client, db, world, "agent")  # the first session ended long ago
        html = client.get("/hotline/queue").get_data(as_text=True)
    assert "list-group-item-danger" in html and "超时" in html


def test_every_reason_for_telling_nobody_is_shown_in_the_pages_language(app: Flask) -> None:
    facts = {"who": "li.na", "code": "C1", "duty": "supervisor"}
    for lang, script in (("zh", r"[\u4e00-\u9fff]"), ("en", r"^[\x20-\x7e]+$")):
        with app.test_request_context(headers={"Accept-Language": lang}):
            for text in notices.SKIP_REASONS.values():
                shown = labels.skip_reason(text.format(**facts))
                assert re.search(script, shown), (lang, text, shown)
                assert "li.na" in shown or "{who}" not in text
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert labels.skip_reason("something new") == "something new"
