"""What an inspection report holds: plain values in Chinese, all the layouts (HTML, PDF,
XLSX, a contract's own form) are given."""

from __future__ import annotations

from dataclasses import dataclass

from sla_rules.inspections import ItemType


@dataclass(frozen=True)
class Item:
    """One checklist item as answered: its answer, its standard and the verdict."""

    number: int
    key: str
    label: str
    type: str
    """check, number, text or photo."""
    answer: str
    value: float | None
    """The measurement of a number item, as a number (the workbook's cell)."""
    unit: str
    standard: str
    """The bounds a number must keep ("≤ 80%"), empty for other items."""
    verdict: str
    """正常, 异常, 不适用, 已上传, 未填写 (a required item); empty for a text item."""
    fault: bool
    photos: int
    tickets: str
    """The numbers of the tickets opened for this item."""


@dataclass(frozen=True)
class Finding:
    """A line of "findings and advice": a fault found (with what was done about it) or what
    the engineer wrote in a text item."""

    item: str
    text: str
    action: str


@dataclass(frozen=True)
class LinkedTicket:
    number: str
    title: str
    item: str
    state: str
    priority: str
    reported_at: str
    resolved_at: str


@dataclass(frozen=True)
class HistoryLine:
    at: str
    who: str
    what: str
    note: str


@dataclass(frozen=True)
class Sheet:
    """One inspection: what, where, who and when, its items, findings, tickets, history."""

    id: int
    number: str
    title: str
    kind: str
    kind_label: str
    mode: str
    state: str
    state_label: str
    clause: str
    site: str
    day: str
    window: str
    due_at: str
    assignee: str
    started_at: str
    submitted_at: str
    submitted_by: str
    accepted_at: str
    accepted_by: str
    closed_at: str
    """When it was missed or cancelled, if it was."""
    position: str
    done: bool
    answered: bool
    """Whether any item was answered (a missed one usually has none)."""
    items: tuple[Item, ...]
    findings: tuple[Finding, ...]
    tickets: tuple[LinkedTicket, ...]
    history: tuple[HistoryLine, ...]

    @property
    def faults(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.fault)

    @property
    def checks(self) -> tuple[Item, ...]:
        """The items but the text ones, whose words are among the findings."""
        return tuple(item for item in self.items if item.type != ItemType.TEXT)


@dataclass(frozen=True)
class Heading:
    title: str
    contract_code: str
    contract_name: str
    customer: str
    generated_at: str
    requested_by: str


@dataclass(frozen=True)
class InspectionReport:
    heading: Heading
    sheet: Sheet

    @property
    def filename(self) -> str:
        return f"{self.sheet.number} {self.sheet.kind_label}报告"


@dataclass(frozen=True)
class KindLine:
    """One kind of inspection in the quarter: what the plan sets, what was done or missed."""

    kind: str
    label: str
    clause: str
    required: int | None
    """A year's count the contract demands (None for kinds outside the plan)."""
    planned: int
    done: int
    missed: int
    cancelled: int
    open: int


@dataclass(frozen=True)
class QuarterReport:
    heading: Heading
    quarter: str
    period: str
    """"2026年第1季度"."""
    first: str
    last: str
    site: str
    kinds: tuple[KindLine, ...]
    total: KindLine
    sheets: tuple[Sheet, ...]
    engineers: str
    """Who did this quarter's inspections, by name."""

    @property
    def filename(self) -> str:
        return f"{self.heading.contract_code} {self.period}巡检报告"

    @property
    def findings(self) -> tuple[tuple[Sheet, Finding], ...]:
        return tuple((sheet, finding) for sheet in self.sheets for finding in sheet.findings)
