"""Every answer of the app carries the security headers: pages, API, files, errors.

Pages get a strict Content-Security-Policy (no inline script or style, nothing from another
origin, never in a frame); files and the API a policy that lets Chrome show a PDF inline and
nothing else; nothing a signed-in person or a token reads is kept by a browser or proxy cache.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import templates
from itsm.db import Database
from tests.factories import World
from tests.pages import sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n"
TEMPLATES = Path(templates.__file__).parent
SERVED = sorted(p for p in TEMPLATES.rglob("*.html") if "reports" not in p.parts)
"""Templates a browser gets: not the reports', which WeasyPrint prints (inline styles are
how a print layout is written) and which are only ever sent as PDF files."""


def _directives(response: TestResponse) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    assert policy, f"{response.request.path} has no Content-Security-Policy"
    parts = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def assert_common_headers(response: TestResponse) -> None:
    path = response.request.path
    assert response.status_code < 500, (path, response.status_code)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("X-Frame-Options") == "DENY", path
    assert response.headers.get("Referrer-Policy") == "same-origin", path
    assert _directives(response)["frame-ancestors"] == "'none'", path


def assert_page_policy(response: TestResponse) -> None:
    assert_common_headers(response)
    assert response.mimetype == "text/html"
    csp = _directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]


def assert_not_stored(response: TestResponse) -> None:
    assert response.headers.get("Cache-Control") == "no-store", (
        response.request.path,
        response.headers.get("Cache-Control"),
    )


def test_the_sign_in_page_and_errors_carry_the_page_policy(client: FlaskClient) -> None:
    for path in ("/", "/signin", "/nowhere", "/api/v1/docs"):
        response = client.get(path)
        assert_page_policy(response)
        assert_not_stored(response)  # the sign-in form carries a CSRF token


def test_signed_in_pages_are_never_stored(client: FlaskClient, db: Database, world: World) -> None:
    ticket = world.open_ticket(client)
    pages = {
        "agent": ["/hotline", "/hotline/queue", "/hotline/search?q=a", f"/tickets/{ticket['id']}"],
        "engineer": ["/my", f"/tickets/{ticket['id']}"],
        "requester": ["/portal", "/portal/new", f"/tickets/{ticket['id']}", "/hotline"],
    }
    for who, paths in pages.items():
        person = client.application.test_client()
        sign_in(person, db, world, who)
        for path in paths:
            response = person.get(path)
            assert_page_policy(response)
            assert_not_stored(response)
        redirect = person.get("/")
        assert redirect.status_code == 302
        assert_common_headers(redirect)
        assert_not_stored(redirect)


def test_the_api_answers_carry_the_headers_and_are_never_stored(
    client: FlaskClient, world: World
) -> None:
    ticket = world.open_ticket(client)
    for path, status in [
        ("/api/v1/tickets", 200),
        (f"/api/v1/tickets/{ticket['id']}", 200),
        ("/api/v1/tickets/2147483647", 404),
    ]:
        response = client.get(path, headers=world.headers("agent"))
        assert response.status_code == status
        assert_common_headers(response)
        assert_not_stored(response)
    refused = client.get("/api/v1/tickets")
    assert refused.status_code == 401
    assert_common_headers(refused)


@pytest.mark.parametrize(
    ("name", "content", "mimetype"),
    [("现场.png", PNG, "image/png"), ("报告.pdf", PDF, "application/pdf"), ("a.log", b"ok\n", "")],
    ids=["png", "pdf", "log"],
)
def test_attachments_are_served_with_nosniff_and_never_stored(
    client: FlaskClient, db: Database, world: World, name: str, content: bytes, mimetype: str
) -> None:
    ticket = world.open_ticket(client)
    uploaded = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=world.headers("agent"),
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    attachment = uploaded.get_json()["id"]
    sign_in(client, db, world, "agent")
    for response in (
        client.get(f"/tickets/{ticket['id']}/files/{attachment}"),
        client.get(
            f"/api/v1/tickets/{ticket['id']}/attachments/{attachment}",
            headers=world.headers("agent"),
        ),
    ):
        assert response.status_code == 200
        assert response.get_data() == content
        if mimetype:
            assert response.mimetype == mimetype
        assert_common_headers(response)
        assert_not_stored(response)
        csp = _directives(response)
        assert csp["default-src"] == "'none'"
        assert csp["script-src"] == "'none'"
        # Chrome shows a PDF through a plugin of the same origin in a page of its own making.
        assert csp["object-src"] == "'self'"
        response.close()


def test_static_files_carry_the_headers_and_may_be_cached(client: FlaskClient) -> None:
    html = client.get("/signin").get_data(as_text=True) + client.get("/api/v1/docs").get_data(
        as_text=True
    )
    assets = re.findall(r'(?:href|src)="(/(?:static|bootstrap)/[^"]+)"', html)
    assert len(assets) >= 4, assets  # Bootstrap's CSS and JS, ours, the API docs' stylesheet
    for path in assets:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_common_headers(response)
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
        response.close()


INLINE = {
    "an inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("template", SERVED, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_needs_unsafe_inline(template: Path) -> None:
    """The policy allows neither inline script nor inline style: nothing may need them."""
    text = template.read_text()
    for what, pattern in INLINE.items():
        found = pattern.search(text)
        assert found is None, f"{template.name} has {what}: {found.group(0) if found else ''}"
