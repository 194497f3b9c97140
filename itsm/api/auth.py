"""API authentication: every request but the docs carries `Authorization: Bearer <token>`."""

from __future__ import annotations

from typing import Any

from flask import request

from itsm import clock
from itsm.accounts.services import tokens
from itsm.api.base import API_PREFIX, PUBLIC_PATHS, error_body
from itsm.request_scope import act_as, db_session


def authenticate() -> Any:
    """Every API request but the docs needs `Authorization: Bearer <token>`."""
    if not request.path.startswith(API_PREFIX + "/") or request.path in PUBLIC_PATHS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    actor = None
    if scheme.lower() == "bearer" and token.strip():
        actor = tokens.actor_for(db_session(), token.strip(), clock.now())
    if actor is None:
        message = (
            "sign in: send 'Authorization: Bearer <token>' with a valid API token "
            "(not revoked, not expired)"
        )
        return error_body(401, "unauthorized", message), 401, {"WWW-Authenticate": "Bearer"}
    act_as(actor)
    return None
