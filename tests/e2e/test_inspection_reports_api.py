"""Inspection reports over HTTP: asked for (202 with the report's Location), rendered by the
job (run here in this process, as a worker would), polled until done, fetched; the same
request twice is one report; a failure is told; and nobody reaches a report of what they may
not see."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from itsm.db import Database
from itsm.inspections import jobs
from itsm.inspections.reports import workbook
from itsm.models.outbox import OutboxMessage
from tests.factories import World


def ask(client: FlaskClient, world: World, url: str, who: str) -> Any:
    response = client.get(url, headers=world.headers(who))
    response.get_data()  # a file sent is read whole, then its handle closed
    response.close()
    return response


def test_a_report_is_asked_for_rendered_by_the_job_polled_and_fetched(
    client: FlaskClient, db: Database, world: World, done: int, worker: None
) -> None:
    url = f"/api/v1/inspections/{done}/report?format=pdf"
    asked = ask(client, world, url, "requester")  # the hospital's IT staff, of its institution
    assert asked.status_code == 202, asked.get_json()
    body = asked.get_json()
    report_id = body["id"]
    assert asked.headers["Location"] == f"/api/v1/reports/{report_id}"
    assert asked.headers["Retry-After"] == "2"
    assert body["status"] == "pending" and body["file"] is None
    assert (body["kind"], body["subject"], body["format"]) == ("inspection", str(done), "pdf")
    # Asked again while it is pending (a double click): the same report, one job.
    assert ask(client, world, url, "requester").get_json()["id"] == report_id
    with db.sessions() as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == f"report:{report_id}")
        ).all()
    assert [(m.kind, m.payload) for m in queued] == [("render_report", {"report_id": report_id})]

    pending = ask(client, world, asked.headers["Location"], "requester")
    assert pending.status_code == 200 and pending.get_json()["status"] == "pending"
    assert pending.headers["Retry-After"] == "2"
    early = ask(client, world, f"/api/v1/reports/{report_id}/file", "requester")
    assert early.status_code == 409 and "still being rendered" in early.get_json()["message"]

    assert jobs.render_report(report_id)["status"] == "done"
    finished = ask(client, world, asked.headers["Location"], "requester").get_json()
    assert finished["status"] == "done" and finished["finished_at"]
    assert finished["file"] == f"/api/v1/reports/{report_id}/file"
    assert finished["filename"].endswith("设备巡检报告.pdf")
    fetched = ask(client, world, finished["file"], "requester")
    assert fetched.status_code == 200 and fetched.mimetype == "application/pdf"
    assert "filename*=UTF-8''INS-2026-" in fetched.headers["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(fetched.data)).pages)
    assert "设备巡检报告" in text and "CPU 使用率" in text and "CPU 偏高，建议扩容。" in text

    # A job run again (a retry, a redispatch) leaves the done report as it is.
    (stored,) = Path(jobs.reports_folder()).glob(f"*/{report_id}.pdf")  # by month asked for
    before = stored.stat().st_mtime_ns
    assert jobs.render_report(report_id) == {"status": "done"}
    assert stored.stat().st_mtime_ns == before


def test_a_quarter_as_a_workbook_for_the_contract_s_staff(
    client: FlaskClient, world: World, done: int, worker: None
) -> None:
    url = f"/api/v1/contracts/{world.contract_code}/inspection-report?quarter=2026-Q1&format=xlsx"
    asked = ask(client, world, url, "manager")
    assert asked.status_code == 202, asked.get_json()
    report_id = asked.get_json()["id"]
    assert asked.get_json()["params"] == {"quarter": "2026-Q1"}
    jobs.render_report(report_id)
    fetched = ask(client, world, f"/api/v1/reports/{report_id}/file", "agent")
    assert fetched.status_code == 200
    assert fetched.mimetype == ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(fetched.data))
    rows = list(book["季度汇总"].iter_rows(values_only=True))
    device = next(row for row in rows if row[0] == "设备巡检")
    # 12 weeks with a working day in the quarter (the Spring Festival week has none); one
    # generated and submitted (done), none missed.
    assert device[2:8] == (52, 12, 1, 0, 0, 0)


@pytest.mark.parametrize(("who", "status"), [("engineer", 403), ("requester", 403), ("agent", 202)])
def test_the_quarter_is_for_the_vendor_s_agents_managers_and_admins(
    client: FlaskClient, world: World, who: str, status: int
) -> None:
    url = f"/api/v1/contracts/{world.contract_code}/inspection-report?quarter=2026-Q1"
    assert ask(client, world, url, who).status_code == status


def test_a_quarter_or_format_written_wrong_is_refused_saying_how(
    client: FlaskClient, world: World, done: int
) -> None:
    base = f"/api/v1/contracts/{world.contract_code}/inspection-report"
    bad = ask(client, world, f"{base}?quarter=2026-5", "manager")
    assert bad.status_code == 422 and "2026-Q1" in bad.get_json()["message"]
    assert ask(client, world, base, "manager").status_code == 422
    wrong = ask(client, world, f"/api/v1/inspections/{done}/report?format=docx", "manager")
    assert wrong.status_code == 422


def test_nobody_reaches_a_report_of_what_they_may_not_see(
    client: FlaskClient, world: World, other_world: World, done: int
) -> None:
    mine = ask(client, world, f"/api/v1/inspections/{done}/report", "manager")
    report_id = mine.get_json()["id"]
    quarter = ask(
        client,
        world,
        f"/api/v1/contracts/{world.contract_code}/inspection-report?quarter=2026-Q1",
        "manager",
    ).get_json()["id"]
    for url in (
        f"/api/v1/inspections/{done}/report",
        f"/api/v1/contracts/{world.contract_code}/inspection-report?quarter=2026-Q1",
        f"/api/v1/reports/{report_id}",
        f"/api/v1/reports/{report_id}/file",
        f"/api/v1/reports/{quarter}",
    ):
        for who in ("manager", "requester"):
            assert ask(client, other_world, url, who).status_code == 404, (url, who)
    # The hospital's other institution sees neither that inspection nor its report; nor does
    # a requester see the contract's quarter.
    assert ask(client, world, f"/api/v1/inspections/{done}/report", "requester2").status_code == 404
    assert ask(client, world, f"/api/v1/reports/{report_id}", "requester2").status_code == 404
    assert ask(client, world, f"/api/v1/reports/{quarter}", "requester").status_code == 404
    assert ask(client, world, f"/api/v1/reports/{quarter}", "agent").status_code == 200
    assert ask(client, world, "/api/v1/reports/2147483647", "admin").status_code == 404


def test_a_report_that_cannot_be_rendered_says_why(
    client: FlaskClient, world: World, done: int, worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(report: Any) -> bytes:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(workbook, "workbook", broken)
    report_id = ask(
        client, world, f"/api/v1/inspections/{done}/report?format=xlsx", "manager"
    ).get_json()["id"]
    with pytest.raises(RuntimeError):
        jobs.render_report(report_id)  # raised, for RQ to record (with no retries left here)
    failed = ask(client, world, f"/api/v1/reports/{report_id}", "manager")
    assert failed.get_json()["status"] == "failed" and "Retry-After" not in failed.headers
    assert failed.get_json()["error"] == "RuntimeError: the disk is full"
    refused = ask(client, world, f"/api/v1/reports/{report_id}/file", "manager")
    assert refused.status_code == 409 and "the disk is full" in refused.get_json()["message"]
