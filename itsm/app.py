"""The application factory: settings, database, API, pages. Nothing connects at import time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import templates
from itsm import outbox, security_headers
from itsm.config import Settings
from itsm.runtime import Runtime

TEMPLATE_FOLDER = Path(templates.__file__).parent


def create_app(
    settings: Settings | None = None, enqueue: outbox.Enqueue | None = None, **overrides: Any
) -> Flask:
    """Build the app from ITSM_* settings (or given ones), overrides last (tests).

    Outbox rows go to RQ on `ITSM_REDIS_URL` after commit, or to `enqueue` when given.
    """
    settings = settings or Settings.from_env(**overrides)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(
        "itsm",
        instance_path=str(settings.instance_path),
        template_folder=str(TEMPLATE_FOLDER),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        ITSM_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_attachment_bytes + 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.config.update(settings.extra)
    if settings.trusted_proxies:
        # The client's address and scheme as the proxies saw them: sign-in failures are
        # counted per client, not for the proxy's one address. Never trusted without proxies,
        # since any client can send these headers.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    logging.getLogger("itsm").setLevel(settings.log_level)
    runtime = Runtime(settings, "web", enqueue)
    app.extensions["itsm.runtime"] = runtime
    app.extensions["itsm.db"] = runtime.database

    from itsm.api.base import init_api
    from itsm.web import init_web

    init_api(app)
    init_web(app)
    security_headers.init_app(app)
    return app
