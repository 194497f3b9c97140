"""The pages in headless Chromium (Debian's, driven by Playwright; no browser download).

One browser for the module, the app as a live server in a thread on a free port against a
SQLite database of its own. Screenshots of every page at 375 px and 1280 px go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from itsm import clock, migrate
from itsm.app import create_app
from itsm.directory.models import Contract
from itsm.inspections.models import Inspection
from itsm.inspections.services import inspections
from tests.e2e.test_inspections_api import publish
from tests.factories import World, build_world, publish_shipped_policy
from tests.pages import PASSWORD, give_password, username

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 740}
DESK = {"width": 1280, "height": 860}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# Where the engineer's phone says it is: about 1 km north of the world's first institution.
NEAR = {"latitude": 39.919, "longitude": 116.4, "accuracy": 15}

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs it (as root)")
    pytest.skip(
        f"{CHROMIUM} is missing: run `make test` as root to install it", allow_module_level=True
    )


@dataclass
class Live:
    url: str
    app: Flask
    world: World
    inspection_id: int
    """The first on-site device inspection of the world's plan (not yet assigned)."""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{folder / 'live.sqlite3'}"
    migrate.upgrade(database_url)
    app = create_app(
        instance_path=folder,
        database_url=database_url,
        redis_url="",
        secret_key="live-test",
        ITSM_QUEUE_REFRESH_SECONDS=1,
    )
    db = app.extensions["itsm.db"]
    world = build_world(db)
    publish_shipped_policy(app.test_client(), world, "C1")
    inspection_id = _plan_inspections(app, db, world)
    for who in ("agent", "engineer", "requester", "manager"):
        give_password(db, world, who)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(f"http://127.0.0.1:{server.server_port}", app, world, inspection_id)
    server.shutdown()
    thread.join(5)
    db.dispose()


def _plan_inspections(app: Flask, db: Any, world: World) -> int:
    """The API tests' weekly on-site device plan, its next 60 days generated; the first one."""
    publish(app.test_client(), world)
    now = clock.now()
    with db.transaction() as session:
        contract = session.get_one(Contract, world.contract_id)
        inspections.generate(session, contract, now.date() + timedelta(days=60), now)
        first = session.scalars(
            select(Inspection.id)
            .where(Inspection.contract_id == world.contract_id)
            .order_by(Inspection.day, Inspection.id)
        ).first()
    assert first is not None
    return first


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


CSP_VIOLATIONS: list[str] = []
"""What Chromium refused under the pages' Content-Security-Policy (it says so on the console)."""


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[None]:
    """The pages' scripts, styles and images all pass the policy: nothing was refused."""
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == []


def _note_csp_violation(message: Any) -> None:
    if "Content Security Policy" in message.text:
        CSP_VIOLATIONS.append(f"{message.location.get('url')}: {message.text}")


def _context(browser: Any, live: Live, viewport: dict[str, int], **options: Any) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", **options)
    context.on("console", _note_csp_violation)
    context.set_default_timeout(10_000)
    context.base_url = live.url  # type: ignore[attr-defined]
    return context


def _sign_in(page: Any, live: Live, who: str) -> None:
    page.goto(live.url + "/")
    page.fill("#username", username(live.world, who))
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/signin" not in page.url, page.content()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page: Any) -> None:
    sizes = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"{page.url} scrolls sideways at 375 px: {sizes}"


def test_call_to_close_in_the_browser(browser: Any, live: Live) -> None:
    world = live.world
    api = live.app.test_client()

    # The agent finds the institution by pinyin initials and logs the call.
    agent_context = _context(browser, live, DESK)
    agent = agent_context.new_page()
    _sign_in(agent, live, "agent")
    assert agent.url.endswith("/hotline")
    agent.locator("#q").press_sequentially("bjscsq", delay=20)
    agent.click(f'#results a.pick[data-id="{world.institution_id}"]')
    assert "社区卫生服务中心" in agent.inner_text("#institution_name")

    # The queue refreshes itself without losing what the agent is typing.
    agent.fill("#title", "收费系统无法打印发票")
    other = world.open_ticket(api, title="队列刷新")
    agent.wait_for_selector(f'#queue [data-ticket="{other["number"]}"]')
    assert agent.input_value("#title") == "收费系统无法打印发票"

    agent.select_option("#priority", "P2")
    agent.select_option("#category", "software")
    agent.select_option("#configuration_item_id", str(world.configuration_item_id))
    agent.check("#onsite_required")
    agent.click("#call-form button[type=submit]")
    agent.wait_for_url(re.compile(r"/tickets/\d+$"))
    number = agent.inner_text("#ticket-number")
    assert number.startswith("INC-") and number in agent.inner_text("main .alert")
    ticket_path = agent.url.removeprefix(live.url)
    agent.select_option("#assignee", str(world.users["engineer"]))
    agent.click("#form-assign button[type=submit]")
    agent.wait_for_load_state()
    assert "engineer" in agent.inner_text("#assignee-name")
    agent.click("#form-dispatch button[type=submit]")
    agent.wait_for_selector('#ticket-state[data-state="dispatched"]')

    # The engineer, on a phone, departs, arrives with a position and resolves with a photo.
    engineer_context = _context(
        browser,
        live,
        PHONE,
        geolocation={"latitude": NEAR["latitude"], "longitude": NEAR["longitude"]},
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
    )
    engineer = engineer_context.new_page()
    _sign_in(engineer, live, "engineer")
    assert engineer.url.endswith("/my")
    card = engineer.locator(f'.work-card[data-ticket="{number}"]')
    assert card.locator("a.map-link").get_attribute("href").startswith("geo:")
    card.locator(f'a:has-text("{number}")').click()
    engineer.click('button[value="depart"]')
    engineer.wait_for_selector('#ticket-state[data-state="en_route"]')
    engineer.click("#form-arrive button[type=submit]")
    engineer.wait_for_selector('#ticket-state[data-state="on_site"]')
    engineer.fill("#resolve-note", "更换打印机驱动后恢复")
    engineer.set_input_files(
        "#resolve-photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}]
    )
    engineer.click("#form-resolve button[type=submit]")
    engineer.wait_for_selector('#ticket-state[data-state="resolved"]')
    assert "现场.png" in engineer.inner_text(".files")

    # The requester confirms the fix.
    requester_context = _context(browser, live, PHONE)
    requester = requester_context.new_page()
    _sign_in(requester, live, "requester")
    requester.click(f'.portal-card[data-ticket="{number}"] a')
    requester.click('button[value="close"]')
    requester.wait_for_selector('#ticket-state[data-state="closed"]')

    # The agent sees it closed, its clocks met, and where the engineer checked in.
    agent.goto(live.url + ticket_path)
    assert agent.get_attribute("#ticket-state", "data-state") == "closed"
    statuses = agent.eval_on_selector_all(
        ".clock", "els => els.map(e => [e.dataset.metric, e.dataset.status])"
    )
    assert {m for m, _ in statuses} >= {"response", "arrival"}
    assert all(s == "met" for _, s in statuses), statuses
    distance = agent.inner_text(".arrival-position")
    assert re.search(r"距机构 \d+ 米", distance), distance
    for context in (agent_context, engineer_context, requester_context):
        context.close()


PAGES = {
    "agent": [
        "/hotline?q=bjscsq",
        "{ticket}",
        "/nowhere-ticket",
        "/inspections",
        "/account/tokens",
    ],
    "manager": [
        "/inspections/obligations",
        "/inspections/obligations?year=2026&month=2026-10",
        "{inspection}",
    ],
    "engineer": ["/my", "{ticket}", "/inspections", "{inspection}"],
    "requester": ["/portal", "/portal/new", "{ticket}", "/inspections"],
}


def test_every_page_fits_a_phone_and_is_screenshot(browser: Any, live: Live) -> None:
    world = live.world
    ticket = world.open_ticket(  # a C1 hardware fault: clocks, their clause, one awaited
        live.app.test_client(),
        onsite_required=True,
        assignee_id=world.users["engineer"],
        category="hardware",
    )
    anonymous = _context(browser, live, PHONE).new_page()
    anonymous.goto(live.url + "/")
    _no_sideways_scroll(anonymous)
    _shot(anonymous, "signin-375")
    anonymous.set_viewport_size(DESK)
    _shot(anonymous, "signin-1280")
    anonymous.context.close()
    for who, paths in PAGES.items():
        context = _context(browser, live, PHONE)
        page = context.new_page()
        _sign_in(page, live, who)
        for path in paths:
            path = path.replace("{ticket}", f"/tickets/{ticket['id']}")
            path = path.replace("{inspection}", f"/inspections/{live.inspection_id}")
            if path == "/nowhere-ticket":
                path = "/tickets/2147483647"
            name = f"{who}-" + (re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "home")[:60]
            page.set_viewport_size(PHONE)
            page.goto(live.url + path)
            title = page.title()
            assert title and "·" in title, path
            _no_sideways_scroll(page)
            _shot(page, f"{name}-375")
            page.set_viewport_size(DESK)
            _no_sideways_scroll(page)
            _shot(page, f"{name}-1280")
        context.close()


def test_an_engineer_runs_an_inspection_s_checklist_on_a_phone(browser: Any, live: Live) -> None:
    """Assigned by the manager on the inspection page; on the phone the engineer finds it on
    My work, starts it on site with the phone's position, answers the checklist (a number over
    its bound is marked a fault as it is typed), adds a photo from the camera and saves."""
    world, path = live.world, f"/inspections/{live.inspection_id}"
    manager_context = _context(browser, live, DESK)
    manager = manager_context.new_page()
    _sign_in(manager, live, "manager")
    manager.goto(live.url + path)
    manager.select_option("#assign-assignee", str(world.users["engineer"]))
    manager.click("#form-assign button[type=submit]")
    manager.wait_for_selector('#inspection-state[data-state="assigned"]')

    context = _context(
        browser,
        live,
        PHONE,
        geolocation={"latitude": NEAR["latitude"], "longitude": NEAR["longitude"]},
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
    )
    engineer = context.new_page()
    _sign_in(engineer, live, "engineer")
    number = manager.inner_text("#inspection-number")
    engineer.click(f'.inspection-card[data-inspection="{number}"] a.btn')
    engineer.click("#form-start button[type=submit]")
    engineer.wait_for_selector('#inspection-state[data-state="in_progress"]')
    engineer.check("#answer-hosts-ok")
    engineer.fill("#answer-cpu", "95")
    assert "fault" in (engineer.get_attribute("#item-cpu", "class") or "")
    engineer.set_input_files(
        "#photo-photo", files=[{"name": "机房.png", "mimeType": "image/png", "buffer": PNG}]
    )
    _no_sideways_scroll(engineer)
    engineer.click("#form-checklist button[type=submit]")
    engineer.wait_for_selector("#faults")
    assert "CPU 使用率" in engineer.inner_text("#faults")
    assert engineer.locator("#item-photo img.thumb-sm").count() == 1
    assert engineer.is_visible("#complete")
    engineer.click('#form-steps button[value="submit"]')
    engineer.wait_for_selector('#inspection-state[data-state="submitted"]')
    _no_sideways_scroll(engineer)
    manager.goto(live.url + path)
    assert re.search(r"距机构 \d+ 米", manager.inner_text(".start-position"))
    for c in (manager_context, context):
        c.close()
