"""Sign-in and sign-out with a session cookie, the home page, the language switch, and one's
API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from itsm import clock
from itsm.accounts.services import signin as signin_service
from itsm.accounts.services import tokens, users
from itsm.api.fields import Text
from itsm.errors import NotFound
from itsm.models.types import Role
from itsm.request_scope import current_actor, db_session
from itsm.web import forms
from itsm.web.common import (
    area,
    current_user,
    end_session,
    error_page,
    new_form_token,
    once,
    safe_next,
    signed_in,
    start_session,
)
from itsm.web.forms import FormRefused, FormSchema

bp = area("auth", __name__)


class SignInForm(FormSchema):
    """The user name, read like any text of the API (the password is only ever hashed)."""

    username = Text(64, load_default="", metadata={"label": _l("User name")})


HOME = {
    Role.AGENT: "hotline.console",
    Role.MANAGER: "hotline.console",
    Role.ADMIN: "hotline.console",
    Role.ENGINEER: "engineer.my_work",
    Role.REQUESTER: "portal.home",
}


def home_url() -> str:
    user = current_user()
    return url_for(HOME[user.role]) if user else url_for("auth.signin")


@bp.get("/")
def index() -> Any:
    """The sign-in page, or the signed-in user's home."""
    if current_user() is None:
        return signin()
    return redirect(home_url())


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    if request.method == "GET":
        if current_user() is not None:
            return redirect(safe_next(request.args.get("next"), home_url()))
        return render_template("web/signin.html", next=safe_next(request.args.get("next"), ""))
    try:
        username = forms.read(SignInForm(), request.form)["username"]
    except FormRefused as refused:
        page = render_template(
            "web/signin.html",
            next=safe_next(request.form.get("next"), ""),
            error=refused.message,
            username=request.form.get("username", ""),
        )
        return page, 422
    settings = current_app.config["ITSM_SETTINGS"]
    session_ = db_session()
    outcome = signin_service.sign_in(
        session_,
        username,
        request.form.get("password", "")[:200],
        request.remote_addr or "unknown",
        clock.now(),
        settings.signin_max_failures,
        timedelta(seconds=settings.signin_window_seconds),
    )
    session_.commit()
    if outcome.user is None:
        if outcome.locked:
            minutes = max(1, settings.signin_window_seconds // 60)
            message = _(
                "Too many failed sign-ins. Wait %(minutes)d minutes and try again, "
                "or ask an administrator to reset your password.",
                minutes=minutes,
            )
            status = 429
        else:
            message = _("Wrong user name or password.")
            status = 401
        page = render_template(
            "web/signin.html",
            next=safe_next(request.form.get("next"), ""),
            error=message,
            username=username,
        )
        return page, status
    start_session(outcome.user)
    flash(_("Signed in as %(name)s.", name=outcome.user.display_name), "success")
    return redirect(safe_next(request.form.get("next"), url_for(HOME[outcome.user.role])))


@bp.post("/signout")
def signout() -> Any:
    """Sign out: this user's sessions end in every browser, also copies of this cookie."""
    user = current_user()
    if user is not None:
        users.end_sessions(db_session(), user)
        db_session().commit()
    end_session()
    flash(_("Signed out."), "info")
    return redirect(url_for("auth.signin"))


@bp.get("/lang/<any(zh_CN, en):code>")
def language(code: str) -> Any:
    session["lang"] = code
    return redirect(safe_next(request.args.get("next"), home_url()))


TOKENS_SHOWN = 100


@bp.get("/account/tokens")
@signed_in()
def api_tokens() -> Any:
    """A user's API tokens, to revoke those no longer needed (an admin: anyone's, `?user=`)."""
    session, actor = db_session(), current_actor()
    owner = current_user()
    assert owner is not None  # @signed_in
    wanted = request.args.get("user", "").strip()[:64]
    if wanted and wanted != owner.username:
        if actor.role != Role.ADMIN:
            return error_page(403, _("Only an administrator may see someone else's tokens."))
        try:
            if not wanted.isprintable():
                raise NotFound(wanted)
            owner = users.get_by_username(session, wanted)
        except NotFound:
            return error_page(404, _("There is no user named %(name)s.", name=wanted))
    rows, total = tokens.list_tokens(
        session, tokens.owner_for(session, actor, owner.id), 1, TOKENS_SHOWN
    )
    return render_template(
        "web/tokens.html",
        owner=owner,
        rows=rows,
        total=total,
        now=clock.now(),
        form_token=new_form_token(),
        is_admin=actor.role == Role.ADMIN,
    )


@bp.post("/account/tokens/<int(max=2147483647):token_id>/revoke")
@signed_in()
def revoke_api_token(token_id: int) -> Any:
    actor = current_actor()

    def step() -> tuple[str, str]:
        session = db_session()
        try:
            token = tokens.find(session, token_id, actor)
        except NotFound:
            raise NotFound(_("This token is not yours, or it no longer exists.")) from None
        tokens.revoke(session, token, clock.now())
        someone_else = token.user.username if token.user_id != actor.user_id else None
        message = _(
            "Token %(name)s revoked: programs using it are refused from now on.",
            name=token.name or f"#{token.id}",
        )
        return url_for("auth.api_tokens", user=someone_else), message

    return once(step)
