"""API authentication: every request but the docs carries `Authorization: Bearer <token>`."""

from __future__ import annotations

import time
from typing import Any

from flask import request

from itsm import caches
from itsm.accounts.services import users as user_service
from itsm.accounts.services.access import Actor
from itsm.api.base import API_PREFIX, PUBLIC_PATHS, error_body
from itsm.request_scope import act_as, db_session


def authenticate() -> Any:
    """Every API request but the docs needs `Authorization: Bearer <token>`."""
    if not request.path.startswith(API_PREFIX + "/") or request.path in PUBLIC_PATHS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    actor = None
    if scheme.lower() == "bearer" and token.strip():
        actor = _actor_for_token(token.strip())
    if actor is None:
        message = "sign in: send 'Authorization: Bearer <token>' with a valid API token"
        return error_body(401, "unauthorized", message), 401, {"WWW-Authenticate": "Bearer"}
    act_as(actor)
    return None


TOKEN_CACHE_SECONDS = 10.0
_token_cache: dict[str, tuple[float, Actor]] = {}
caches.register(
    "api-tokens", f"the actor of each API token, for {TOKEN_CACHE_SECONDS:g} s", _token_cache.clear
)


def _actor_for_token(token: str) -> Actor | None:
    """The actor a token stands for, remembered for a few seconds in this process.

    Three queries a request were a quarter of a ticket's creation; a revoked token or a
    deactivated user stops working here at most TOKEN_CACHE_SECONDS later.
    """
    now = time.monotonic()
    cached = _token_cache.get(token)
    if cached is not None and cached[0] > now:
        return cached[1]
    user = user_service.user_for_token(db_session(), token)
    if user is None:
        _token_cache.pop(token, None)
        return None
    actor = Actor.of(user)
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[token] = (now + TOKEN_CACHE_SECONDS, actor)
    return actor
