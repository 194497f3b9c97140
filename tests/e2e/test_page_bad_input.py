"""Hostile values in every field of every page form and query: a 4xx page, never a 500, and
nothing written but what a whole, accepted step writes.

Each form is read from its page as a browser would (its hidden fields), filled with good
values, then sent once per field and hostile value with that one field replaced. The body is
encoded by hand, so that bytes no browser would send (invalid UTF-8, an encoded lone
surrogate) arrive as such. A refusal must be a page in the user's language (Chinese here)
that says what is wrong, and leave the database as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from itsm.accounts.models import FormSubmission, SignInFailure
from itsm.db import Database
from itsm.tickets.models import Attachment, Comment, Ticket, TicketEvent
from tests.factories import World
from tests.pages import PASSWORD, form_of, give_password, sign_in, username

HOSTILE: dict[str, str | bytes] = {
    "NUL": "刘\x00医生",
    "escape": "\x1b[31m",
    "superscript two": "²",
    "fullwidth digits": "１２３",
    "30 digits": "9" * 30,
    "negative": "-1",
    "year 1": "0001-01-01T00:00",
    "year 9999": "9999-12-31T23:59",
    "100k characters": "x" * 100_000,
    "encoded lone surrogate": b"\xed\xa0\x80x",
    "not UTF-8": b"\xff\xfe\xfd",
    "spaces only": "   ",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def encode(values: dict[str, str | bytes]) -> bytes:
    """An x-www-form-urlencoded body of exactly these bytes (text as UTF-8)."""
    pairs = []
    for name, value in values.items():
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        pairs.append(f"{quote_from_bytes(name.encode())}={quote_from_bytes(raw)}")
    return "&".join(pairs).encode("ascii")


@dataclass
class Ctx:
    client: FlaskClient
    db: Database
    world: World
    api: FlaskClient
    ticket_id: int = 0


@dataclass(frozen=True)
class PageForm:
    """A form on a page: who uses it, how to get a page with it, what a person fills in."""

    who: str
    form_id: str
    page: Callable[[Ctx], str]
    typed: Callable[[Ctx], dict[str, str]] = field(default=lambda ctx: {})
    hidden: tuple[str, ...] = ()
    """Hidden fields (besides csrf_token) worth spoiling too."""


def _new_ticket(ctx: Ctx, **overrides: object) -> str:
    ctx.ticket_id = ctx.world.open_ticket(ctx.api, **overrides)["id"]
    return f"/tickets/{ctx.ticket_id}"


def _dispatched(ctx: Ctx) -> str:
    path = _new_ticket(ctx, onsite_required=True, assignee_id=ctx.world.users["engineer"])
    assert ctx.world.fire(ctx.api, ctx.ticket_id, "dispatch").status_code == 200
    return path


def _on_site(ctx: Ctx) -> str:
    path = _dispatched(ctx)
    assert ctx.world.fire(ctx.api, ctx.ticket_id, "arrive", who="engineer").status_code == 200
    return path


FORMS = {
    "sign-in": PageForm(
        "",
        "signin-form",
        lambda ctx: "/signin",
        lambda ctx: {"username": username(ctx.world, "agent"), "password": PASSWORD},
        ("next",),
    ),
    "hotline call": PageForm(
        "agent",
        "call-form",
        lambda ctx: "/hotline",
        lambda ctx: {
            "institution_id": str(ctx.world.institution_id),
            "reporter_name": "刘医生",
            "reporter_phone": "13912345678",
            "title": "收费系统无法打印发票",
            "description": "门诊二楼",
            "kind": "incident",
            "priority": "P2",
            "category": "software",
            "configuration_item_id": str(ctx.world.configuration_item_id),
            "reported_at": "",
            "onsite_required": "on",
        },
        ("form_token",),
    ),
    "portal request": PageForm(
        "requester",
        "request-form",
        lambda ctx: "/portal/new",
        lambda ctx: {
            "title": "打印机无法使用",
            "description": "二楼收费处",
            "kind": "request",
            "category": "hardware",
            "configuration_item_id": str(ctx.world.configuration_item_id),
            "reporter_name": "王老师",
            "reporter_phone": "13912345678",
        },
        ("form_token",),
    ),
    "step with a note": PageForm(
        "agent",
        "form-steps",
        _new_ticket,
        lambda ctx: {"trigger": "acknowledge", "note": "已受理"},
        ("form_token", "version"),
    ),
    "dispatch": PageForm(
        "agent",
        "form-dispatch",
        _new_ticket,
        lambda ctx: {"assignee_id": str(ctx.world.users["engineer"])},
        ("form_token", "version", "trigger"),
    ),
    "check-in": PageForm(
        "engineer",
        "form-arrive",
        _dispatched,
        lambda ctx: {"latitude": "39.91", "longitude": "116.4", "accuracy": "12"},
        ("form_token", "version", "trigger", "location_refused"),
    ),
    "resolve": PageForm(
        "engineer",
        "form-resolve",
        _on_site,
        lambda ctx: {"note": "更换打印机驱动"},
        ("form_token", "version", "trigger"),
    ),
    "assign": PageForm(
        "agent",
        "form-assign",
        _new_ticket,
        lambda ctx: {"assignee_id": str(ctx.world.users["engineer"])},
        ("form_token", "version"),
    ),
    "comment": PageForm(
        "agent",
        "form-comment",
        _new_ticket,
        lambda ctx: {"body": "已电话回访", "internal": "on"},
        ("form_token",),
    ),
}


def footprint(db: Database, world: World) -> tuple[object, ...]:
    """Everything a page's step could write for this world."""
    users = list(world.users.values())
    of_world = select(Ticket.id).where(Ticket.contract_id == world.contract_id)
    with db.sessions() as session:

        def count(model: type, *where: object) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

        tickets = session.execute(
            select(Ticket.id, Ticket.version, Ticket.state, Ticket.assignee_id)
            .where(Ticket.contract_id == world.contract_id)
            .order_by(Ticket.id)
        ).all()
        return (
            tuple(tuple(t) for t in tickets),
            count(TicketEvent, TicketEvent.ticket_id.in_(of_world)),
            count(Comment, Comment.ticket_id.in_(of_world)),
            count(Attachment, Attachment.ticket_id.in_(of_world)),
            count(FormSubmission, FormSubmission.user_id.in_(users)),
        )


def alert_of(response: TestResponse) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'role="alert"[^>]*>(.*?)</', html, re.S)
    assert match, f"no alert in the {response.status_code} page"
    return match.group(1)


def assert_refused_plainly(response: TestResponse, what: str) -> None:
    """A page (not a bare error) whose alert says what is wrong: in Chinese when the form's
    values were refused (422); a refusal of the step itself (a workflow guard's 409, a 404)
    says it as the service does."""
    assert 400 <= response.status_code < 500, (what, response.status_code)
    assert response.mimetype == "text/html", what
    alert = alert_of(response)
    if response.status_code == 422:
        assert CJK.search(alert), (what, alert[:300])
    assert "Traceback" not in alert and "sqlalchemy" not in alert.lower()


def _fill(ctx: Ctx, form: PageForm, path: str) -> tuple[str, dict[str, str | bytes]]:
    """The form's action and its values as a person would send them, read from its page."""
    html = ctx.client.get(path).get_data(as_text=True)
    action = re.search(rf'<form[^>]*action="([^"]+)"[^>]*id="{form.form_id}"', html)
    assert action, f"form {form.form_id} has no action on {path}"
    return action.group(1), {**form_of(html, form.form_id), **form.typed(ctx)}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_hostile_values_in_any_field_of_a_form_never_break_it(
    client: FlaskClient, db: Database, world: World, form: PageForm
) -> None:
    ctx = Ctx(client, db, world, client.application.test_client())
    if form.who:
        sign_in(client, db, world, form.who)
    else:
        give_password(db, world, "agent")
    # Failed sign-ins are counted per address: these come from an address of their own.
    address = {"REMOTE_ADDR": f"2001:db8::{world.contract_id:x}"}
    # A refused form writes nothing, so its page's tokens and version serve the next case;
    # an accepted one (or a counted failure) needs a fresh page (and ticket).
    fresh = True
    for name in sorted({*form.typed(ctx), *form.hidden}):
        for label, value in HOSTILE.items():
            what = f"{form.form_id} {name}={label}"
            if fresh:
                action, good = _fill(ctx, form, form.page(ctx))
                before = footprint(db, world)
                fresh = False
            response = client.post(
                action,
                data=encode({**good, name: value}),
                content_type="application/x-www-form-urlencoded",
                environ_base=address,
            )
            assert response.status_code < 500, (what, response.get_data(as_text=True)[:500])
            if response.status_code in (302, 303, 401):  # accepted as a whole; a wrong name
                if not form.who:
                    client.delete_cookie("session")  # signed in after all: sign out again
                fresh = True
                continue
            assert_refused_plainly(response, what)
            assert footprint(db, world) == before, what


REFUSED = [
    ("call-form", "title", "打印机\x00坏了"),
    ("call-form", "reporter_name", "刘\x00"),
    ("call-form", "description", "\x1b[31m"),
    ("call-form", "institution_id", "²"),
    ("call-form", "institution_id", "9" * 30),
    ("call-form", "institution_id", "-1"),
    ("call-form", "configuration_item_id", "１２３"),
    ("call-form", "reported_at", "0001-01-01T00:00"),
    ("call-form", "title", "x" * 201),
    ("call-form", "kind", "complaint"),
    ("call-form", "onsite_required", "maybe"),
    ("request-form", "title", "\x00"),
    ("request-form", "configuration_item_id", "²"),
    ("form-steps", "note", "\x00"),
    ("form-steps", "version", "²"),
    ("form-steps", "trigger", "explode"),
    ("form-assign", "assignee_id", "9" * 30),
    ("form-comment", "body", "好\x00"),
    ("form-comment", "internal", "\x00"),
    ("form-arrive", "latitude", "nan"),
    ("form-arrive", "latitude", "91"),
    ("form-resolve", "note", "x" * 10_001),
    ("signin-form", "username", "agent\x00"),
    ("signin-form", "username", "x" * 100_000),
]


@pytest.mark.parametrize(
    ("form_id", "name", "value"), REFUSED, ids=[f"{f} {n}" for f, n, _ in REFUSED]
)
def test_a_bad_value_is_refused_with_what_was_typed_kept(
    client: FlaskClient, db: Database, world: World, form_id: str, name: str, value: str
) -> None:
    form = next(f for f in FORMS.values() if f.form_id == form_id)
    ctx = Ctx(client, db, world, client.application.test_client())
    if form.who:
        sign_in(client, db, world, form.who)
    else:
        give_password(db, world, "agent")
    action, values = _fill(ctx, form, form.page(ctx))
    values[name] = value
    before = footprint(db, world)
    with db.sessions() as session:
        failures = session.scalar(select(func.count()).select_from(SignInFailure))
    response = client.post(action, data=values)
    assert response.status_code == 422, (form_id, name, response.get_data(as_text=True)[:500])
    assert_refused_plainly(response, f"{form_id} {name}")
    assert footprint(db, world) == before
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SignInFailure)) == failures
    page = response.get_data(as_text=True)
    kept = form_of(page, form_id)  # the form is there again, ready to send
    assert kept.get("csrf_token"), "the form comes back whole"
    for typed_name, typed in form.typed(ctx).items():
        if typed_name == name or typed_name in ("password", "kind", "category", "priority"):
            continue
        if re.fullmatch(r"[\d.]*|on", typed):
            continue  # ids, numbers and ticks are chosen, not typed
        assert typed in page, f"{typed_name}={typed!r} was not kept"


QUERIES = [
    ("/hotline", "q", "\x00"),
    ("/hotline", "q", "x" * 101),
    ("/hotline", "institution_id", "²"),
    ("/hotline", "institution_id", "9" * 30),
    ("/hotline", "institution_id", "-1"),
    ("/hotline/search", "q", "打印\x00"),
    ("/hotline/search", "q", "\x1b"),
]


@pytest.mark.parametrize(
    ("path", "name", "value"), QUERIES, ids=[f"{p}?{n}" for p, n, _ in QUERIES]
)
def test_a_bad_query_is_refused_plainly(
    client: FlaskClient, db: Database, world: World, path: str, name: str, value: str
) -> None:
    sign_in(client, db, world, "agent")
    response = client.get(path, query_string={name: value})
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert CJK.search(alert_of(response))


@pytest.mark.parametrize("path", ["/hotline", "/hotline/search"])
def test_hostile_queries_never_break_the_console(
    client: FlaskClient, db: Database, world: World, path: str
) -> None:
    sign_in(client, db, world, "agent")
    before = footprint(db, world)
    for name in ("q", "institution_id"):
        for label, value in HOSTILE.items():
            raw = value if isinstance(value, bytes) else value.encode()
            response = client.get(f"{path}?{name}={quote_from_bytes(raw)}")
            assert response.status_code < 500, (path, name, label)
            if response.status_code >= 400:
                assert CJK.search(alert_of(response)), (path, name, label)
    assert footprint(db, world) == before
