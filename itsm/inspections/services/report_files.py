"""Reports asked for: a row each (`report_file`), written with its render job in the
request's transaction (the outbox), rendered by the job into the instance folder's `reports/`
and fetched when done. Who may see a report is who may see its subject, asked again at every
read."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm import clock, outbox
from itsm.accounts.services.access import Actor, contract_visible
from itsm.directory.models import Contract
from itsm.errors import Conflict, Forbidden, NotFound
from itsm.inspections.models import ReportFile
from itsm.inspections.reports import data
from itsm.inspections.reports.contents import InspectionReport, QuarterReport
from itsm.inspections.services import inspections

INSPECTION = "inspection"
QUARTER = "inspection_quarter"
PENDING, DONE, FAILED = "pending", "done", "failed"
JOB_KIND = "render_report"
SAME_REQUEST_MINUTES = 10
"""A report asked for again while the same one is still pending (a double click, a client
that retries) is that one, not a second render."""
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def request_inspection_report(
    session: Session, actor: Actor, inspection_id: int, fmt: str
) -> ReportFile:
    """One occurrence's report, for whoever may see the inspection."""
    inspection = inspections.get(session, actor, inspection_id)
    return _request(session, actor, INSPECTION, str(inspection.id), fmt, {})


def request_quarter_report(
    session: Session, actor: Actor, contract: Contract, quarter: str, fmt: str
) -> ReportFile:
    """A contract's quarterly report, for the vendor's agents, managers and admins: it shows
    every inspection of the quarter, more than an engineer or a hospital may see one by one."""
    if not actor.is_staff:
        raise Forbidden("the quarterly inspection report is for agents, managers and admins")
    year, number = data.parse_quarter(quarter)
    params = {"quarter": f"{year}-Q{number}"}
    return _request(session, actor, QUARTER, contract.code, fmt, params)


def _request(
    session: Session, actor: Actor, kind: str, subject: str, fmt: str, params: dict[str, str]
) -> ReportFile:
    now = clock.now()
    waiting = session.scalars(
        select(ReportFile)
        .where(
            ReportFile.kind == kind,
            ReportFile.subject == subject,
            ReportFile.format == fmt,
            ReportFile.requested_by_id == actor.user_id,
            ReportFile.status == PENDING,
            ReportFile.created_at >= now - timedelta(minutes=SAME_REQUEST_MINUTES),
        )
        .order_by(ReportFile.id.desc())
    )
    for row in waiting:
        if row.params == params:
            return row
    row = ReportFile(
        kind=kind,
        subject=subject,
        format=fmt,
        params=params,
        requested_by_id=actor.user_id,
        status=PENDING,
        created_at=now,
    )
    session.add(row)
    session.flush()
    outbox.add_new(session, [outbox.Message(f"report:{row.id}", JOB_KIND, {"report_id": row.id})])
    return row


def get(session: Session, actor: Actor, report_id: int) -> ReportFile:
    """A report whose subject the actor may see now; 404 otherwise."""
    row = session.get(ReportFile, report_id)
    if row is None or not _visible(session, actor, row):
        raise NotFound(f"report {report_id} not found")
    return row


def _visible(session: Session, actor: Actor, row: ReportFile) -> bool:
    if row.kind == INSPECTION:
        try:
            inspections.get(session, actor, int(row.subject))
        except NotFound:
            return False
        return True
    contract = session.scalar(select(Contract).where(Contract.code == row.subject))
    return contract is not None and actor.is_staff and contract_visible(actor, contract.id)


def file_of(
    session: Session, actor: Actor, report_id: int, folder: Path
) -> tuple[ReportFile, Path]:
    """A done report's file; 409 while it is pending or when it failed."""
    row = get(session, actor, report_id)
    if row.status != DONE or row.path is None:
        reason = f"failed: {row.error}" if row.status == FAILED else "is still being rendered"
        raise Conflict(f"report {report_id} {reason}; see /api/v1/reports/{report_id}")
    path = folder / row.path
    if not path.is_file():
        raise NotFound(f"report {report_id}'s file is gone; ask for the report again")
    return row, path


# --- the job's side -----------------------------------------------------------------------


def report_data(
    session: Session, row: ReportFile, now: datetime
) -> InspectionReport | QuarterReport:
    """What the report says, read now (never writing)."""
    requested_by = row.requested_by.display_name
    if row.kind == INSPECTION:
        return data.inspection_report(session, int(row.subject), requested_by, now)
    contract = session.scalar(select(Contract).where(Contract.code == row.subject))
    if contract is None:
        raise NotFound(f"contract {row.subject} not found")
    return data.quarter_report(session, contract, str(row.params["quarter"]), requested_by, now)


def store(target: Path, content: bytes) -> None:
    """Write the file whole or not at all (a temporary file renamed into place); a second
    render of the same report replaces the first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    partial.write_bytes(content)
    os.replace(partial, target)


def relative_path(row: ReportFile) -> str:
    """Where a report's file is kept, under the reports folder: by the month it was asked for."""
    return f"{row.created_at:%Y-%m}/{row.id}.{row.format}"


def finish(session: Session, report_id: int, path: str, filename: str, now: datetime) -> None:
    row = session.get_one(ReportFile, report_id)
    row.status, row.path, row.filename = DONE, path, filename
    row.error, row.finished_at = None, now


def fail(session: Session, report_id: int, error: str, final: bool, now: datetime) -> None:
    """Record a failed attempt: failed for good, or still pending while RQ retries it."""
    row = session.get(ReportFile, report_id)
    if row is None or row.status == DONE:
        return
    row.error = error[:2000]
    if final:
        row.status, row.finished_at = FAILED, now
