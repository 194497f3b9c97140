"""Bad input gets a 4xx JSON error a person can act on, never a 500, and writes nothing.

Every case below is sent to a world with one ticket in it; the answer must be the expected
4xx with a JSON body of `status`, `code` and a `message` that names what to fix, and the
world must be exactly as before: same tickets at the same versions, no new event, comment,
attachment, idempotency record, nor any file under the instance's attachments folder.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from itsm.db import Database
from itsm.models.idempotency import IdempotencyRecord
from itsm.tickets.models import Attachment, Comment, Ticket, TicketEvent
from tests.factories import World

NO_SUCH_ID = 2_147_483_647
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Ctx:
    """What a case may refer to: the world, another contract's world, the world's ticket."""

    world: World
    other: World
    ticket: dict[str, Any]

    @property
    def tid(self) -> int:
        return int(self.ticket["id"])

    @property
    def etag(self) -> str:
        return f'"{self.tid}-{self.ticket["version"]}"'


@dataclass
class Case:
    """A request (built from the context), the answer expected, and a word the message names."""

    method: str
    path: str  # may contain {tid}
    status: int
    code: str
    mention: str | None = None
    json: Callable[[Ctx], Any] | None = None
    data: Callable[[Ctx], Any] | None = None
    content_type: str | None = None
    headers: Callable[[Ctx], dict[str, str]] = field(default=lambda ctx: {})
    who: str = "agent"
    if_match: bool = True  # send the ticket's current ETag on PATCH and transitions


def _ticket(**overrides: Any) -> Callable[[Ctx], dict[str, Any]]:
    """A good new-ticket body with `overrides` (callables get the context)."""

    def build(ctx: Ctx) -> dict[str, Any]:
        values = {k: v(ctx) if callable(v) else v for k, v in overrides.items()}
        return ctx.world.ticket_body(**values)

    return build


def _without(name: str) -> Callable[[Ctx], dict[str, Any]]:
    def build(ctx: Ctx) -> dict[str, Any]:
        body = ctx.world.ticket_body()
        del body[name]
        return body

    return build


def _raw(text: str) -> Callable[[Ctx], str]:
    return lambda ctx: text


def _raw_ticket(replace: str, by: str) -> Callable[[Ctx], str]:
    """A JSON text of a good body with one value replaced verbatim (what json.dumps can't make)."""

    def build(ctx: Ctx) -> str:
        text = json.dumps(ctx.world.ticket_body(title="@@"), ensure_ascii=True)
        return text.replace(json.dumps(replace), by)

    return build


def _const(value: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: value


def _future(ctx: Ctx) -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


def _past(hours: int) -> Callable[[Ctx], str]:
    return lambda ctx: (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def _upload(name: str, content: bytes) -> Callable[[Ctx], dict[str, Any]]:
    return lambda ctx: {"file": (io.BytesIO(content), name)}


BOUNDARY = "itsm-test-boundary"


def _multipart(name: str, content: bytes) -> Callable[[Ctx], bytes]:
    """A multipart body as bytes: the test client would spool a big one to a temporary file
    it never closes (a ResourceWarning that is the client's, not the service's)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()
    return lambda ctx: body


JSON = "application/json"
MULTIPART = "multipart/form-data"
TICKETS = "/api/v1/tickets"
TICKET = "/api/v1/tickets/{tid}"
TRANSITIONS = "/api/v1/tickets/{tid}/transitions"
COMMENTS = "/api/v1/tickets/{tid}/comments"
ATTACHMENTS = "/api/v1/tickets/{tid}/attachments"

CREATE = {
    # The body is not JSON, or not a JSON object.
    "malformed JSON": Case(
        "POST", TICKETS, 400, "invalid_input", "JSON", data=_raw('{"title": "打印机'),
        content_type=JSON,
    ),
    "trailing comma": Case(
        "POST", TICKETS, 400, "invalid_input", "JSON", data=_raw('{"title": "x",}'),
        content_type=JSON,
    ),
    "not UTF-8": Case(
        "POST", TICKETS, 400, "invalid_input", "JSON",
        data=lambda ctx: '{"title": "caf\xe9"}'.encode("latin-1"), content_type=JSON,
    ),
    "nested 100000 deep": Case(
        "POST", TICKETS, 400, "invalid_input", "JSON",
        data=_raw("[" * 100_000 + "]" * 100_000), content_type=JSON,
    ),
    "a 5000-digit number": Case(
        "POST", TICKETS, 400, "invalid_input", "digits",
        data=_raw_ticket("@@", "9" * 5000), content_type=JSON,
    ),
    "a JSON array": Case("POST", TICKETS, 422, "invalid_input", "type", json=_const([1, 2])),
    "a JSON string": Case("POST", TICKETS, 422, "invalid_input", "type", json=_const("打印机")),
    "JSON null": Case(
        "POST", TICKETS, 422, "invalid_input", "type", data=_raw("null"), content_type=JSON
    ),
    "empty body": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id", data=_raw(""), content_type=JSON
    ),
    "form-encoded": Case(
        "POST", TICKETS, 415, "unsupported_media_type", "application/json",
        data=lambda ctx: {"title": "x", "institution_id": str(ctx.world.institution_id)},
    ),
    "JSON sent as text/plain": Case(
        "POST", TICKETS, 415, "unsupported_media_type", "application/json",
        data=lambda ctx: json.dumps(ctx.world.ticket_body()), content_type="text/plain",
    ),
    # Fields that do not exist, or are missing.
    "unknown field": Case(
        "POST", TICKETS, 422, "invalid_input", "urgency", json=_ticket(urgency="high")
    ),
    "state is not settable": Case(
        "POST", TICKETS, 422, "invalid_input", "state", json=_ticket(state="closed")
    ),
    "no title": Case("POST", TICKETS, 422, "invalid_input", "title", json=_without("title")),
    "no institution": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id", json=_without("institution_id")
    ),
    # Wrong types.
    "id as a string": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id",
        json=_ticket(institution_id=lambda ctx: str(ctx.world.institution_id)),
    ),
    "id as a float": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id", json=_ticket(institution_id=1.5)
    ),
    "id as a boolean": Case(
        "POST", TICKETS, 422, "invalid_input", "configuration_item_id",
        json=_ticket(configuration_item_id=True),
    ),
    "title as a number": Case(
        "POST", TICKETS, 422, "invalid_input", "title", json=_ticket(title=12345)
    ),
    "title as a list": Case(
        "POST", TICKETS, 422, "invalid_input", "title", json=_ticket(title=["打印机"])
    ),
    "boolean as a word": Case(
        "POST", TICKETS, 422, "invalid_input", "onsite_required",
        json=_ticket(onsite_required="maybe"),
    ),
    "unknown priority": Case(
        "POST", TICKETS, 422, "invalid_input", "priority", json=_ticket(priority="P9")
    ),
    "unknown kind": Case(
        "POST", TICKETS, 422, "invalid_input", "kind", json=_ticket(kind="complaint")
    ),
    "instant as a number": Case(
        "POST", TICKETS, 422, "invalid_input", "reported_at", json=_ticket(reported_at=1.7e9)
    ),
    # Ids that name nothing (or nothing of this contract).
    "unknown institution": Case(
        "POST", TICKETS, 422, "invalid_input", "institution",
        json=_ticket(institution_id=NO_SUCH_ID),
    ),
    "another contract's institution": Case(
        "POST", TICKETS, 422, "invalid_input", "institution",
        json=_ticket(institution_id=lambda ctx: ctx.other.institution_id),
    ),
    "unknown configuration item": Case(
        "POST", TICKETS, 422, "invalid_input", "configuration item",
        json=_ticket(configuration_item_id=NO_SUCH_ID),
    ),
    "another contract's configuration item": Case(
        "POST", TICKETS, 422, "invalid_input", "configuration item",
        json=_ticket(configuration_item_id=lambda ctx: ctx.other.configuration_item_id),
    ),
    "a requester as assignee": Case(
        "POST", TICKETS, 422, "invalid_input", "engineer",
        json=_ticket(assignee_id=lambda ctx: ctx.world.users["requester"]),
    ),
    "another contract's engineer as assignee": Case(
        "POST", TICKETS, 422, "invalid_input", "engineer",
        json=_ticket(assignee_id=lambda ctx: ctx.other.users["engineer"]),
    ),
    "unknown assignee": Case(
        "POST", TICKETS, 422, "invalid_input", "engineer", json=_ticket(assignee_id=NO_SUCH_ID)
    ),
    # Too long, empty, or with characters no text should hold.
    "title of 201 characters": Case(
        "POST", TICKETS, 422, "invalid_input", "title", json=_ticket(title="票" * 201)
    ),
    "empty title": Case("POST", TICKETS, 422, "invalid_input", "title", json=_ticket(title="")),
    "reporter name of 101 characters": Case(
        "POST", TICKETS, 422, "invalid_input", "reporter_name",
        json=_ticket(reporter_name="x" * 101),
    ),
    "phone of 33 characters": Case(
        "POST", TICKETS, 422, "invalid_input", "reporter_phone",
        json=_ticket(reporter_phone="1" * 33),
    ),
    "description of 10001 characters": Case(
        "POST", TICKETS, 422, "invalid_input", "description", json=_ticket(description="x" * 10_001)
    ),
    "NUL in the title": Case(
        "POST", TICKETS, 422, "invalid_input", "control", json=_ticket(title="打印\x00机")
    ),
    "bell in the description": Case(
        "POST", TICKETS, 422, "invalid_input", "control", json=_ticket(description="ding\x07")
    ),
    "escape in the reporter's name": Case(
        "POST", TICKETS, 422, "invalid_input", "control", json=_ticket(reporter_name="\x1b[31m刘")
    ),
    "lone surrogate in the title": Case(
        "POST", TICKETS, 422, "invalid_input", "title",
        data=_raw_ticket("@@", '"\\ud800 printer"'), content_type=JSON,
    ),
    # Instants.
    "reported in the future": Case(
        "POST", TICKETS, 422, "invalid_input", "future", json=_ticket(reported_at=_future),
    ),
    "reported 73 hours ago": Case(
        "POST", TICKETS, 422, "invalid_input", "72 hours", json=_ticket(reported_at=_past(73)),
    ),
    "reported in year 2": Case(
        "POST", TICKETS, 422, "invalid_input", "72 hours",
        json=_ticket(reported_at="0002-01-01T00:00:00+00:00"),
    ),
    "naive reported_at": Case(
        "POST", TICKETS, 422, "invalid_input", "reported_at",
        json=_ticket(reported_at="2025-10-01T10:00:00"),
    ),
    "reported_at in words": Case(
        "POST", TICKETS, 422, "invalid_input", "reported_at", json=_ticket(reported_at="yesterday")
    ),
    "reported_at before year 1 in UTC": Case(
        "POST", TICKETS, 422, "invalid_input", "reported_at",
        json=_ticket(reported_at="0001-01-01T00:00:00+14:00"),
    ),
    "reported on February 30th": Case(
        "POST", TICKETS, 422, "invalid_input", "reported_at",
        json=_ticket(reported_at="2025-02-30T10:00:00+08:00"),
    ),
    # Huge and non-positive integers.
    "id of 2**31": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id", json=_ticket(institution_id=2**31)
    ),
    "id of 2**63": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id", json=_ticket(institution_id=2**63)
    ),
    "id of 10**40": Case(
        "POST", TICKETS, 422, "invalid_input", "configuration_item_id",
        json=_ticket(configuration_item_id=10**40),
    ),
    "id of 0": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id", json=_ticket(institution_id=0)
    ),
    "negative id": Case(
        "POST", TICKETS, 422, "invalid_input", "assignee_id", json=_ticket(assignee_id=-1)
    ),
    "id of 1e400": Case(
        "POST", TICKETS, 422, "invalid_input", "institution_id",
        data=_raw_ticket("@@", '"x", "institution_id": 1e400'), content_type=JSON,
    ),
    # Headers.
    "Idempotency-Key with a space": Case(
        "POST", TICKETS, 400, "bad_request", "Idempotency-Key", json=_ticket(),
        headers=lambda ctx: {"Idempotency-Key": "call 42"},
    ),
    "Idempotency-Key of 201 characters": Case(
        "POST", TICKETS, 400, "bad_request", "Idempotency-Key", json=_ticket(),
        headers=lambda ctx: {"Idempotency-Key": "k" * 201},
    ),
    "empty Idempotency-Key": Case(
        "POST", TICKETS, 400, "bad_request", "Idempotency-Key", json=_ticket(),
        headers=lambda ctx: {"Idempotency-Key": ""},
    ),
    "Idempotency-Key not ASCII": Case(
        "POST", TICKETS, 400, "bad_request", "Idempotency-Key", json=_ticket(),
        headers=lambda ctx: {"Idempotency-Key": "café"},
    ),
    # A requester files only for their institution, and does not assign.
    "a requester assigning": Case(
        "POST", TICKETS, 403, "forbidden", "assign", who="requester",
        json=_ticket(assignee_id=lambda ctx: ctx.world.users["engineer"]),
    ),
}  # fmt: skip


def _patch(**body: Any) -> Callable[[Ctx], dict[str, Any]]:
    return lambda ctx: {k: v(ctx) if callable(v) else v for k, v in body.items()}


EDIT = {
    "no If-Match": Case(
        "PATCH", TICKET, 428, "precondition_required", "If-Match", json=_patch(title="x"),
        if_match=False,
    ),
    "If-Match garbage": Case(
        "PATCH", TICKET, 412, "precondition_failed", "If-Match", json=_patch(title="x"),
        if_match=False, headers=lambda ctx: {"If-Match": "garbage"},
    ),
    "If-Match *": Case(
        "PATCH", TICKET, 412, "precondition_failed", "If-Match", json=_patch(title="x"),
        if_match=False, headers=lambda ctx: {"If-Match": "*"},
    ),
    "If-Match of another ticket": Case(
        "PATCH", TICKET, 412, "precondition_failed", "If-Match", json=_patch(title="x"),
        if_match=False, headers=lambda ctx: {"If-Match": f'"{ctx.tid + 1}-1"'},
    ),
    "If-Match of an old version": Case(
        "PATCH", TICKET, 412, "precondition_failed", "reload", json=_patch(title="x"),
        if_match=False,
        headers=lambda ctx: {"If-Match": f'"{ctx.tid}-{ctx.ticket["version"] + 5}"'},
    ),
    "If-Match with 5000 digits": Case(
        "PATCH", TICKET, 412, "precondition_failed", "If-Match", json=_patch(title="x"),
        if_match=False, headers=lambda ctx: {"If-Match": f'"{ctx.tid}-{"9" * 5000}"'},
    ),
    "malformed JSON": Case(
        "PATCH", TICKET, 400, "invalid_input", "JSON", data=_raw("{title: x}"), content_type=JSON
    ),
    "a JSON array": Case("PATCH", TICKET, 422, "invalid_input", "type", json=_const(["title"])),
    "the state": Case("PATCH", TICKET, 422, "invalid_input", "state", json=_patch(state="closed")),
    "the version": Case("PATCH", TICKET, 422, "invalid_input", "version", json=_patch(version=1)),
    "the institution": Case(
        "PATCH", TICKET, 422, "invalid_input", "institution_id",
        json=_patch(institution_id=lambda ctx: ctx.world.second_institution_id),
    ),
    "title null": Case("PATCH", TICKET, 422, "invalid_input", "title", json=_patch(title=None)),
    "title of 201 characters": Case(
        "PATCH", TICKET, 422, "invalid_input", "title", json=_patch(title="x" * 201)
    ),
    "NUL in the description": Case(
        "PATCH", TICKET, 422, "invalid_input", "control", json=_patch(description="a\x00b")
    ),
    "unknown priority": Case(
        "PATCH", TICKET, 422, "invalid_input", "priority", json=_patch(priority="urgent")
    ),
    "priority as a number": Case(
        "PATCH", TICKET, 422, "invalid_input", "priority", json=_patch(priority=1)
    ),
    "reported in the future": Case(
        "PATCH", TICKET, 422, "invalid_input", "future", json=_patch(reported_at=_future),
    ),
    "naive reported_at": Case(
        "PATCH", TICKET, 422, "invalid_input", "reported_at",
        json=_patch(reported_at="2025-10-01 10:00"),
    ),
    "another contract's configuration item": Case(
        "PATCH", TICKET, 422, "invalid_input", "configuration item",
        json=_patch(configuration_item_id=lambda ctx: ctx.other.configuration_item_id),
    ),
    "a requester as assignee": Case(
        "PATCH", TICKET, 422, "invalid_input", "engineer",
        json=_patch(assignee_id=lambda ctx: ctx.world.users["requester2"]),
    ),
    "another contract's engineer as assignee": Case(
        "PATCH", TICKET, 422, "invalid_input", "engineer",
        json=_patch(assignee_id=lambda ctx: ctx.other.users["engineer"]),
    ),
    "huge assignee id": Case(
        "PATCH", TICKET, 422, "invalid_input", "assignee_id", json=_patch(assignee_id=2**64)
    ),
    "a requester changing the priority": Case(
        "PATCH", TICKET, 403, "forbidden", "priority", json=_patch(priority="P1"), who="requester"
    ),
    "a good field with a bad one": Case(
        "PATCH", TICKET, 422, "invalid_input", "configuration item",
        json=_patch(title="新标题", configuration_item_id=NO_SUCH_ID),
    ),
}  # fmt: skip


def _fire(**body: Any) -> Callable[[Ctx], dict[str, Any]]:
    return _patch(**body)


TRANSITION = {
    "no If-Match": Case(
        "POST", TRANSITIONS, 428, "precondition_required", "If-Match",
        json=_fire(trigger="acknowledge"), if_match=False,
    ),
    "unknown trigger": Case(
        "POST", TRANSITIONS, 409, "transition_refused", "fly", json=_fire(trigger="fly")
    ),
    "a trigger not allowed now": Case(
        "POST", TRANSITIONS, 409, "transition_refused", "close", json=_fire(trigger="close")
    ),
    "no trigger": Case("POST", TRANSITIONS, 422, "invalid_input", "trigger", json=_fire(note="x")),
    "empty trigger": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "trigger", json=_fire(trigger="")
    ),
    "trigger as a number": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "trigger", json=_fire(trigger=7)
    ),
    "unknown field": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "to_state",
        json=_fire(trigger="acknowledge", to_state="closed"),
    ),
    "latitude 91": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "latitude",
        json=_fire(trigger="acknowledge", position={"latitude": 91, "longitude": 116.4}),
    ),
    "latitude NaN": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "latitude",
        data=_raw('{"trigger": "acknowledge", "position": {"latitude": NaN, "longitude": 1}}'),
        content_type=JSON,
    ),
    "longitude Infinity": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "longitude",
        data=_raw('{"trigger": "acknowledge", "position": {"latitude": 1, "longitude": Infinity}}'),
        content_type=JSON,
    ),
    "position without longitude": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "longitude",
        json=_fire(trigger="acknowledge", position={"latitude": 39.9}),
    ),
    "position as text": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "position",
        json=_fire(trigger="acknowledge", position="天安门"),
    ),
    "a requester as assignee": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "engineer",
        json=_fire(trigger="dispatch", assignee_id=lambda ctx: ctx.world.users["requester"]),
    ),
    "another contract's engineer as assignee": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "engineer",
        json=_fire(trigger="dispatch", assignee_id=lambda ctx: ctx.other.users["engineer"]),
    ),
    "unknown assignee": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "engineer",
        json=_fire(trigger="dispatch", assignee_id=NO_SUCH_ID),
    ),
    "an assignee with a trigger that takes none": Case(
        "POST", TRANSITIONS, 409, "transition_refused", "assignee",
        json=_fire(trigger="cancel", assignee_id=lambda ctx: ctx.world.users["engineer"]),
    ),
    "NUL in the note": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "control",
        json=_fire(trigger="acknowledge", note="\x00"),
    ),
    "note of 10001 characters": Case(
        "POST", TRANSITIONS, 422, "invalid_input", "note",
        json=_fire(trigger="acknowledge", note="x" * 10_001),
    ),
    "a requester acknowledging": Case(
        "POST", TRANSITIONS, 409, "transition_refused", "acknowledge",
        json=_fire(trigger="acknowledge"), who="requester",
    ),
}  # fmt: skip

COMMENT = {
    "empty body": Case("POST", COMMENTS, 422, "invalid_input", "body", json=_const({"body": ""})),
    "no body": Case("POST", COMMENTS, 422, "invalid_input", "body", json=_const({})),
    "body of 10001 characters": Case(
        "POST", COMMENTS, 422, "invalid_input", "body", json=_const({"body": "x" * 10_001})
    ),
    "NUL in the body": Case(
        "POST", COMMENTS, 422, "invalid_input", "control", json=_const({"body": "a\x00"})
    ),
    "body as an object": Case(
        "POST", COMMENTS, 422, "invalid_input", "body", json=_const({"body": {"text": "x"}})
    ),
    "internal as a word": Case(
        "POST", COMMENTS, 422, "invalid_input", "internal",
        json=_const({"body": "x", "internal": "sometimes"}),
    ),
    "unknown field": Case(
        "POST", COMMENTS, 422, "invalid_input", "author_id",
        json=_const({"body": "x", "author_id": 1}),
    ),
    "malformed JSON": Case(
        "POST", COMMENTS, 400, "invalid_input", "JSON", data=_raw('{"body": }'), content_type=JSON
    ),
    "an internal note by a requester": Case(
        "POST", COMMENTS, 422, "invalid_input", "internal",
        json=_const({"body": "x", "internal": True}), who="requester",
    ),
}  # fmt: skip

ATTACH = {
    "an executable": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", ".exe", data=_upload("setup.exe", b"MZ\x90\x00"),
        content_type=MULTIPART,
    ),
    "no extension": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "accepted", data=_upload("README", b"hello"),
        content_type=MULTIPART,
    ),
    "text named .png": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", ".png", data=_upload("screen.png", b"hello"),
        content_type=MULTIPART,
    ),
    "a PNG named .pdf": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", ".pdf", data=_upload("report.pdf", PNG),
        content_type=MULTIPART,
    ),
    "a PNG named .jpg": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", ".jpg", data=_upload("photo.jpg", PNG),
        content_type=MULTIPART,
    ),
    "binary named .txt": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "text", data=_upload("log.txt", b"ab\x00cd"),
        content_type=MULTIPART,
    ),
    "Latin-1 named .log": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "UTF-8",
        data=_upload("app.log", "café crème brûlée".encode("latin-1")), content_type=MULTIPART,
    ),
    "one byte over the limit": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "200,000",
        data=_upload("big.txt", b"x" * 200_001), content_type=MULTIPART,
    ),
    "far over the limit": Case(
        "POST", ATTACHMENTS, 413, "request_entity_too_large", "limit",
        data=_multipart("huge.txt", b"x" * 1_400_000),
        content_type=f"{MULTIPART}; boundary={BOUNDARY}",
    ),
    "an empty file": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "empty", data=_upload("empty.txt", b""),
        content_type=MULTIPART,
    ),
    "a name of only spaces": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "name", data=_upload("   ", b"hello"),
        content_type=MULTIPART,
    ),
    "no file field": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "file",
        data=lambda ctx: {"document": (io.BytesIO(b"hello"), "a.txt")}, content_type=MULTIPART,
    ),
    "the file as a text field": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "file", data=lambda ctx: {"file": "hello"},
        content_type=MULTIPART,
    ),
    "JSON instead of a file": Case(
        "POST", ATTACHMENTS, 422, "invalid_input", "file", json=_const({"file": "aGVsbG8="})
    ),
}  # fmt: skip

UNKNOWN = {
    "unknown ticket": Case("GET", f"{TICKETS}/{NO_SUCH_ID}", 404, "not_found", str(NO_SUCH_ID)),
    "ticket id of 0": Case("GET", f"{TICKETS}/0", 404, "not_found", "ticket 0"),
    "ticket id of 2**31": Case("GET", f"{TICKETS}/{2**31}", 404, "not_found", "URL"),
    "ticket id of 30 digits": Case("GET", f"{TICKETS}/{10**30}", 404, "not_found", "URL"),
    "negative ticket id": Case("GET", f"{TICKETS}/-1", 404, "not_found", "URL"),
    "ticket id in words": Case("GET", f"{TICKETS}/one", 404, "not_found", "URL"),
    "editing an unknown ticket": Case(
        "PATCH", f"{TICKETS}/{NO_SUCH_ID}", 404, "not_found", str(NO_SUCH_ID),
        json=_patch(title="x"), if_match=False,
        headers=lambda ctx: {"If-Match": f'"{NO_SUCH_ID}-1"'},
    ),
    "firing on an unknown ticket": Case(
        "POST", f"{TICKETS}/{NO_SUCH_ID}/transitions", 404, "not_found", str(NO_SUCH_ID),
        json=_fire(trigger="acknowledge"), if_match=False,
        headers=lambda ctx: {"If-Match": f'"{NO_SUCH_ID}-1"'},
    ),
    "commenting on an unknown ticket": Case(
        "POST", f"{TICKETS}/{NO_SUCH_ID}/comments", 404, "not_found", str(NO_SUCH_ID),
        json=_const({"body": "x"}),
    ),
    "attaching to an unknown ticket": Case(
        "POST", f"{TICKETS}/{NO_SUCH_ID}/attachments", 404, "not_found", str(NO_SUCH_ID),
        data=_upload("a.txt", b"hello"), content_type=MULTIPART,
    ),
    "unknown attachment": Case(
        "GET", f"{ATTACHMENTS}/{NO_SUCH_ID}", 404, "not_found", str(NO_SUCH_ID)
    ),
    "unknown institution": Case(
        "GET", f"/api/v1/institutions/{NO_SUCH_ID}", 404, "not_found", str(NO_SUCH_ID)
    ),
    "institution id of 20 digits": Case(
        "GET", f"/api/v1/institutions/{10**20}", 404, "not_found", "URL"
    ),
    "unknown contract": Case("GET", "/api/v1/contracts/NOPE", 404, "not_found", "NOPE"),
    "contract code with NUL": Case("GET", "/api/v1/contracts/C%00", 404, "not_found", "contract"),
    "contract code of 33 characters": Case(
        "GET", "/api/v1/contracts/" + "C" * 33, 404, "not_found", "URL"
    ),
    "unknown path": Case("GET", "/api/v1/ticket", 404, "not_found", "URL"),
    "unknown method": Case("DELETE", TICKET, 405, "method_not_allowed", "method"),
}  # fmt: skip

QUERY = {
    f"?{query if len(query) < 50 else query[:40] + '...'}": Case(
        "GET", f"{TICKETS}?{query}", 422, "invalid_input", name
    )
    for query, name in [
        ("page=0", "page"),
        ("page=abc", "page"),
        (f"page={10**30}", "page"),
        (f"page={'9' * 5000}", "page"),
        ("per_page=0", "per_page"),
        ("per_page=201", "per_page"),
        ("state=bogus", "state"),
        ("priority=P9", "priority"),
        ("institution_id=abc", "institution_id"),
        ("institution_id=0", "institution_id"),
        ("institution_id=1.5", "institution_id"),
        (f"institution_id={2**31}", "institution_id"),
        (f"assignee_id={10**30}", "assignee_id"),
        ("reported_from=2025-10-01T10:00:00", "reported_from"),
        ("reported_from=0001-01-01T00:00:00%2B14:00", "reported_from"),
        ("reported_to=9999-12-31T23:59:59-14:00", "reported_to"),
        ("reported_to=tomorrow", "reported_to"),
        ("q=%00", "q"),
        ("q=%ED%A0%80x%1B", "q"),
        (f"q={'x' * 101}", "q"),
        ("contract=%00", "contract"),
    ]
} | {
    "?contract=unknown": Case("GET", f"{TICKETS}?contract=NOPE", 404, "not_found", "NOPE"),
    "institutions ?kind=bogus": Case(
        "GET", "/api/v1/institutions?kind=bogus", 422, "invalid_input", "kind"
    ),
    "institutions ?district_id=x": Case(
        "GET", "/api/v1/institutions?district_id=x", 422, "invalid_input", "district_id"
    ),
    "users ?role=boss": Case("GET", "/api/v1/users?role=boss", 422, "invalid_input", "role"),
}  # fmt: skip

AUTH = {
    "no token": Case("GET", TICKETS, 401, "unauthorized", "Bearer", who=""),
    "a wrong token": Case(
        "GET", TICKETS, 401, "unauthorized", "token", who="",
        headers=lambda ctx: {"Authorization": "Bearer not-a-token"},
    ),
    "basic auth": Case(
        "GET", TICKETS, 401, "unauthorized", "Bearer", who="",
        headers=lambda ctx: {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ),
    "filing without a token": Case(
        "POST", TICKETS, 401, "unauthorized", "Bearer", who="", json=_ticket()
    ),
}  # fmt: skip

ALL = {
    f"{group} {name}": case
    for group, cases in [
        ("create:", CREATE),
        ("edit:", EDIT),
        ("transition:", TRANSITION),
        ("comment:", COMMENT),
        ("attach:", ATTACH),
        ("unknown:", UNKNOWN),
        ("query:", QUERY),
        ("auth:", AUTH),
    ]
    for name, case in cases.items()
}


@dataclass(frozen=True)
class Footprint:
    """Everything a request could have written for these worlds."""

    tickets: tuple[tuple[int, int, str], ...]
    events: int
    comments: int
    attachments: int
    idempotency_records: int
    files: tuple[str, ...]


def footprint(app: Flask, db: Database, *worlds: World) -> Footprint:
    contracts = [w.contract_id for w in worlds]
    users = [uid for w in worlds for uid in w.users.values()]
    of_these = select(Ticket.id).where(Ticket.contract_id.in_(contracts))

    def count(model: Any, *where: Any) -> int:
        return db_session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    with db.sessions() as db_session:
        tickets = db_session.execute(
            select(Ticket.id, Ticket.version, Ticket.state)
            .where(Ticket.contract_id.in_(contracts))
            .order_by(Ticket.id)
        ).all()
        result = Footprint(
            tickets=tuple((t.id, t.version, t.state) for t in tickets),
            events=count(TicketEvent, TicketEvent.ticket_id.in_(of_these)),
            comments=count(Comment, Comment.ticket_id.in_(of_these)),
            attachments=count(Attachment, Attachment.ticket_id.in_(of_these)),
            idempotency_records=count(IdempotencyRecord, IdempotencyRecord.user_id.in_(users)),
            files=tuple(
                sorted(
                    str(p)
                    for p in app.config["ITSM_SETTINGS"].attachments_path.rglob("*")
                    if p.is_file()
                )
            ),
        )
    return result


def send(client: FlaskClient, ctx: Ctx, case: Case) -> TestResponse:
    headers = ctx.world.headers(case.who) if case.who else {}
    if case.if_match and case.path in (TICKET, TRANSITIONS):
        headers["If-Match"] = ctx.etag
    headers.update(case.headers(ctx))
    kwargs: dict[str, Any] = {"headers": headers}
    if case.json is not None:
        kwargs["json"] = case.json(ctx)
    if case.data is not None:
        kwargs["data"] = case.data(ctx)
    if case.content_type is not None:
        kwargs["content_type"] = case.content_type
    return client.open(case.path.format(tid=ctx.tid), method=case.method, **kwargs)


def assert_actionable_error(
    response: TestResponse, status: int, code: str, mention: str | None
) -> None:
    """A JSON error: its status, a code, and a sentence that names what to fix."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status
    assert body["code"] == code
    assert re.fullmatch(r"[a-z][a-z_]+", body["code"])
    message = body["message"]
    assert isinstance(message, str) and len(message.split()) >= 3, message
    assert "Traceback" not in message and "sqlalchemy" not in message.lower()
    if mention is not None:
        assert mention in message, (mention, message)


@pytest.fixture
def ctx(client: FlaskClient, world: World, other_world: World) -> Ctx:
    return Ctx(world, other_world, world.open_ticket(client))


@pytest.mark.parametrize("case", ALL.values(), ids=ALL.keys())
def test_bad_input_is_refused_plainly_and_writes_nothing(
    app: Flask, db: Database, client: FlaskClient, ctx: Ctx, case: Case
) -> None:
    before = footprint(app, db, ctx.world, ctx.other)
    response = send(client, ctx, case)
    assert_actionable_error(response, case.status, case.code, case.mention)
    assert footprint(app, db, ctx.world, ctx.other) == before


def test_the_cases_are_sound(client: FlaskClient, ctx: Ctx) -> None:
    """Good requests of each kind succeed in the same setup: the cases are refused for their
    fault, not for the setup (a wrong token, a stale ETag, a full attachments folder)."""
    fixed = {
        "create": Case("POST", TICKETS, 201, "", json=_ticket()),
        "edit": Case("PATCH", TICKET, 200, "", json=_patch(title="新标题")),
        "comment": Case("POST", COMMENTS, 201, "", json=_const({"body": "好的"})),
        "attach": Case(
            "POST", ATTACHMENTS, 201, "", data=_upload("screen.png", PNG), content_type=MULTIPART
        ),
        "attach at the limit": Case(
            "POST", ATTACHMENTS, 201, "", data=_upload("big.txt", b"x" * 200_000),
            content_type=MULTIPART,
        ),
        "filter": Case(
            "GET", f"{TICKETS}?institution_id={ctx.world.institution_id}&page=1&per_page=200"
            "&reported_from=2025-10-01T10:00:00%2B08:00&state=new&priority=P2", 200, "",
        ),
    }  # fmt: skip
    for name, case in fixed.items():
        response = send(client, ctx, case)
        assert response.status_code == case.status, (name, response.get_json())
        # Each change moves the ETag on.
        ctx.ticket = client.get(f"{TICKETS}/{ctx.tid}", headers=ctx.world.headers("agent")).json
    page = send(client, ctx, fixed["filter"]).get_json()
    assert ctx.tid in {item["id"] for item in page["items"]}
    assert {item["institution"]["id"] for item in page["items"]} == {ctx.world.institution_id}
    fire = send(client, ctx, Case("POST", TRANSITIONS, 200, "", json=_fire(trigger="acknowledge")))
    assert fire.status_code == 200, fire.get_json()


def test_a_long_file_name_keeps_its_extension(client: FlaskClient, ctx: Ctx) -> None:
    name = "扫描件" * 80 + ".pdf"
    response = send(
        client,
        ctx,
        Case(
            "POST", ATTACHMENTS, 201, "", data=_upload(name, b"%PDF-1.7\n"), content_type=MULTIPART
        ),
    )
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()["filename"]
    assert len(stored) == 200 and stored.endswith(".pdf")


def test_control_characters_are_dropped_from_a_file_name(client: FlaskClient, ctx: Ctx) -> None:
    """PostgreSQL refuses NUL in text; a name is the uploader's device's, so clean it."""
    response = send(
        client,
        ctx,
        Case(
            "POST",
            ATTACHMENTS,
            201,
            "",
            data=_upload("日志\x00\x1f.log", b"ok\n"),
            content_type=MULTIPART,
        ),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["filename"] == "日志.log"


def test_a_reused_idempotency_key_with_another_body_writes_nothing(
    app: Flask, db: Database, client: FlaskClient, ctx: Ctx
) -> None:
    headers = ctx.world.headers("agent", **{"Idempotency-Key": "hotline-0001"})
    first = client.post(TICKETS, json=ctx.world.ticket_body(), headers=headers)
    assert first.status_code == 201
    before = footprint(app, db, ctx.world, ctx.other)
    again = client.post(TICKETS, json=ctx.world.ticket_body(title="别的问题"), headers=headers)
    assert_actionable_error(again, 422, "idempotency_key_reused", "Idempotency-Key")
    assert footprint(app, db, ctx.world, ctx.other) == before
