"""Server-rendered pages: sign-in, hotline console, ticket page, engineer's work, portal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_bootstrap import Bootstrap5

from itsm.web import labels
from itsm.web.common import csrf

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    if request.accept_languages.best_match(["zh", "en"], default="zh") == "en":
        return "en"
    return DEFAULT_LANGUAGE


def init_web(app: Flask) -> None:
    """Extensions the pages need, and their blueprints (the API keeps its own auth)."""
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)  # customers' networks are closed
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # pages check it; API uses tokens
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    settings = app.config["ITSM_SETTINGS"]
    # Flask defines these keys, so setdefault would keep its own values (31 days, no
    # SameSite); they are set, unless given to create_app. A signed-in session is permanent:
    # its cookie and signature are renewed on each request and die after the idle time.
    session_cookie = {
        "PERMANENT_SESSION_LIFETIME": timedelta(seconds=settings.session_idle_seconds),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": settings.cookies_secure,
    }
    app.config.update({k: v for k, v in session_cookie.items() if k not in settings.extra})
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", settings.timezone)
    Babel(app, locale_selector=_locale)
    Bootstrap5(app)
    csrf.init_app(app)
    app.jinja_env.filters.update(labels.FILTERS)

    from itsm import areas

    for area in areas.AREAS:
        for reference in area.pages:
            app.register_blueprint(areas.attribute(reference))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"lang": str(get_locale()), "nav": labels.navigation()}
