"""Schema-driven fuzzing of our own OpenAPI with schemathesis: no operation answers with a 5xx.

Every operation of `/api/v1/openapi.json` gets generated requests, valid ones (positive) and
ones that break the schema (negative), sent as a signed-in agent and as a requester. Blind
generation mostly hits ids that do not exist, so most cases are steered to the world's real
records: its ticket, attachment, institutions and contract, the ticket's current ETag in
If-Match, real workflow triggers and assignees. The test counts what it sent, per operation, and
fails if an operation was never exercised or never got past the 404 of a made-up id.

The responses must also conform to the schema (status code, content type, body), so the
OpenAPI stays a true description of the API. ITSM_SCHEMA_EXAMPLES sets the examples per
operation (default 8); derandomized, so a run is reproducible.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from itsm import clock
from tests.factories import World
from workflows import ticket as ticket_workflow

MAX_EXAMPLES = int(os.environ.get("ITSM_SCHEMA_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
AT_LEAST_OPERATIONS = 19  # tickets 11, directory 8, and whatever else the spec has


@pytest.fixture
def api_schema(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


class BufferingClient(FlaskClient):
    """A test client that reads each response and closes it, as a WSGI server would:
    schemathesis reads a response's data but leaves it open (a downloaded file stays open)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


def _mostly(real: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[bool, Any]]:
    """(True, a real value) three times in four; (False, None): keep what was generated."""
    return st.tuples(st.integers(0, 3).map(bool), real)


class Steering:
    """The world's real records, mixed into generated cases so they reach past the look-ups."""

    def __init__(self, client: FlaskClient, world: World) -> None:
        self.client = client
        self.world = world
        self.ticket_id = world.open_ticket(client, onsite_required=True)["id"]
        upload = client.post(
            f"/api/v1/tickets/{self.ticket_id}/attachments",
            data={"file": (io.BytesIO(b"printer log\n"), "printer.log")},
            headers=world.headers("agent"),
            content_type="multipart/form-data",
        )
        assert upload.status_code == 201, upload.get_json()
        inspection = client.post(
            "/api/v1/inspections",
            json={
                "contract": world.contract_code,
                "due_at": (clock.now() + timedelta(days=30)).isoformat(),
                "institution_id": world.institution_id,
                "assignee_id": world.users["engineer"],
            },
            headers=world.headers("agent"),
        )
        assert inspection.status_code == 201, inspection.get_json()
        self.inspection_id = inspection.get_json()["id"]
        photo = client.post(
            f"/api/v1/inspections/{self.inspection_id}/attachments",
            data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(32)), "room.png")},
            headers=world.headers("agent"),
            content_type="multipart/form-data",
        )
        assert photo.status_code == 201, photo.get_json()
        report = client.get(
            f"/api/v1/inspections/{self.inspection_id}/report", headers=world.headers("agent")
        )
        assert report.status_code == 202, report.get_json()
        self.path = {
            "ticket_id": st.just(self.ticket_id),
            "attachment_id": st.just(upload.get_json()["id"]),
            "inspection_id": st.just(self.inspection_id),
            "photo_id": st.just(photo.get_json()["id"]),
            "report_id": st.just(report.get_json()["id"]),
            "institution_id": st.sampled_from([world.institution_id, world.second_institution_id]),
            "code": st.just(world.contract_code),
            "name": st.just("cn-5x8"),  # a business calendar
        }
        self.body = {
            "institution_id": st.sampled_from([world.institution_id, world.second_institution_id]),
            "configuration_item_id": st.sampled_from([world.configuration_item_id, None]),
            "assignee_id": st.sampled_from(
                [world.users["engineer"], world.users["engineer2"], world.users["requester"]]
            ),
            "trigger": st.sampled_from(ticket_workflow.WORKFLOW.triggers),
        }

    def etag(self, who: str, path: str) -> str | None:
        response = self.client.get(path, headers=self.world.headers(who))
        return response.headers.get("ETag")

    def steer(self, case: schemathesis.Case, data: st.DataObject, who: str) -> None:
        for name in sorted(set(case.path_parameters or {}) & set(self.path)):
            use, value = data.draw(_mostly(self.path[name]), label=f"real {name}")
            if use:
                case.path_parameters[name] = value
        if isinstance(case.body, dict):
            for name in sorted(set(case.body) & set(self.body)):
                use, value = data.draw(_mostly(self.body[name]), label=f"real {name}")
                if use:
                    case.body[name] = value
        versioned = {
            "{ticket_id}": f"/api/v1/tickets/{self.ticket_id}",
            "{inspection_id}": f"/api/v1/inspections/{self.inspection_id}",
        }
        for placeholder, path in versioned.items():
            if case.method.upper() in ("PATCH", "POST", "PUT") and placeholder in case.path:
                use, _ = data.draw(_mostly(st.none()), label="current If-Match")
                etag = self.etag(who, path) if use else None
                if etag is not None:
                    case.headers = {**(case.headers or {}), "If-Match": etag}


def _missed(response: schemathesis.Response) -> bool:
    """Whether the answer is that a record named in the path does not exist."""
    if response.status_code != 404:
        return False
    message = str(response.json().get("message", ""))
    return "not found" in message or "URL" in message


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=str)
@pytest.mark.parametrize("who", ["agent", "requester"])
def test_no_operation_answers_with_a_server_error(
    api_schema: schemathesis.BaseSchema,
    client: FlaskClient,
    world: World,
    who: str,
    mode: schemathesis.GenerationMode,
) -> None:
    steering = Steering(client, world)
    session = BufferingClient(client.application)
    auth = world.headers(who)
    sent: Counter[str] = Counter()
    past_lookup: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    labels = []
    failures: list[Exception] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def exercise(case: schemathesis.Case, data: st.DataObject) -> None:
            steering.steer(case, data, who)
            # Signed in always: a missing or broken token (401) is tested elsewhere.
            case.headers = {**(case.headers or {}), **auth}
            response = case.call(session=session)  # type: ignore[arg-type]
            case.validate_response(response, checks=CHECKS)
            sent[case.operation.label] += 1
            statuses[f"{case.operation.label} {response.status_code}"] += 1
            if not _missed(response) or "{" not in case.path:
                past_lookup[case.operation.label] += 1

        try:
            exercise()
        except Exception as failure:  # go on: one operation's failure hides no other's
            failures.append(failure)

    if failures:
        raise ExceptionGroup(f"{len(failures)} of {len(labels)} operations failed", failures)
    report = "\n".join(f"{n:4d} {key}" for key, n in sorted(statuses.items()))
    assert len(labels) >= AT_LEAST_OPERATIONS, labels
    assert set(sent) == set(labels), f"never sent: {set(labels) - set(sent)}\n{report}"
    assert set(past_lookup) == set(labels), (
        f"only 404s for {set(labels) - set(past_lookup)}: steer them to real ids\n{report}"
    )
    assert sum(sent.values()) >= len(labels) * min(MAX_EXAMPLES, 5), report
