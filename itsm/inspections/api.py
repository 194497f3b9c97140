"""The inspections API: occurrences and their steps, checklists, photos and tickets; each
contract's plan and its obligations ledger."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request, send_file
from flask.views import MethodView

from itsm import clock
from itsm.accounts.services.access import Actor
from itsm.api.base import API_PREFIX, Blueprint, current_actor, db_session, required_if_match
from itsm.directory.services.directory import get_contract
from itsm.errors import Forbidden, NotFound, PreconditionFailed
from itsm.inspections import schemas as s
from itsm.inspections.models import Inspection, ReportFile
from itsm.inspections.services import inspections, plans, report_files, transitions
from itsm.models.types import Role
from itsm.uploads import commit_keeping, send_uploaded

blp = Blueprint("inspections", __name__, description="Inspections, plans and obligations")
reports_blp = Blueprint(
    "reports", __name__, description="Reports asked for: their status, then their file"
)
_ID = "<int(max=2147483647):inspection_id>"
_ETAG = re.compile(r'(?:W/)?"(\d+)-(\d+)"')
_PLAN_ETAG = re.compile(r'(?:W/)?"plan-(\d+)-(\d+)"')


def present(session: Any, inspection: Inspection, actor: Actor) -> dict[str, Any]:
    """An inspection with its checklist answered so far, its tickets and what may fire now."""
    state = inspections.checklist_state(session, inspection)
    photos = inspections.photo_counts(session, inspection.id)
    answers = inspection.answers or {}
    lines = [
        {
            "required": True,
            "unit": "",
            "min": None,
            "max": None,
            **item,
            "answer": answers.get(item["key"]),
            "fault": item["key"] in state.faults,
            "photos": photos.get(item["key"], 0),
        }
        for item in inspection.checklist
    ]
    return {
        **{column: getattr(inspection, column) for column in _COLUMNS},
        "contract": inspection.contract,
        "institution": inspection.institution,
        "assignee": inspection.assignee,
        "checklist": lines,
        "checklist_complete": state.complete,
        "missing": list(state.missing),
        "faults": list(state.faults),
        "tickets": inspections.linked_tickets(session, inspection.id),
        "allowed_triggers": transitions.allowed_triggers(session, inspection, actor),
    }


_COLUMNS = (
    "id number kind mode state title clause day window_start window_end due_at scheduled_at "
    "plan_version position started_at submitted_at accepted_at missed_at created_at updated_at "
    "version"
).split()


def _etag(inspection: Inspection) -> dict[str, str]:
    return {"ETag": inspection.etag}


def _expected_version(inspection_id: int) -> int:
    header = required_if_match("this inspection")
    match = _ETAG.fullmatch(header.strip())
    if match is None or int(match.group(1)) != inspection_id:
        raise PreconditionFailed(
            f"If-Match {header!r} is not an ETag of inspection {inspection_id}"
        )
    return int(match.group(2))


@blp.route("/inspections")
class Inspections(MethodView):
    @blp.arguments(s.InspectionListArgs(), location="query")
    @blp.response(200, s.InspectionPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The inspections you may see, by planned day, with filters and the total."""
        session, actor = db_session(), current_actor()
        contract_id = (
            get_contract(session, actor, args["contract"]).id if args.get("contract") else None
        )
        flt = inspections.InspectionFilter(
            contract_id=contract_id,
            kind=tuple(args.get("kind", ())),
            state=tuple(args.get("state", ())),
            assignee_id=args.get("assignee"),
            day_from=args.get("from_"),
            day_to=args.get("to"),
        )
        items, total = inspections.list_inspections(
            session, actor, flt, args["page"], args["per_page"]
        )
        return {
            "items": [present(session, i, actor) for i in items],
            "total": total,
            "page": args["page"],
            "per_page": args["per_page"],
        }

    @blp.arguments(s.InspectionCreateSchema())
    @blp.response(201, s.InspectionSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Ask for an inspection outside the plan (staff), due at `due_at`."""
        session, actor = db_session(), current_actor()
        contract = get_contract(session, actor, fields["contract"])
        inspection = inspections.create_ad_hoc(session, actor, contract, fields)
        session.commit()
        headers = {**_etag(inspection), "Location": f"{request.path}/{inspection.id}"}
        return present(session, inspection, actor), headers


@blp.route(f"/inspections/{_ID}")
class InspectionById(MethodView):
    @blp.response(200, s.InspectionSchema)
    def get(self, inspection_id: int) -> Any:
        """An inspection, with its ETag for a later change."""
        session, actor = db_session(), current_actor()
        inspection = inspections.get(session, actor, inspection_id)
        return present(session, inspection, actor), _etag(inspection)

    @blp.arguments(s.InspectionUpdateSchema())
    @blp.response(200, s.InspectionSchema)
    @blp.needs_if_match("this inspection")
    def patch(self, changes: dict[str, Any], inspection_id: int) -> Any:
        """Change the assignee or the planned time (not the state)."""
        session, actor = db_session(), current_actor()
        version = _expected_version(inspection_id)
        inspection = inspections.update(session, actor, inspection_id, version, changes)
        session.commit()
        return present(session, inspection, actor), _etag(inspection)


@blp.route(f"/inspections/{_ID}/transitions")
class InspectionTransitions(MethodView):
    @blp.arguments(s.InspectionTransitionSchema())
    @blp.response(200, s.InspectionSchema)
    @blp.needs_if_match("this inspection")
    def post(self, body: dict[str, Any], inspection_id: int) -> Any:
        """Fire a workflow trigger; 409 with the triggers allowed now when it may not fire."""
        session, actor = db_session(), current_actor()
        version = _expected_version(inspection_id)
        inspection = transitions.fire(
            session,
            actor,
            inspection_id,
            version,
            body["trigger"],
            note=body.get("note"),
            assignee_id=body.get("assignee_id"),
            position=body.get("position"),
        )
        session.commit()
        return present(session, inspection, actor), _etag(inspection)


@blp.route(f"/inspections/{_ID}/checklist")
class InspectionChecklist(MethodView):
    @blp.arguments(s.ChecklistAnswersSchema())
    @blp.response(200, s.InspectionSchema)
    @blp.needs_if_match("this inspection")
    def put(self, body: dict[str, Any], inspection_id: int) -> Any:
        """Replace the checklist's answers (while assigned or in progress)."""
        session, actor = db_session(), current_actor()
        version = _expected_version(inspection_id)
        inspection, _ = inspections.put_checklist(
            session, actor, inspection_id, version, body["answers"]
        )
        session.commit()
        return present(session, inspection, actor), _etag(inspection)


@blp.route(f"/inspections/{_ID}/events")
class InspectionEvents(MethodView):
    @blp.response(200, s.InspectionEventSchema(many=True))
    def get(self, inspection_id: int) -> Any:
        """The inspection's history, oldest first."""
        return inspections.list_events(db_session(), current_actor(), inspection_id)


@blp.route(f"/inspections/{_ID}/tickets")
class InspectionTickets(MethodView):
    @blp.response(200, s.LinkedTicketSchema(many=True))
    def get(self, inspection_id: int) -> Any:
        """Tickets opened from the inspection's fault items."""
        session = db_session()
        inspections.get(session, current_actor(), inspection_id)
        return inspections.linked_tickets(session, inspection_id)

    @blp.arguments(s.InspectionTicketCreateSchema())
    @blp.response(201, s.LinkedTicketSchema)
    def post(self, body: dict[str, Any], inspection_id: int) -> Any:
        """Open a ticket for a fault item, named after it and linked both ways."""
        session = db_session()
        link = inspections.open_ticket(
            session, current_actor(), inspection_id, body["item_key"], body
        )
        session.commit()
        return link


@blp.route(f"/inspections/{_ID}/attachments")
class InspectionPhotos(MethodView):
    @blp.response(200, s.PhotoSchema(many=True))
    def get(self, inspection_id: int) -> Any:
        """The inspection's photos and files."""
        return inspections.list_photos(db_session(), current_actor(), inspection_id)

    @blp.arguments(s.PhotoUploadSchema(), location="files")
    @blp.arguments(s.PhotoItemSchema(), location="form")
    @blp.response(201, s.PhotoSchema)
    def post(self, files: dict[str, Any], form: dict[str, Any], inspection_id: int) -> Any:
        """Upload a photo (multipart `file`, and `item_key` for a checklist item)."""
        session = db_session()
        upload = files["file"]
        settings = current_app.config["ITSM_SETTINGS"]
        content = upload.read(settings.max_attachment_bytes + 1)
        photo, path = inspections.add_photo(
            session,
            current_actor(),
            inspection_id,
            form.get("item_key"),
            upload.filename or "",
            content,
            settings.attachments_path,
            settings.max_attachment_bytes,
        )
        commit_keeping(path)
        return photo


@blp.route(f"/inspections/{_ID}/attachments/<int(max=2147483647):photo_id>")
class InspectionPhotoContent(MethodView):
    @blp.response(200, content_type="application/octet-stream")
    def get(self, inspection_id: int, photo_id: int) -> Any:
        """The photo's content."""
        photo = inspections.get_photo(db_session(), current_actor(), inspection_id, photo_id)
        return send_uploaded(photo)


@blp.route("/contracts/<string(maxlength=32):code>/inspection-plan")
class ContractInspectionPlan(MethodView):
    @blp.response(200, s.PlanSchema)
    def get(self, code: str) -> Any:
        """The contract's current inspection plan, with its ETag for the next version."""
        session = db_session()
        contract = get_contract(session, current_actor(), code)
        row = plans.current_plan(session, contract)
        if row is None:
            raise NotFound(
                f"contract {code} has no inspection plan: its terms have no inspection clause; "
                "an admin can PUT one"
            )
        session.commit()
        return row, {"ETag": plans.etag(row)}

    @blp.arguments(s.PlanDocumentSchema())
    @blp.response(200, s.PlanSchema)
    @blp.needs_if_match("this contract's inspection plan", any_version=True)
    def put(self, document: dict[str, Any], code: str) -> Any:
        """Publish the next version (admins), based on the version named in If-Match (`*`
        for a contract with none yet); occurrences already made keep theirs."""
        actor = current_actor()
        if actor.role != Role.ADMIN:
            raise Forbidden("only admins publish inspection plans")
        session = db_session()
        contract = get_contract(session, actor, code)
        header = required_if_match("this contract's inspection plan").strip()
        expected: int | None = None
        if header != "*":
            match = _PLAN_ETAG.fullmatch(header)
            if match is None or int(match.group(1)) != contract.id:
                raise PreconditionFailed(f"If-Match {header!r} is not an ETag of {code}'s plan")
            expected = int(match.group(2))
        row = plans.publish(session, actor, contract, document, expected)
        session.commit()
        return row, {"ETag": plans.etag(row)}


@blp.route("/contracts/<string(maxlength=32):code>/obligations")
class ContractObligations(MethodView):
    @blp.arguments(s.LedgerArgs(), location="query")
    @blp.response(200, s.LedgerSchema)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """Per obligation: required, planned, done, missed, remaining, next due, at risk."""
        session, actor = db_session(), current_actor()
        if actor.role == Role.REQUESTER:
            raise Forbidden("the obligations ledger is for the vendor's staff")
        contract = get_contract(session, actor, code)
        row = plans.current_plan(session, contract)
        lines = inspections.ledger(session, contract, args["year"], clock.now())
        session.commit()
        return {
            "contract": contract.code,
            "year": args["year"],
            "plan_version": row.version if row else None,
            "obligations": lines,
        }


# --- reports ------------------------------------------------------------------------------

RETRY_AFTER = "2"
"""Seconds a client waits before it asks again about a pending report."""


def present_report(row: ReportFile) -> dict[str, Any]:
    done = row.status == report_files.DONE
    return {
        **{c: getattr(row, c) for c in _REPORT_COLUMNS},
        "requested_by": row.requested_by,
        "file": f"{API_PREFIX}/reports/{row.id}/file" if done else None,
    }


_REPORT_COLUMNS = (
    "id kind subject format params status error filename created_at finished_at".split()
)


def _accepted(row: ReportFile) -> tuple[dict[str, Any], dict[str, str]]:
    headers = {"Location": f"{API_PREFIX}/reports/{row.id}", "Retry-After": RETRY_AFTER}
    return present_report(row), headers


@blp.route(f"/inspections/{_ID}/report")
class InspectionReport(MethodView):
    @blp.arguments(s.ReportArgs(), location="query")
    @blp.response(202, s.ReportSchema)
    def get(self, args: dict[str, Any], inspection_id: int) -> Any:
        """Ask for the inspection's report (items, findings and advice, tickets, history) as
        PDF or XLSX: a job renders it; poll the report at `Location` until it is done."""
        session = db_session()
        row = report_files.request_inspection_report(
            session, current_actor(), inspection_id, args["format"]
        )
        session.commit()
        return _accepted(row)


@blp.route("/contracts/<string(maxlength=32):code>/inspection-report")
class ContractInspectionReport(MethodView):
    @blp.arguments(s.QuarterReportArgs(), location="query")
    @blp.response(202, s.ReportSchema)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """Ask for the contract's quarterly inspection report (staff), in the contract's own
        layout if it has one (C3: the hospital's form): a job renders it; poll `Location`."""
        session, actor = db_session(), current_actor()
        contract = get_contract(session, actor, code)
        row = report_files.request_quarter_report(
            session, actor, contract, args["quarter"], args["format"]
        )
        session.commit()
        return _accepted(row)


@reports_blp.route("/reports/<int(max=2147483647):report_id>")
class ReportById(MethodView):
    @reports_blp.response(200, s.ReportSchema)
    def get(self, report_id: int) -> Any:
        """A report asked for: pending (with `Retry-After`), done (with its `file`) or failed
        (with the `error`)."""
        row = report_files.get(db_session(), current_actor(), report_id)
        headers = {"Retry-After": RETRY_AFTER} if row.status == report_files.PENDING else {}
        return present_report(row), headers


@reports_blp.route("/reports/<int(max=2147483647):report_id>/file")
class ReportContent(MethodView):
    @reports_blp.response(200, content_type="application/octet-stream")
    def get(self, report_id: int) -> Any:
        """The rendered file (PDF or XLSX); 409 while the report is pending or after it
        failed."""
        folder = current_app.config["ITSM_SETTINGS"].instance_path / "reports"
        row, path = report_files.file_of(db_session(), current_actor(), report_id, folder)
        return send_file(
            path,
            mimetype=report_files.MEDIA_TYPES[row.format],
            as_attachment=True,
            download_name=row.filename or path.name,
        )
