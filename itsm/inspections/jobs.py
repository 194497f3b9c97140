"""Inspection jobs: occurrences generated ahead for every contract with a plan; reports
rendered into the instance folder."""

from __future__ import annotations

import logging
from pathlib import Path

from rq import get_current_job

from itsm import clock
from itsm.inspections.models import ReportFile
from itsm.inspections.reports import document, workbook
from itsm.inspections.services import inspections, report_files
from itsm.jobs.runtime import database, settings

log = logging.getLogger(__name__)


def generate_ahead() -> dict[str, int]:
    """The next 90 days of every contract's plan (idempotent: nothing is made twice)."""
    with database().transaction() as session:
        created = inspections.generate_ahead(session, clock.now())
    return {"created": created}


def reports_folder() -> Path:
    """Where rendered reports are kept: the instance folder's `reports/` (shared by the web
    processes that serve them and the workers that write them)."""
    return settings().instance_path / "reports"


def render_report(report_id: int) -> dict[str, str]:
    """Read a report's data in one read-only transaction, render it with none open (a
    quarter's PDF takes seconds), store the file, then mark the report done.

    Idempotent: a done report whose file exists is left as it is; an unfinished one is
    rendered again and its file replaced. A failure is recorded on the report, which stays
    pending while RQ has retries left and is failed after the last."""
    folder = reports_folder()
    try:
        with database().transaction() as session:
            row = session.get(ReportFile, report_id)
            if row is None:
                return {"status": "gone"}
            if row.status == report_files.DONE and row.path and (folder / row.path).is_file():
                return {"status": row.status}
            report = report_files.report_data(session, row, clock.now())
            fmt, relative = row.format, report_files.relative_path(row)
        if fmt == "pdf":
            content = document.pdf(document.html(report))
        else:
            content = workbook.workbook(report)
        report_files.store(folder / relative, content)
    except Exception as error:
        job = get_current_job()
        final = job is None or not job.retries_left
        log.exception("report %s not rendered%s", report_id, "" if final else "; RQ retries it")
        with database().transaction() as session:
            reason = f"{type(error).__name__}: {error}"
            report_files.fail(session, report_id, reason, final, clock.now())
        raise
    with database().transaction() as session:
        filename = f"{report.filename}.{fmt}"
        report_files.finish(session, report_id, relative, filename, clock.now())
    return {"status": report_files.DONE, "path": relative}
