"""What a request holds for its whole length, the same for the API and the pages: its database
session (opened on first use, closed when the request ends) and the actor it runs for."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from itsm.accounts.services.access import Actor


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["itsm.db"].sessions()
    return g.db_session  # type: ignore[no-any-return]


def close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def current_actor() -> Actor:
    """Who the request runs for (an API token's user, or the page's signed-in user)."""
    return g.actor  # type: ignore[no-any-return]


def act_as(actor: Actor) -> None:
    g.actor = actor
