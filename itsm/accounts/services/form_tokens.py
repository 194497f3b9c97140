"""One-time form tokens: a step sent twice (a resend after a timeout) is done once.

A page puts a random token in each form. The step records the token with its outcome in the
same transaction; a unique constraint lets one of two racing submissions commit, and a
resend finds the record and shows the first outcome instead of acting again.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm.accounts.models import FormSubmission
from itsm.accounts.services.access import Actor
from itsm.errors import InvalidInput

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def check(token: str | None) -> str:
    if not token or not _TOKEN.fullmatch(token):
        raise InvalidInput("the form has no valid one-time token; reload the page and try again")
    return token


def replay(session: Session, actor: Actor, token: str) -> dict[str, Any] | None:
    """The outcome of the step this token already did, if any."""
    row = session.scalar(
        select(FormSubmission).where(
            FormSubmission.user_id == actor.user_id, FormSubmission.token == token
        )
    )
    return dict(row.outcome) if row else None


def record(
    session: Session, actor: Actor, token: str, outcome: dict[str, Any], now: datetime
) -> None:
    """Record the step's outcome with its token (in the step's own transaction)."""
    session.add(FormSubmission(user_id=actor.user_id, token=token, outcome=outcome, created_at=now))
    session.flush()
