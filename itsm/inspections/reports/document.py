"""Reports as HTML (Jinja2, `templates/reports/`, or the contract's own template from
`sla_rules/contracts/<code>/`) and as PDF (WeasyPrint, with Debian's Noto CJK fonts embedded)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

import templates
from itsm.inspections.reports.contents import InspectionReport, QuarterReport
from sla_rules.contracts import shipped_template

TEMPLATE_FOLDER = Path(templates.__file__).parent
QUARTER_TEMPLATE = "inspection_report.html"
"""A contract's own layout of its quarterly report (C3: the hospital's form)."""
SHEET_TEMPLATE = "inspection_sheet.html"
"""A contract's own layout of one inspection's report."""


def _contract_template(name: str) -> tuple[str, None, Any] | None:
    """ "contracts/<code>/<file>": the contract's own template, if it ships one."""
    parts = name.split("/")
    if len(parts) != 3 or parts[0] != "contracts":
        return None
    text = shipped_template(parts[1], parts[2])
    return None if text is None else (text, None, lambda: True)


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FunctionLoader(_contract_template),
                jinja2.FileSystemLoader(TEMPLATE_FOLDER),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_for(contract_code: str, own: str, default: str) -> jinja2.Template:
    """The contract's own template `own`, else the default layout."""
    return environment().select_template([f"contracts/{contract_code}/{own}", default])


def html(report: InspectionReport | QuarterReport) -> str:
    if isinstance(report, QuarterReport):
        template = template_for(
            report.heading.contract_code, QUARTER_TEMPLATE, "reports/quarterly.html"
        )
    else:
        template = template_for(
            report.heading.contract_code, SHEET_TEMPLATE, "reports/inspection.html"
        )
    return template.render(report=report)


def pdf(document: str) -> bytes:
    """The HTML printed to PDF (A4, Noto Sans CJK SC embedded as a subset)."""
    import weasyprint  # ≈ 1 s and ≈ 100 MB to load: only the processes that render pay it

    # Self-contained: nothing is fetched from the network or the disk (data: URIs only).
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    rendered: bytes = weasyprint.HTML(string=document, url_fetcher=fetcher).write_pdf()
    return rendered
