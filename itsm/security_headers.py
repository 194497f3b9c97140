"""The security headers of every answer of the app (pages, API, files), set in one place."""

from __future__ import annotations

from flask import Flask, Response, request

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Bootstrap draws its icons (menu, select arrow) as data: SVG
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""Pages: everything from this origin, nothing inline (no script, no style element or
attribute: the templates have none, a test keeps it so), never inside another site's frame."""

FILE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'none'",
        "object-src 'self'",
        "style-src 'unsafe-inline'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
"""Everything that is not a page (attachments, API answers, static files): no script at all.
Chrome shows an inline PDF through a plugin of the same origin in a page of its own making,
whose styles are inline (crbug.com/271452): `object-src 'self'` and inline style let it; an
upload is never HTML (its type is checked against its content) and nosniff keeps it so."""

CACHEABLE_ENDPOINTS = frozenset({"static", "bootstrap.static"})
"""The stylesheets and scripts every page loads: the same for everyone, so they may be cached.
Every other answer is either someone's data (signed in, or by token) or carries a CSRF token
(the sign-in form): never stored, so a shared hotline PC's back button or a proxy shows none
of it to the next person."""


def secure(response: Response) -> Response:
    """Add the security headers to an answer (an `after_request` hook)."""
    headers = response.headers
    is_page = response.mimetype == "text/html"
    headers["Content-Security-Policy"] = PAGE_POLICY if is_page else FILE_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(secure)
