"""/api/v1 for accounts: ending a user's page sessions."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from itsm.accounts.services import users
from itsm.api.base import Blueprint, ErrorSchema, current_actor, db_session

blp = Blueprint("accounts", __name__, description="Sessions and API tokens")


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
