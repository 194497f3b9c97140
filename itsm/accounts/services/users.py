"""User accounts: passwords (scrypt via werkzeug), page sessions, being active."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from itsm import clock
from itsm.accounts.models import User
from itsm.accounts.services import tokens
from itsm.accounts.services.access import Actor
from itsm.directory.models import Contract, Institution
from itsm.errors import Forbidden, InvalidInput, NotFound
from itsm.models.types import Role

MIN_PASSWORD_LENGTH = 10
# Checked against when a username is unknown, so both paths cost one KDF run.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def get_by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def _check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    display_name: str = "",
    phone: str | None = None,
    wechat_user_id: str | None = None,
    contract_codes: Sequence[str] = (),
    institution_code: str | None = None,
) -> User:
    """A new account (`itsm user create`: a vendor's first admin, then its people). A
    requester belongs to an institution, whose contract is theirs; staff name their contracts."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "a user name is 2 to 64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"no role {role!r}; one of {', '.join(r.value for r in Role)}")
    _check_password_length(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(f"a user named {username!r} exists already")
    contracts = list(session.scalars(select(Contract).where(Contract.code.in_(contract_codes))))
    missing = sorted(set(contract_codes) - {c.code for c in contracts})
    if missing:
        raise InvalidInput(f"no contract with the code {', '.join(missing)}")
    institution = None
    if institution_code is not None:
        institution = session.scalar(
            select(Institution).where(Institution.code == institution_code)
        )
        if institution is None:
            raise InvalidInput(f"no institution with the code {institution_code!r}")
    if role == Role.REQUESTER and institution is None:
        raise InvalidInput("a requester belongs to an institution: give --institution CODE")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=Role(role),
        phone=phone or None,
        wechat_user_id=wechat_user_id or None,
        institution_id=institution.id if institution else None,
        contracts=contracts,
        password_hash=generate_password_hash(password),
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    _check_password_length(password)
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
