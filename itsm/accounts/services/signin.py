"""Signing in to the pages, with failed attempts limited per account and per address.

The count lives in the database, so every web process (gunicorn workers, hosts) shares it.
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
    if (
        _failures(session, user_key, since) >= max_failures
        or _failures(session, addr_key, since) >= max_failures * ADDRESS_FACTOR
    ):
        return Outcome(None, locked=True)
    user = users.check_password(session, username.strip(), password)
    if user is None:
        session.execute(delete(SignInFailure).where(SignInFailure.at <= since))
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
