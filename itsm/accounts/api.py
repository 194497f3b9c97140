"""/api/v1 for accounts: API tokens listed, created and revoked; a user's page sessions ended."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from itsm import clock
from itsm.accounts import schemas as s
from itsm.accounts.models import User
from itsm.accounts.services import tokens, users
from itsm.api.base import Blueprint, ErrorSchema, current_actor, db_session

blp = Blueprint("accounts", __name__, description="API tokens and page sessions")


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(s.TokenListArgs(), location="query")
    @blp.response(200, s.TokenPage)
    @blp.alt_response(403, schema=ErrorSchema, description="Someone else's, and you are no admin")
    def get(self, args: dict[str, Any]) -> Any:
        """Your API tokens (an admin: anyone's, with `user_id`), newest first, with the
        revoked and expired ones."""
        session = db_session()
        owner_id = tokens.owner_for(session, current_actor(), args.get("user_id"))
        items, total = tokens.list_tokens(session, owner_id, args["page"], args["per_page"])
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}

    @blp.arguments(s.NewTokenArgs())
    @blp.response(201, s.NewTokenSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """A new API token of yours. Its secret is in this answer only: only its hash is kept."""
        session = db_session()
        owner = session.get_one(User, current_actor().user_id)
        issued = tokens.issue(session, owner, args["name"], args["expires_at"], clock.now())
        session.commit()
        token = issued.token
        return {
            "id": token.id,
            "name": token.name,
            "user": owner,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "revoked_at": token.revoked_at,
            "token": issued.secret,
        }


@blp.route("/tokens/<int(max=2147483647):token_id>")
class TokenById(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="No such token of yours")
    def delete(self, token_id: int) -> Any:
        """Revoke a token (yours; an admin: anyone's): it is refused from now on."""
        session = db_session()
        tokens.revoke(session, tokens.find(session, token_id, current_actor()), clock.now())
        session.commit()


@blp.route("/users/<int(max=2147483647):user_id>/sign-out-everywhere")
class SignOutEverywhere(MethodView):
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorSchema, description="Someone else, and you are no admin")
    @blp.alt_response(404, schema=ErrorSchema, description="No such user")
    def post(self, user_id: int) -> Any:
        """End every page session of a user, in every browser (admins, or the user themself).

        API tokens keep working: list and revoke them under /tokens.
        """
        session = db_session()
        users.sign_out_everywhere(session, current_actor(), user_id)
        session.commit()
