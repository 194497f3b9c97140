"""Sign-in and sign-out with a session cookie, the home page, the language switch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from itsm import clock
from itsm.accounts.services import signin as signin_service
from itsm.api.fields import Text
from itsm.models.types import Role
from itsm.request_scope import db_session
from itsm.web import forms
from itsm.web.common import area, current_user, safe_next
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
    lang = session.get("lang")
    session.clear()  # a new session for the signed-in user (no fixation)
    session.permanent = True
    session["uid"] = outcome.user.id
    if lang:
        session["lang"] = lang
    flash(_("Signed in as %(name)s.", name=outcome.user.display_name), "success")
    return redirect(safe_next(request.form.get("next"), url_for(HOME[outcome.user.role])))


@bp.post("/signout")
def signout() -> Any:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Signed out."), "info")
    return redirect(url_for("auth.signin"))


@bp.get("/lang/<any(zh_CN, en):code>")
def language(code: str) -> Any:
    session["lang"] = code
    return redirect(safe_next(request.args.get("next"), home_url()))
