"""Reports from the pages: ask for an inspection's or a quarter's report, watch it being
rendered by its job, download it (the same rows and rules as the API's /reports)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _

from itsm.directory.services.directory import get_contract
from itsm.errors import InvalidInput
from itsm.inspections.services import report_files
from itsm.models.types import Role
from itsm.request_scope import current_actor, db_session
from itsm.web.common import area, once, signed_in

bp = area("report_pages", __name__)
FORMATS = ("pdf", "xlsx")


def _format() -> str:
    chosen = request.form.get("format", "pdf")
    if chosen not in FORMATS:
        raise InvalidInput(_("Choose PDF or Excel."))
    return chosen


@bp.post("/inspections/<int(max=2147483647):inspection_id>/report")
@signed_in()
def inspection_report(inspection_id: int) -> Any:
    """Ask for one inspection's report; the page of the report follows its job."""

    def step() -> tuple[str, str]:
        row = report_files.request_inspection_report(
            db_session(), current_actor(), inspection_id, _format()
        )
        return url_for("report_pages.report", report_id=row.id), _("The report is being made.")

    return once(step)


@bp.post("/inspections/quarter-report")
@signed_in(Role.AGENT, Role.MANAGER, Role.ADMIN)
def quarter_report() -> Any:
    """Ask for a contract's quarterly inspection report (`contract`, `quarter` 2026-Q1)."""

    def step() -> tuple[str, str]:
        session, actor = db_session(), current_actor()
        contract = get_contract(session, actor, request.form.get("contract", "")[:32])
        row = report_files.request_quarter_report(
            session, actor, contract, request.form.get("quarter", "")[:7], _format()
        )
        return url_for("report_pages.report", report_id=row.id), _("The report is being made.")

    return once(step)


@bp.get("/reports/<int(max=2147483647):report_id>")
@signed_in()
def report(report_id: int) -> Any:
    """A report asked for: being made (the page looks again by itself), ready, or failed."""
    row = report_files.get(db_session(), current_actor(), report_id)
    return render_template("web/report.html", report=row, pending=row.status == "pending")


@bp.get("/reports/<int(max=2147483647):report_id>/download")
@signed_in()
def download(report_id: int) -> Any:
    folder = current_app.config["ITSM_SETTINGS"].instance_path / "reports"
    row, path = report_files.file_of(db_session(), current_actor(), report_id, folder)
    return send_file(
        path,
        mimetype=report_files.MEDIA_TYPES[row.format],
        as_attachment=True,
        download_name=row.filename or path.name,
    )
