"""Inspection reports on the service layer: a C3 quarter (one inspection done clean, one with
a fault and its ticket, one missed) and a C1 device inspection, read, laid out and rendered to
PDF and XLSX, and read back as their user would (the text of the PDF, the cells of the
workbook). The rendered files are kept in test-artifacts/reports/ to look at."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm import workflow_runner
from itsm.errors import InvalidInput
from itsm.inspections.models import INSPECTION, Inspection, InspectionPlan
from itsm.inspections.reports import data, document, workbook
from itsm.inspections.services import inspections, transitions
from tests.service.test_inspections import People, contract, of_contract, site

SHANGHAI = ZoneInfo("Asia/Shanghai")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
NEW_YEAR = datetime(2026, 1, 5, 8, 0, tzinfo=SHANGHAI)
AFTER_Q1 = datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def inspection_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(workflow_runner.KINDS, INSPECTION, transitions.KIND)


def keep(name: str, content: bytes, session: Session) -> None:
    """Write a rendered file where a person can open it (one per backend)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{session.get_bind().dialect.name}-{name}").write_bytes(content)


def work(
    session: Session,
    people: People,
    inspection: Inspection,
    at: datetime,
    answers: dict[str, Any],
    fault_ticket: str | None = None,
) -> None:
    """Assign, start, answer, (open a ticket for a fault,) submit and accept, from `at` on."""
    engineer, manager = people.actor("engineer"), people.actor("manager")
    with time_machine.travel(at, tick=False):
        transitions.fire(
            session,
            manager,
            inspection.id,
            inspection.version,
            "assign",
            assignee_id=people.users["engineer"].id,
        )
    with time_machine.travel(at + timedelta(minutes=30), tick=False):
        transitions.fire(session, engineer, inspection.id, inspection.version, "start")
        inspections.put_checklist(session, engineer, inspection.id, inspection.version, answers)
        if fault_ticket:
            inspections.open_ticket(session, engineer, inspection.id, fault_ticket, {})
    with time_machine.travel(at + timedelta(hours=2), tick=False):
        transitions.fire(session, engineer, inspection.id, inspection.version, "submit")
    with time_machine.travel(at + timedelta(days=1), tick=False):
        transitions.fire(session, manager, inspection.id, inspection.version, "accept")


@dataclass
class Quarter:
    contract: Any
    people: People
    by_kind: dict[str, Inspection]


@pytest.fixture
def c3_quarter(session: Session) -> Iterator[Quarter]:
    """C3's first quarter of 2026: the quarterly inspection done clean with advice, the
    database server inspection with a full tablespace and its ticket, the pre-holiday one
    missed."""
    c3 = contract(session, "C3")
    site(session, c3)
    people = People(session, c3)
    with time_machine.travel(NEW_YEAR, tick=False):
        inspections.generate(session, c3, date(2026, 3, 31), NEW_YEAR)
    by_kind = {i.kind: i for i in of_contract(session, c3) if i.day < date(2026, 4, 1)}
    assert set(by_kind) == {"quarterly", "pre_holiday", "db_server"}
    quarterly = by_kind["quarterly"]
    work(
        session,
        people,
        quarterly,
        datetime.combine(quarterly.day, datetime.min.time(), SHANGHAI) + timedelta(hours=9),
        {
            "clients": "ok",
            "app_servers": "ok",
            "db_servers": "ok",
            "findings": "各系统运行正常。建议门诊高峰前清理应用服务器日志，预留磁盘空间。",
        },
    )
    missed = by_kind["pre_holiday"]
    closed = datetime.combine(missed.window_end, datetime.min.time(), SHANGHAI) + timedelta(
        hours=17, minutes=1
    )
    with time_machine.travel(closed, tick=False):
        workflow_runner.pass_instants(session, closed)
    db = by_kind["db_server"]
    work(
        session,
        people,
        db,
        datetime.combine(db.day, datetime.min.time(), SHANGHAI) + timedelta(hours=9),
        {"instances": "ok", "cpu": 35, "memory": 62.5, "tablespace": 93, "backup_age": 4},
        fault_ticket="tablespace",
    )
    session.expire_all()  # read afresh, as the job does in a session of its own
    yield Quarter(c3, people, by_kind)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def pdf_fonts(content: bytes) -> set[tuple[str, bool]]:
    """(base font name without its subset tag, whether its file is embedded) of every font."""
    found = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                found.add((str(descendant.get_object()["/BaseFont"]).split("+")[-1], embedded))
    return found


def test_a_quarter_counts_as_the_ledger_does(session: Session, c3_quarter: Quarter) -> None:
    report = data.quarter_report(session, c3_quarter.contract, "2026-Q1", "经理", AFTER_Q1)
    lines = {line.kind: line for line in report.kinds}
    assert (lines["quarterly"].planned, lines["quarterly"].done) == (1, 1)
    assert (lines["db_server"].planned, lines["db_server"].done) == (1, 1)
    assert (lines["pre_holiday"].planned, lines["pre_holiday"].missed) == (1, 1)
    assert lines["half_year_on_site"].planned == 0  # May and November
    assert (report.total.planned, report.total.done, report.total.missed) == (3, 2, 1)
    # Over the year's four quarters, the counts are the obligations ledger's.
    year = [
        data.quarter_report(session, c3_quarter.contract, f"2026-Q{q}", "经理", AFTER_Q1)
        for q in (1, 2, 3, 4)
    ]
    for line in inspections.ledger(session, c3_quarter.contract, 2026, AFTER_Q1):
        quarters = [next(k for k in r.kinds if k.kind == line.kind) for r in year]
        assert sum(k.planned for k in quarters) == line.planned
        assert sum(k.done for k in quarters) == line.done
        assert sum(k.missed for k in quarters) == line.missed
        assert quarters[0].required == line.required


def test_the_quarter_says_who_did_what_when_and_what_was_found(
    session: Session, c3_quarter: Quarter
) -> None:
    report = data.quarter_report(session, c3_quarter.contract, "2026-Q1", "经理", AFTER_Q1)
    assert [s.kind for s in report.sheets] == ["quarterly", "pre_holiday", "db_server"]
    quarterly, missed, db = report.sheets
    engineer = c3_quarter.people.users["engineer"].display_name
    manager = c3_quarter.people.users["manager"].display_name
    assert quarterly.assignee == engineer and quarterly.submitted_by == engineer
    assert quarterly.accepted_by == manager and quarterly.state_label == "已验收"
    assert quarterly.submitted_at == f"{quarterly.day} 11:00"
    assert not quarterly.faults and quarterly.findings[0].text.startswith("各系统运行正常")
    assert missed.state_label == "已错过" and missed.closed_at == "2026-02-14 17:01"
    assert not missed.answered
    (fault,) = db.faults
    assert (fault.label, fault.answer, fault.standard) == ("表空间使用率", "93%", "≤ 85%")
    assert fault.tickets == db.tickets[0].number and db.tickets[0].state == "新建"
    assert db.findings[0].text == "93%，超出标准（≤ 85%）"
    assert db.findings[0].action == f"已开工单 {db.tickets[0].number}（新建）"
    memory = next(i for i in db.items if i.key == "memory")
    assert (memory.value, memory.answer, memory.verdict) == (62.5, "62.5%", "正常")
    assert report.engineers == engineer and report.period == "2026年第1季度"


def test_c3_s_quarter_is_on_the_hospital_s_form_in_a_pdf_with_the_cjk_font_embedded(
    session: Session, c3_quarter: Quarter
) -> None:
    report = data.quarter_report(session, c3_quarter.contract, "2026-Q1", "经理", AFTER_Q1)
    html = document.html(report)
    assert "医院信息系统季度巡检报告" in html and "公司盖章" in html
    content = document.pdf(html)
    keep("C3-2026-Q1.pdf", content, session)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    for words in ("医院信息系统季度巡检报告", "数据库实例运行状态", "表空间使用率", "公司盖章"):
        assert words in text
    fonts = pdf_fonts(content)
    assert fonts and all(embedded for _, embedded in fonts)
    assert {name.removesuffix("-Bold") for name, _ in fonts} == {
        "Noto-Sans-CJK-SC",
        "Noto-Serif-CJK-SC",  # the form's title
    }


def test_a_contract_with_no_form_of_its_own_gets_the_default_layout(session: Session) -> None:
    c1 = contract(session, "C1")
    report = data.quarter_report(session, c1, "2026-Q2", "经理", AFTER_Q1)
    html = document.html(report)
    assert "2026年第2季度巡检报告" in html and "公司盖章" not in html
    lines = {line.kind: line for line in report.kinds}
    assert lines["system"].planned == 13 and lines["system"].done == 0
    # Read without writing: the shipped plan was read, not published as version 1.
    plans = select(func.count()).select_from(InspectionPlan)
    assert session.scalar(plans.where(InspectionPlan.contract_id == c1.id)) == 0
    assert not session.new and not session.dirty


def test_a_c1_device_inspection_s_report_as_pdf_and_xlsx(session: Session) -> None:
    c1 = contract(session, "C1")
    site(session, c1)
    people = People(session, c1)
    monday = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    with time_machine.travel(monday, tick=False):
        inspections.generate(session, c1, date(2026, 3, 8), monday)
    device = next(i for i in of_contract(session, c1) if i.kind == "device")
    work(
        session,
        people,
        device,
        datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI),
        {
            "hosts": "ok",
            "cpu": 93,
            "memory": 41,
            "disk": 70,
            "backup_age": 3,
            "findings": "应用服务器 CPU 长时间高于 90%，建议排查定时任务并扩容。",
        },
        fault_ticket="cpu",
    )
    session.expire_all()
    report = data.inspection_report(session, device.id, "管理员", AFTER_Q1)
    sheet = report.sheet
    assert report.heading.title == "设备巡检报告" and report.filename.endswith("设备巡检报告")
    whats = [line.what for line in sheet.history]
    assert whats[0] == "按计划生成（计划第 1 版）"
    assert any(w.startswith("待执行 → 已指派，指派给") for w in whats)
    assert any(w.startswith("开具工单") and "CPU 使用率" in w for w in whats)
    assert whats[-1] == "已提交 → 已验收"

    content = document.pdf(document.html(report))
    keep("C1-device.pdf", content, session)
    text = pdf_text(content)
    for words in (
        "设备巡检报告",
        "主机运行状态",
        "CPU 使用率",
        "发现与建议",
        sheet.tickets[0].number,
    ):
        assert words in text
    # One family, page margins (running title, page numbers) included.
    assert {name.removesuffix("-Bold") for name, _ in pdf_fonts(content)} == {"Noto-Sans-CJK-SC"}

    book_bytes = workbook.workbook(report)
    keep("C1-device.xlsx", book_bytes, session)
    book = load_workbook(io.BytesIO(book_bytes))
    assert book.sheetnames == ["检查项目", "发现与建议", "关联工单", "处理记录"]
    items = book["检查项目"]
    rows = [tuple(c for c in row) for row in items.iter_rows(values_only=True)]
    header = rows.index(workbook.ITEM_COLUMNS)
    by_label = {row[1]: row for row in rows[header + 1 :]}
    assert by_label["CPU 使用率"][2:6] == (93, "%", "≤ 80%", "异常")
    assert by_label["主机运行状态"][2] == "正常"
    assert by_label["CPU 使用率"][7] == sheet.tickets[0].number
    assert items.freeze_panes == f"A{header + 2}"
    assert items.column_dimensions["B"].width >= len("最近一次备份距今") * 2
    findings = list(book["发现与建议"].iter_rows(values_only=True))
    assert any(row[1] and str(row[1]).startswith("应用服务器 CPU") for row in findings)


def test_the_quarter_s_workbook_has_a_sheet_per_table(
    session: Session, c3_quarter: Quarter
) -> None:
    report = data.quarter_report(session, c3_quarter.contract, "2026-Q1", "经理", AFTER_Q1)
    content = workbook.workbook(report)
    keep("C3-2026-Q1.xlsx", content, session)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["季度汇总", "巡检清单", "检查明细", "发现与建议", "关联工单"]
    summary = list(book["季度汇总"].iter_rows(values_only=True))
    total = next(row for row in summary if row[0] == "合计")
    assert total[3:6] == (3, 2, 1)
    details = list(book["检查明细"].iter_rows(values_only=True))
    assert ("巡检单号", "计划日期", *workbook.ITEM_COLUMNS) in details
    assert sum(1 for row in details if row[3] == "表空间使用率" and row[7] == "异常") == 1


def test_a_quarter_is_written_as_2026_q1(session: Session) -> None:
    assert data.parse_quarter("2026-Q4") == (2026, 4)
    assert data.quarter_days(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert data.quarter_days(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    for bad in ("2026Q1", "2026-Q5", "1999-Q1", "2026-q1"):
        with pytest.raises(InvalidInput):
            data.parse_quarter(bad)
