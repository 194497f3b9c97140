"""Reports asked for from the pages: a button on the inspection page and a quarter form on the
obligations page lead to the report's page, which follows its job and then offers the file."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from itsm.db import Database
from itsm.inspections import jobs
from tests.factories import World
from tests.pages import post_form, sign_in


def report_id_of(location: str) -> int:
    found = re.search(r"/reports/(\d+)$", location)
    assert found, location
    return int(found.group(1))


def test_an_inspection_report_is_asked_for_followed_and_downloaded_on_the_pages(
    client: FlaskClient,
    db: Database,
    world: World,
    done: int,
    worker: Any,
) -> None:
    sign_in(client, db, world, "manager")
    asked, body = post_form(client, f"/inspections/{done}", "form-report", format="pdf")
    assert asked.status_code == 302, asked.get_data(as_text=True)
    report_id = report_id_of(asked.headers["Location"])
    again = client.post(f"/inspections/{done}/report", data=body)  # the same form, resent
    assert again.status_code == 302 and report_id_of(again.headers["Location"]) == report_id
    pending = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in pending and "download" not in pending
    assert jobs.render_report(report_id)["status"] == "done"
    ready = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in ready
    assert f"/reports/{report_id}/download" in ready
    pdf = client.get(f"/reports/{report_id}/download")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.mimetype == "application/pdf"
    pdf.close()


def test_a_quarter_report_is_asked_for_from_the_obligations_page(
    client: FlaskClient,
    db: Database,
    world: World,
    done: int,
    worker: Any,
) -> None:
    sign_in(client, db, world, "manager")
    page = f"/inspections/obligations?contract={world.contract_code}&year=2026"
    asked, _ = post_form(client, page, "form-quarter-report", quarter="2026-Q1", format="xlsx")
    assert asked.status_code == 302, asked.get_data(as_text=True)
    report_id = report_id_of(asked.headers["Location"])
    assert jobs.render_report(report_id)["status"] == "done"
    workbook = client.get(f"/reports/{report_id}/download")
    assert workbook.status_code == 200 and workbook.data.startswith(b"PK")
    workbook.close()


def test_a_report_of_another_contract_is_not_found_on_the_pages(
    client: FlaskClient,
    db: Database,
    world: World,
    other_world: World,
    done: int,
    worker: Any,
) -> None:
    sign_in(client, db, world, "manager")
    asked, _ = post_form(client, f"/inspections/{done}", "form-report", format="pdf")
    report_id = report_id_of(asked.headers["Location"])
    client.post("/signout", data={})
    outsider = FlaskClient(client.application, use_cookies=True)
    sign_in(outsider, db, other_world, "manager")
    assert outsider.get(f"/reports/{report_id}").status_code == 404
    assert outsider.get(f"/reports/{report_id}/download").status_code == 404
