"""A contract's notification settings (as data) and its contacts: on duty, supervisor, manager.

The document has no version column: its ETag is a digest of what it says, so a replace names
the document it read (If-Match) and never overwrites a change it has not seen."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from itsm.accounts.models import User
from itsm.accounts.services.access import Actor
from itsm.directory.services.directory import get_contract
from itsm.errors import Forbidden, InvalidInput, PreconditionFailed
from itsm.models.types import Role
from itsm.notify.models import ContractContact, shown_secret
from itsm.notify.services import notices


def read(session: Session, actor: Actor, code: str) -> dict[str, Any]:
    """The settings (defaults filled in) and contacts, for the contract's staff and engineers."""
    if actor.role == Role.REQUESTER:
        raise Forbidden("a contract's notification settings are for its staff")
    contract = get_contract(session, actor, code)
    rows = session.execute(
        select(ContractContact.duty, User.username)
        .join(User, User.id == ContractContact.user_id)
        .where(ContractContact.contract_id == contract.id)
        .order_by(User.username)
    ).all()
    people: dict[str, list[str]] = {duty: [] for duty in notices.DUTIES}
    for duty, username in rows:
        people[duty].append(username)
    settings = notices.settings_of(contract)
    if not _may_change(actor):  # the robot key lets anyone post to the contract's group
        settings["robot_key"] = shown_secret(settings["robot_key"])
    return {"settings": settings, "contacts": people}


def _may_change(actor: Actor) -> bool:
    return actor.role in (Role.ADMIN, Role.MANAGER)


def etag(document: dict[str, Any]) -> str:
    """The ETag of a settings document as `read` gives it."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def write(
    session: Session, actor: Actor, code: str, document: dict[str, Any], if_match: str
) -> dict[str, Any]:
    """Replace the settings and contacts, if they are still those `if_match` names (an ETag,
    or `*` for whatever they are); contacts must be staff of this contract."""
    if not _may_change(actor):
        raise Forbidden("only an admin or the contract's manager may change its notifications")
    contract = get_contract(session, actor, code)
    # One replace at a time per contract; NO KEY UPDATE lets rows that refer to the contract
    # (tickets, notifications) be written meanwhile.
    session.refresh(contract, with_for_update={"key_share": True})
    current = etag(read(session, actor, code))
    named = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in named and current not in named:
        raise PreconditionFailed(
            f"the notifications of contract {code} changed since you read them "
            "(If-Match names another version); reload them and apply your change again",
            current_etag=current,
        )
    contacts: dict[str, list[str]] = document["contacts"]
    names = {name for people in contacts.values() for name in people}
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    for name in sorted(names):
        user = users.get(name)
        if user is None or user.role == Role.REQUESTER or contract.id not in user.contract_ids:
            raise InvalidInput(f"{name} is not a member of staff on contract {code}")
    contract.notification_settings = document["settings"]
    session.execute(delete(ContractContact).where(ContractContact.contract_id == contract.id))
    for duty, people in contacts.items():
        for name in dict.fromkeys(people):
            session.add(ContractContact(contract_id=contract.id, duty=duty, user_id=users[name].id))
    session.flush()
    return read(session, actor, code)
