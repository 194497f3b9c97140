"""Reports as XLSX workbooks (openpyxl, write-only): one table per sheet, each under a few
header rows naming the report, with Chinese column titles and widths fitted to the text."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from itsm.inspections.reports.contents import (
    Heading,
    InspectionReport,
    QuarterReport,
    Sheet,
)

MAX_WIDTH = 60
"""Widest column, in characters; longer text wraps."""
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDE3EA")
_FAULT_FILL = PatternFill("solid", fgColor="FDECEC")
_WRAP = Alignment(wrap_text=True, vertical="top")

ITEM_COLUMNS = ("序号", "检查项目", "检查结果", "单位", "标准", "判定", "照片", "关联工单")
FINDING_COLUMNS = ("检查项目", "发现与建议", "处理")
TICKET_COLUMNS = ("工单号", "标题", "检查项目", "优先级", "状态", "报告时间", "解决时间")
HISTORY_COLUMNS = ("时间", "操作人", "事项", "说明")
SUMMARY_COLUMNS = (
    "巡检类型",
    "合同条款",
    "年度要求",
    "本季计划",
    "已完成",
    "已错过",
    "已取消",
    "未完成",
)
LIST_COLUMNS = (
    "巡检单号",
    "计划日期",
    "巡检类型",
    "方式",
    "状态",
    "巡检工程师",
    "开始时间",
    "提交时间",
    "验收时间",
    "异常项数",
    "关联工单",
)


@dataclass
class _Table:
    """A sheet to write: header rows, then one table whose text sets the widths."""

    name: str
    heading: list[tuple[str, str]]
    columns: Sequence[str]
    rows: list[tuple[list[Any], bool]] = field(default_factory=list)

    def add(self, values: list[Any], fault: bool = False) -> None:
        self.rows.append((values, fault))


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    longest = max((line for line in text.splitlines()), key=len, default="")
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in longest)


def _write(book: Workbook, table: _Table, title: str) -> None:
    sheet: WriteOnlyWorksheet = book.create_sheet(table.name)
    # Widths go in before the first row (write-only); the stubs lack the write-only sheet's
    # column_dimensions, which it takes from the normal worksheet.
    widths = sheet.column_dimensions  # type: ignore[attr-defined]
    labels = [label for label, _ in table.heading]  # the header rows' labels are in column A
    for index, column in enumerate(table.columns, 1):
        texts = [column, *(row[index - 1] for row, _ in table.rows)]
        texts += labels if index == 1 else []
        widest = max(_width(text) for text in texts)
        widths[get_column_letter(index)].width = min(widest + 3, MAX_WIDTH)
    header_rows = 2 + len(table.heading) + 1
    sheet.freeze_panes = f"A{header_rows + 1}"

    def cell(value: Any, font: Font | None = None, fill: PatternFill | None = None) -> Any:
        written = WriteOnlyCell(sheet, value=value)
        if font is not None:
            written.font = font
        if fill is not None:
            written.fill = fill
        return written

    sheet.append([cell(title, Font(bold=True, size=14))])
    sheet.append([])
    for label, value in table.heading:
        sheet.append([cell(label, Font(bold=True)), value])
    header = []
    for column in table.columns:
        written = cell(column, Font(bold=True), _HEAD_FILL)
        written.border = _BORDER
        header.append(written)
    sheet.append(header)
    for values, fault in table.rows:
        line = []
        for value in values:
            written = cell(value, fill=_FAULT_FILL if fault else None)
            written.border = _BORDER
            written.alignment = _WRAP
            line.append(written)
        sheet.append(line)


def _heading(heading: Heading, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        ("合同", f"{heading.contract_name}（{heading.contract_code}）"),
        *more,
        ("生成", f"{heading.generated_at}，{heading.requested_by}"),
    ]


def _item_rows(table: _Table, sheet: Sheet, prefix: Sequence[Any] = ()) -> None:
    for item in sheet.items:
        table.add(
            [
                *prefix,
                item.number,
                item.label,
                item.value if item.value is not None else item.answer,
                item.unit,
                item.standard,
                item.verdict,
                item.photos or "",
                item.tickets,
            ],
            item.fault,
        )


def _ticket_rows(table: _Table, sheet: Sheet, prefix: Sequence[Any] = ()) -> None:
    for t in sheet.tickets:
        table.add(
            [*prefix, t.number, t.title, t.item, t.priority, t.state, t.reported_at, t.resolved_at]
        )


def inspection_workbook(report: InspectionReport) -> bytes:
    """One inspection: its items and findings, its tickets, its history, a sheet each."""
    s = report.sheet
    head = _heading(
        report.heading,
        ("巡检单号", s.number),
        ("巡检类型", f"{s.kind_label}（{s.mode}）"),
        ("巡检地点", s.site),
        ("完成时限", s.window),
        ("状态", s.state_label),
        ("巡检工程师", s.assignee),
        ("开始时间", s.started_at),
        ("提交时间", f"{s.submitted_at}（{s.submitted_by}）" if s.submitted_by else s.submitted_at),
        ("验收时间", f"{s.accepted_at}（{s.accepted_by}）" if s.accepted_by else s.accepted_at),
    )
    items = _Table("检查项目", head, ITEM_COLUMNS)
    _item_rows(items, s)
    short = _heading(report.heading, ("巡检单号", s.number))
    findings = _Table("发现与建议", short, FINDING_COLUMNS)
    for finding in s.findings:
        findings.add([finding.item, finding.text, finding.action])
    tickets = _Table("关联工单", short, TICKET_COLUMNS)
    _ticket_rows(tickets, s)
    history = _Table("处理记录", short, HISTORY_COLUMNS)
    for line in s.history:
        history.add([line.at, line.who, line.what, line.note])
    title = f"{s.number} {report.heading.title}"
    return _save([items, findings, tickets, history], title)


def quarter_workbook(report: QuarterReport) -> bytes:
    """A quarter: the summary per kind, the list of inspections, every item answered, the
    findings and the tickets, a sheet each."""
    period = ("报告期", f"{report.period}（{report.first} 至 {report.last}）")
    where, who = ("巡检地点", report.site), ("巡检工程师", report.engineers)
    summary = _Table("季度汇总", _heading(report.heading, period, where, who), SUMMARY_COLUMNS)
    for line in [*report.kinds, report.total]:
        required = line.required if line.required is not None else ""
        summary.add(
            [line.label, line.clause, required, line.planned, line.done]
            + [line.missed, line.cancelled, line.open]
        )
    listed = _Table("巡检清单", _heading(report.heading, period), LIST_COLUMNS)
    details = _Table(
        "检查明细", _heading(report.heading, period), ("巡检单号", "计划日期", *ITEM_COLUMNS)
    )
    findings = _Table(
        "发现与建议", _heading(report.heading, period), ("巡检单号", "计划日期", *FINDING_COLUMNS)
    )
    tickets = _Table("关联工单", _heading(report.heading, period), ("巡检单号", *TICKET_COLUMNS))
    for s in report.sheets:
        listed.add(
            [
                s.number,
                s.day,
                s.kind_label,
                s.mode,
                s.state_label,
                s.assignee,
                s.started_at,
                s.submitted_at,
                s.accepted_at,
                len(s.faults),
                "、".join(t.number for t in s.tickets),
            ],
            bool(s.faults),
        )
        if s.answered:
            _item_rows(details, s, (s.number, s.day))
        for finding in s.findings:
            findings.add([s.number, s.day, finding.item, finding.text, finding.action])
        _ticket_rows(tickets, s, (s.number,))
    title = f"{report.heading.contract_name} {report.heading.title}"
    return _save([summary, listed, details, findings, tickets], title)


def _save(tables: Sequence[_Table], title: str) -> bytes:
    book = Workbook(write_only=True)
    for table in tables:
        _write(book, table, title)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(report: InspectionReport | QuarterReport) -> bytes:
    if isinstance(report, QuarterReport):
        return quarter_workbook(report)
    return inspection_workbook(report)
