"""API tokens: issued to a user (the secret shown once, only its SHA-256 kept), listed, revoked,
optionally expiring; and the actor a bearer token stands for, remembered for a few seconds."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from itsm import caches
from itsm.accounts.models import ApiToken, User
from itsm.accounts.services.access import Actor
from itsm.errors import Forbidden, InvalidInput, NotFound
from itsm.models.types import Role


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str
    """What the program sends as `Authorization: Bearer <secret>`; nobody can see it again."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    session: Session, user: User, name: str, expires_at: datetime | None, now: datetime
) -> Issued:
    """A new token for `user`, valid until revoked or until `expires_at` (if given)."""
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at must be in the future")
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        user=user,
        token_hash=_hash(secret),
        name=name,
        created_at=now,
        expires_at=expires_at.astimezone(UTC) if expires_at else None,
    )
    session.add(token)
    session.flush()
    return Issued(token, secret)


def owner_for(session: Session, actor: Actor, user_id: int | None) -> int:
    """Whose tokens the actor asks about: their own, or anyone's for an administrator."""
    if user_id is None or user_id == actor.user_id:
        return actor.user_id
    if actor.role != Role.ADMIN:
        raise Forbidden("only an administrator may see someone else's tokens")
    if session.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}")
    return user_id


def list_tokens(
    session: Session, owner_id: int, page: int, per_page: int
) -> tuple[list[ApiToken], int]:
    """A user's tokens, newest first, revoked and expired ones too."""
    query = select(ApiToken).where(ApiToken.user_id == owner_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(ApiToken.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(items), total


def find(session: Session, token_id: int, actor: Actor | None = None) -> ApiToken:
    """A token by its id; given an actor, only theirs (an administrator's: any)."""
    token = session.get(ApiToken, token_id)
    if token is None or (
        actor is not None and actor.role != Role.ADMIN and token.user_id != actor.user_id
    ):
        raise NotFound(f"no token {token_id}" + (" of yours" if actor else ""))
    return token


def revoke(session: Session, token: ApiToken, now: datetime) -> None:
    """Revoke a token: it is refused from now on (one revoked already stays as it was)."""
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    _forget(session, lambda key, _actor: key == token.token_hash)


CACHE_SECONDS = 10.0
_cache: dict[str, tuple[float, Actor, datetime | None]] = {}
caches.register(
    "api-tokens",
    f"the actor of each API token (by its hash) and its expiry, for {CACHE_SECONDS:g} s",
    _cache.clear,
)


def actor_for(session: Session, secret: str, now: datetime) -> Actor | None:
    """The actor a bearer token stands for, if it is valid now.

    Remembered for CACHE_SECONDS in this process (three queries a request were a quarter of
    a ticket's creation): a token revoked or a user deactivated here is refused at once, and
    in another process at most CACHE_SECONDS later; an expired token is refused on time.
    """
    key = _hash(secret)
    cached = _cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        _fresh_until, actor, expires_at = cached
        if expires_at is None or now < expires_at:
            return actor
    token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == key, ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.active or (token.expires_at and now >= token.expires_at):
        _cache.pop(key, None)
        return None
    actor = Actor.of(token.user)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[key] = (time.monotonic() + CACHE_SECONDS, actor, token.expires_at)
    return actor


def forget_user(session: Session, user_id: int) -> None:
    """Forget what this process remembers of a user's tokens (the user is being deactivated)."""
    _forget(session, lambda _key, actor: actor.user_id == user_id)


def _forget(session: Session, which: Callable[[str, Actor], bool]) -> None:
    """Drop these cached tokens now, and again when the session commits: another thread of
    this process may have cached one meanwhile from the database as it was before."""

    def drop(*_args: object) -> None:
        for key, (_fresh_until, actor, _expires_at) in list(_cache.items()):
            if which(key, actor):
                _cache.pop(key, None)

    drop()
    event.listen(session, "after_commit", drop, once=True)
