"""User accounts: passwords (scrypt via werkzeug), page sessions, being active."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from itsm import clock
from itsm.accounts.models import User
from itsm.accounts.services import tokens
from itsm.accounts.services.access import Actor
from itsm.errors import Forbidden, InvalidInput, NotFound
from itsm.models.types import Role

MIN_PASSWORD_LENGTH = 8
# Checked against when a username is unknown, so both paths cost one KDF run.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def get_by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def set_password(session: Session, username: str, password: str) -> User:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    user = get_by_username(session, username)
    user.password_hash = generate_password_hash(password)
    end_sessions(session, user)
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every page session the user has, in every browser: each must sign in again."""
    user.session_generation = User.session_generation + 1
    session.flush()


def sign_out_everywhere(session: Session, actor: Actor, user_id: int) -> None:
    """End a user's page sessions: their own, or anyone's for an administrator."""
    if actor.role != Role.ADMIN and actor.user_id != user_id:
        raise Forbidden("only an administrator may sign someone else out")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    end_sessions(session, user)


def set_active(session: Session, username: str, active: bool) -> User:
    """Let a user work again, or stop them: a deactivated user's sessions end at once, and
    reactivating them does not bring those back."""
    user = get_by_username(session, username)
    if user.active and not active:
        end_sessions(session, user)
        tokens.forget_user(session, user.id)
    user.active = active
    session.flush()
    return user


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def create_token(
    session: Session, username: str, name: str = "", expires_at: datetime | None = None
) -> str:
    """A new API token for the user, valid until revoked (or `expires_at`); only its hash is
    kept, so it is shown once."""
    user = get_by_username(session, username)
    return tokens.issue(session, user, name, expires_at, clock.now()).secret
