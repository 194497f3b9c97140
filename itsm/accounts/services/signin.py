"""Signing in to the pages, with failed attempts limited per account and per address.

The count lives in the database, so every web process (gunicorn workers, hosts) shares it.
Attempts on one account or from one address are decided one after another: each holds its
keys' locks from the count to the commit of its outcome, so 40 guesses sent at once check
no more passwords than the limit allows (counting first and writing after the slow password
check, each would see the count from before the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from itsm.accounts.models import SignInFailure, User
from itsm.accounts.services import users

ADDRESS_FACTOR = 4
"""An address may fail this many times more than an account (several people behind one NAT)."""


@dataclass(frozen=True)
class Outcome:
    user: User | None
    locked: bool = False
    """Too many failures lately: the password was not even checked."""


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.strip().lower()}"[:200], f"addr:{address}"[:200]


_LOCK_SPACE = 0x5349
"""This module's first key of PostgreSQL advisory locks ("SI"); the second is the key's hash."""


def _lock(session: Session, keys: tuple[str, ...]) -> None:
    """Hold these keys' locks until the transaction ends. Always the account's first, then the
    address's: two attempts never wait for each other in a circle. On SQLite every transaction
    already holds the database's write lock from its start (BEGIN IMMEDIATE, itsm.db)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        session.execute(select(func.pg_advisory_xact_lock(_LOCK_SPACE, func.hashtext(key))))


def _failures(session: Session, key: str, since: datetime) -> int:
    query = select(func.count()).where(SignInFailure.key == key, SignInFailure.at > since)
    return session.scalar(query) or 0


def sign_in(
    session: Session,
    username: str,
    password: str,
    address: str,
    now: datetime,
    max_failures: int,
    window: timedelta,
) -> Outcome:
    """The user for these credentials, unless the account or address failed too often lately."""
    user_key, addr_key = _keys(username, address)
    since = now - window
    _lock(session, (user_key, addr_key))
    if (
        _failures(session, user_key, since) >= max_failures
        or _failures(session, addr_key, since) >= max_failures * ADDRESS_FACTOR
    ):
        return Outcome(None, locked=True)
    user = users.check_password(session, username.strip(), password)
    if user is None:
        # Old rows of any key, but none another attempt is deleting now (it would wait).
        old = select(SignInFailure.id).where(SignInFailure.at <= since)
        session.execute(
            delete(SignInFailure).where(SignInFailure.id.in_(old.with_for_update(skip_locked=True)))
        )
        session.add_all([SignInFailure(key=user_key, at=now), SignInFailure(key=addr_key, at=now)])
        session.flush()
        return Outcome(None)
    session.execute(delete(SignInFailure).where(SignInFailure.key == user_key))
    return Outcome(user)


def session_user(
    session: Session,
    user_id: int,
    generation: object,
    signed_in_at: object,
    now: datetime,
    max_age: timedelta,
) -> User | None:
    """The signed-in user of a session cookie: still active, signed in less than `max_age` ago
    (`signed_in_at`: a POSIX timestamp), and in the user's current session generation (see
    `users.end_sessions`)."""
    if not isinstance(signed_in_at, int) or not isinstance(generation, int):
        return None
    if now.timestamp() - signed_in_at >= max_age.total_seconds():
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_generation != generation:
        return None
    return user
