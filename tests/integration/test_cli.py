"""The `itsm` command as a script would drive it, on the full demo data (SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itsm.accounts.models import User
from itsm.accounts.services import users
from itsm.app import create_app
from itsm.demo.loader import DEMO_PASSWORD
from itsm.directory.models import ConfigurationItem, Contract, District, Institution
from tests.pages import field

ITSM = [sys.executable, "-m", "itsm.cli"]


def run(instance: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ITSM_INSTANCE_PATH": str(instance)}
    env.pop("ITSM_DATABASE_URL", None)
    return subprocess.run(
        [*ITSM, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    instance = tmp_path_factory.mktemp("demo-instance")
    return instance, [run(instance, "demo", "--no-serve") for _ in range(2)]


@pytest.fixture(scope="module")
def demo_app(demo: tuple[Path, list[subprocess.CompletedProcess[str]]]) -> Iterator[Flask]:
    instance, _ = demo
    app = create_app(instance_path=instance, database_url=f"sqlite:///{instance / 'itsm.sqlite3'}")
    yield app
    app.extensions["itsm.db"].dispose()


def test_demo_loads_once_and_says_how_to_sign_in(demo) -> None:  # type: ignore[no-untyped-def]
    _, (first, second) = demo
    assert first.returncode == 0, first.stderr
    assert "demo data loaded" in first.stdout
    assert "password for all" in first.stdout and "API token for agent1" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "nothing loaded" in second.stdout


EXPECTED = {"C0": 1_360, "C1": 1 + 19 + 11_174, "C2": 3 + 35, "C3": 1, "C4": 29}


def test_demo_data_is_at_the_contracts_real_scale(demo_app: Flask) -> None:
    with demo_app.extensions["itsm.db"].sessions() as session:
        per_contract = dict(
            session.execute(
                select(Contract.code, func.count(Institution.id))
                .join(Institution, Institution.contract_id == Contract.id)
                .group_by(Contract.code)
            ).all()
        )
        c3_systems = session.scalar(
            select(func.count(ConfigurationItem.id)).join(Contract).where(Contract.code == "C3")
        )
        beijing = session.scalar(select(func.count(District.id)).where(District.city == "北京市"))
        usernames = set(session.scalars(select(User.username)))
    assert per_contract == EXPECTED
    assert c3_systems == 50
    assert beijing == 16
    assert {"admin", "agent1", "engineer1", "engineer2", "manager1", "requester1"} <= usernames


def test_demo_data_carries_what_the_sla_rules_match(demo_app: Flask) -> None:
    """The loader writes the remote areas (C1-7) and the systems' groups (C4-2)."""
    with demo_app.extensions["itsm.db"].sessions() as session:
        remote_tiers = set(
            session.scalars(
                select(District.tier).join(Institution).where(Institution.remote_area.is_(True))
            )
        )
        c4_groups = dict(
            session.execute(
                select(ConfigurationItem.name, ConfigurationItem.group)
                .join(Contract)
                .where(Contract.code == "C4")
            ).all()
        )
    assert remote_tiers == {"far_suburb"}
    assert c4_groups["医院信息系统"] == "his" and c4_groups["互联互通服务"] == "interoperability"


def test_token_create_prints_a_working_token_on_the_last_line(demo, demo_app: Flask) -> None:  # type: ignore[no-untyped-def]
    instance, _ = demo
    result = run(instance, "token", "create", "agent1")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    me = demo_app.test_client().get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200 and me.get_json()["username"] == "agent1"
    unknown = run(instance, "token", "create", "nobody")
    assert unknown.returncode != 0 and "no user named 'nobody'" in unknown.stderr


def test_token_list_and_revoke(demo, demo_app: Flask) -> None:  # type: ignore[no-untyped-def]
    instance, _ = demo
    created = run(instance, "token", "create", "agent2", "--name", "值班大屏", "--days", "30")
    assert created.returncode == 0, created.stderr
    assert "valid until" in created.stderr
    token = created.stdout.strip().splitlines()[-1]
    listed = run(instance, "token", "list", "agent2")
    assert listed.returncode == 0, listed.stderr
    newest = listed.stdout.splitlines()[0].split("\t")
    token_id, created_at, expires_at, revoked_at, name = newest
    assert name == "值班大屏" and revoked_at == "-" and expires_at > created_at
    revoked = run(instance, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert f"token {token_id} of agent2 revoked" in revoked.stdout
    assert run(instance, "token", "list", "agent2").stdout.splitlines()[0].split("\t")[3] != "-"
    me = demo_app.test_client().get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 401
    unknown = run(instance, "token", "revoke", "2147483647")
    assert unknown.returncode != 0 and "no token 2147483647" in unknown.stderr
    assert run(instance, "token", "list", "nobody").returncode != 0


def _browser(app: Flask, username: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    """A browser signed in to the pages as `username`."""
    client = app.test_client()
    token = field(client.get("/signin").get_data(as_text=True), "csrf_token")
    response = client.post(
        "/signin", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/my").status_code == 200


def test_user_passwd_reads_the_password_from_stdin(demo, demo_app: Flask) -> None:  # type: ignore[no-untyped-def]
    instance, _ = demo
    browser = _browser(demo_app, "engineer1")
    result = run(instance, "user", "passwd", "engineer1", stdin="新的密码-2026年\n")
    assert result.returncode == 0, result.stderr
    assert not _signed_in(browser)
    with demo_app.extensions["itsm.db"].sessions() as session:
        assert users.check_password(session, "engineer1", "新的密码-2026年") is not None
        assert users.check_password(session, "engineer1", "itsm-demo-2026") is None
    short = run(instance, "user", "passwd", "engineer1", stdin="short\n")
    assert short.returncode != 0 and "at least 10 characters" in short.stderr


def test_user_sign_out_ends_the_users_page_sessions(demo, demo_app: Flask) -> None:  # type: ignore[no-untyped-def]
    instance, _ = demo
    browser = _browser(demo_app, "engineer2")
    assert _signed_in(browser)
    result = run(instance, "user", "sign-out", "engineer2")
    assert result.returncode == 0, result.stderr
    assert not _signed_in(browser)
    assert _signed_in(_browser(demo_app, "engineer2"))
    unknown = run(instance, "user", "sign-out", "nobody")
    assert unknown.returncode != 0 and "no user named 'nobody'" in unknown.stderr


def test_user_deactivate_stops_a_user_until_activated(demo, demo_app: Flask) -> None:  # type: ignore[no-untyped-def]
    instance, _ = demo
    browser = _browser(demo_app, "manager1")
    result = run(instance, "user", "deactivate", "manager1")
    assert result.returncode == 0, result.stderr
    assert not _signed_in(browser)
    refused = demo_app.test_client()
    token = field(refused.get("/signin").get_data(as_text=True), "csrf_token")
    data = {"username": "manager1", "password": DEMO_PASSWORD, "csrf_token": token}
    assert refused.post("/signin", data=data).status_code == 401
    assert run(instance, "user", "activate", "manager1").returncode == 0
    assert not _signed_in(browser)
    assert _signed_in(_browser(demo_app, "manager1"))


def _search(app: Flask, q: str) -> dict:  # type: ignore[type-arg]
    with app.extensions["itsm.db"].transaction() as session:
        token = users.create_token(session, "agent1")
    response = app.test_client().get(
        "/api/v1/institutions",
        query_string={"q": q, "per_page": 50},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def test_institutions_are_found_by_pinyin_initials_code_and_phone(demo_app: Flask) -> None:
    by_initials = _search(demo_app, "bjsxc")
    assert by_initials["total"] > 10
    assert all(i["name"].startswith("北京市西城") for i in by_initials["items"])
    first = by_initials["items"][0]
    by_code = _search(demo_app, first["code"])
    assert [i["id"] for i in by_code["items"]] == [first["id"]]
    phone = first["phones"][0]
    by_phone = _search(demo_app, phone.replace("-", " "))
    assert [i["id"] for i in by_phone["items"]] == [first["id"]]


def test_calendar_load_corrects_a_year_without_a_release(demo, demo_app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    instance, _ = demo
    year = tmp_path / "2098.json"
    year.write_text(
        '{"year": 2098, "holidays": ["2098-01-01"], "workdays": ["2098-01-04"]}', "utf-8"
    )
    result = run(instance, "calendar", "load", str(year))
    assert result.returncode == 0, result.stderr
    assert "loaded 2098: 1 holidays, 1 make-up working days" in result.stdout
    with demo_app.extensions["itsm.db"].transaction() as session:
        token = users.create_token(session, "agent1")
    days = (
        demo_app.test_client()
        .get(
            "/api/v1/calendars/cn-5x8/days?from=2098-01-01&to=2098-01-05",
            headers={"Authorization": f"Bearer {token}"},
        )
        .get_json()
    )
    assert days["fallback"] is False
    # Wed 1st a holiday, Thu, Fri working, Sat 4th a make-up working day, Sun 5th off
    assert [d["is_working_day"] for d in days["days"]] == [False, True, True, True, False]
    bad = tmp_path / "bad.json"
    bad.write_text('{"year": 2098, "holidays": ["2097-12-31"], "workdays": []}', "utf-8")
    refused = run(instance, "calendar", "load", str(bad))
    assert refused.returncode != 0 and "2097-12-31" in refused.stderr


def test_sla_sweep_command_reports_what_it_marked(demo) -> None:  # type: ignore[no-untyped-def]
    instance, _ = demo
    result = run(instance, "sla", "sweep")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("warned ")


def test_a_fresh_installation_gets_its_first_admin_by_the_readme_s_commands(
    tmp_path: Path,
) -> None:
    """The deploy recipe on an empty database: `itsm db upgrade`, then `itsm user create admin
    --role admin` with the password on standard input, then `itsm user passwd admin`."""
    instance = tmp_path / "fresh"
    assert run(instance, "db", "upgrade").returncode == 0
    created = run(
        instance, "user", "create", "admin", "--role", "admin", stdin="初始管理员密码-2026\n"
    )
    assert created.returncode == 0, created.stderr
    assert run(instance, "user", "passwd", "admin", stdin="another-long-password\n").returncode == 0
    again = run(
        instance, "user", "create", "admin", "--role", "admin", stdin="初始管理员密码-2026\n"
    )
    assert again.returncode != 0 and "exists already" in again.stderr
    short = run(instance, "user", "create", "ops", "--role", "agent", stdin="short\n")
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    empty = run(instance, "user", "create", "ops", "--role", "agent", stdin="\n")
    assert empty.returncode != 0 and "at least 10 characters" in empty.stderr
    requester = run(instance, "user", "create", "it1", "--role", "requester", stdin="x" * 12 + "\n")
    assert requester.returncode != 0 and "--institution" in requester.stderr
    unknown = run(
        instance,
        "user",
        "create",
        "eng1",
        "--role",
        "engineer",
        "--contract",
        "C9",
        stdin="x" * 12 + "\n",
    )
    assert unknown.returncode != 0 and "no contract with the code C9" in unknown.stderr
    app = create_app(instance_path=instance, database_url=f"sqlite:///{instance / 'itsm.sqlite3'}")
    try:
        with app.extensions["itsm.db"].sessions() as session:
            admin = users.check_password(session, "admin", "another-long-password")
            assert admin is not None and admin.role == "admin" and admin.active
            assert users.get_by_username(session, "admin").display_name == "admin"
    finally:
        app.extensions["itsm.db"].dispose()
