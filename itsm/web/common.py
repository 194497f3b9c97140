"""What every page area shares: the signed-in user, CSRF, role checks, errors, form tokens."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from itsm import clock
from itsm.accounts.models import User
from itsm.accounts.services import form_tokens, signin
from itsm.accounts.services.access import Actor
from itsm.errors import InvalidInput, ItsmError
from itsm.models.types import Role
from itsm.request_scope import act_as, current_actor, db_session

csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])
STAFF = (Role.AGENT, Role.MANAGER, Role.ADMIN)


def area(name: str, import_name: str) -> Blueprint:
    """A blueprint of pages: loads the session's user, checks CSRF on every POST."""
    bp = Blueprint(name, import_name)
    bp.before_request(_load_user_and_check_csrf)
    bp.register_error_handler(ItsmError, _itsm_error)
    bp.register_error_handler(CSRFError, _csrf_error)
    bp.register_error_handler(StaleDataError, _stale_error)
    return bp


def _load_user_and_check_csrf() -> None:
    g.user = None
    user_id = session.get("uid")
    if isinstance(user_id, int):
        max_age = timedelta(seconds=current_app.config["ITSM_SETTINGS"].session_max_seconds)
        user = signin.session_user(
            db_session(), user_id, session.get("gen"), session.get("since"), clock.now(), max_age
        )
        if user is None:
            end_session()
        else:
            g.user = user
            act_as(Actor.of(user))
    if request.method == "POST":
        csrf.protect()


def start_session(user: User) -> None:
    """A new session for the user who just signed in (never the one from before: no fixation).

    It lasts while used (ITSM_SESSION_IDLE_SECONDS between requests) and at most
    ITSM_SESSION_MAX_SECONDS from now, however busy.
    """
    end_session()
    session.permanent = True
    session["uid"] = user.id
    session["gen"] = user.session_generation
    session["since"] = int(clock.now().timestamp())


def end_session() -> None:
    """Forget who is signed in; the chosen language stays."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def current_user() -> User | None:
    user: User | None = g.get("user")
    return user


def signed_in(*roles: Role) -> Callable[[F], F]:
    """Pages for signed-in users (of these roles, if any are named)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
            if roles and user.role not in roles:
                return error_page(403, _("This page is not for your role."))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def error_page(status: int, message: str) -> Any:
    return render_template("web/error.html", status=status, message=message), status


def _itsm_error(error: ItsmError) -> Any:
    db_session().rollback()
    _remove_written_files()
    return error_page(error.status, error.message)


def _csrf_error(error: CSRFError) -> Any:
    message = _(
        "The form was sent without a valid security token (CSRF). "
        "Reload the page and send the form again."
    )
    return error_page(400, message)


def _stale_error(_error: StaleDataError) -> Any:
    db_session().rollback()
    _remove_written_files()
    return error_page(412, _("Someone changed this ticket at the same time; reload it."))


def written_file(path: Path) -> None:
    """A file this request wrote, removed if the request's transaction does not commit."""
    g.setdefault("written_files", []).append(path)


def _remove_written_files() -> None:
    for path in g.pop("written_files", []):
        path.unlink(missing_ok=True)


def once(
    step: Callable[[], tuple[str, str]], refused: Callable[[InvalidInput], Any] | None = None
) -> Any:
    """Do a form's step once per one-time token; a resend shows the first outcome.

    `step` does the work in the request's session and returns (url to go to, message). When
    it refuses the input (InvalidInput), nothing is written and `refused`, if given, answers:
    the form's page again, with what was typed and what is wrong.
    """
    try:
        token = form_tokens.check(request.form.get("form_token"))
    except InvalidInput:
        message = _("The form has no valid one-time token: reload the page and send it again.")
        raise InvalidInput(message) from None
    session_, actor = db_session(), current_actor()
    outcome = form_tokens.replay(session_, actor, token)
    replayed = outcome is not None
    if outcome is None:
        try:
            url, message = step()
            outcome = {"url": url, "message": message}
            form_tokens.record(session_, actor, token, outcome, clock.now())
            session_.commit()
        except (IntegrityError, StaleDataError, ItsmError) as error:
            # A racing resend may have committed first (its ticket version or its token).
            session_.rollback()
            _remove_written_files()
            outcome = form_tokens.replay(session_, actor, token)
            if outcome is None:
                if refused is not None and isinstance(error, InvalidInput):
                    return refused(error)
                raise
            replayed = True
        g.pop("written_files", None)
    if replayed:
        flash(_("This form was already sent; here is the result of the first time."), "info")
    flash(outcome["message"], "success")
    return redirect(outcome["url"])


def new_form_token() -> str:
    return form_tokens.new_token()


NEXT_MAX_LENGTH = 2048
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: where to go after signing in or
    switching language.

    Browsers drop tabs and newlines from a Location and read a backslash as a slash, so
    `/\t/evil.example` would leave the site as `//evil.example`: only printable ASCII without
    a backslash passes (our own links carry their query strings percent-encoded, so they are
    ASCII), starting with one slash, with no scheme or host when parsed.
    """
    if (
        not target
        or len(target) > NEXT_MAX_LENGTH
        or not _PRINTABLE_ASCII.fullmatch(target)
        or "\\" in target
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
