"""Contracts, districts, institutions, configuration items and users: look-up and search."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pypinyin import lazy_pinyin
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from itsm.accounts.models import User
from itsm.accounts.services.access import Actor, contract_visible, institution_scope
from itsm.directory.models import ConfigurationItem, Contract, District, Institution
from itsm.errors import NotFound
from itsm.models.types import Role

T = TypeVar("T")


def search_text(code: str, name: str, phones: list[str]) -> str:
    """What `?q=` matches: code, name, pinyin initials and full pinyin, phone digits."""
    syllables = lazy_pinyin(name, errors="ignore")
    initials = "".join(s[0] for s in syllables if s)
    digits = " ".join(re.sub(r"\D", "", p) for p in phones)
    return " ".join([code, name, initials, "".join(syllables), digits]).lower()[:1000]


def like_pattern(q: str) -> str:
    """A LIKE pattern matching `q` anywhere, lower-case, with % and _ taken literally."""
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _query_text(q: str) -> str:
    """Phone numbers are matched on their digits, whatever the caller typed between them."""
    stripped = q.strip()
    if re.fullmatch(r"[\d\s()+-]{4,}", stripped):
        return re.sub(r"\D", "", stripped)
    return stripped


def paginate(session: Session, query: Select[T], page: int, per_page: int) -> tuple[list[T], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def list_institutions(
    session: Session,
    actor: Actor,
    q: str | None,
    contract_id: int | None,
    district_id: int | None,
    kind: str | None,
    page: int,
    per_page: int,
) -> tuple[list[Institution], int]:
    query = select(Institution).where(institution_scope(actor))
    if q:
        query = query.where(Institution.search_text.like(like_pattern(_query_text(q)), escape="\\"))
    if contract_id is not None:
        query = query.where(Institution.contract_id == contract_id)
    if district_id is not None:
        query = query.where(Institution.district_id == district_id)
    if kind is not None:
        query = query.where(Institution.kind == kind)
    return paginate(session, query.order_by(Institution.code), page, per_page)


def get_institution(session: Session, actor: Actor, institution_id: int) -> Institution:
    inst = session.scalar(
        select(Institution).where(Institution.id == institution_id, institution_scope(actor))
    )
    if inst is None:
        raise NotFound(f"institution {institution_id} not found")
    return inst


def list_contracts(session: Session, actor: Actor) -> list[Contract]:
    query = select(Contract).order_by(Contract.code)
    if actor.role != Role.ADMIN:
        query = query.where(Contract.id.in_(actor.contract_ids))
    return list(session.scalars(query))


def get_contract(session: Session, actor: Actor, code: str) -> Contract:
    # A code with NUL is no code of ours (and PostgreSQL refuses NUL in a query parameter).
    contract = None
    if "\x00" not in code:
        contract = session.scalar(select(Contract).where(Contract.code == code))
    if contract is None or not contract_visible(actor, contract.id):
        raise NotFound(f"contract {code} not found")
    return contract


def list_districts(
    session: Session, q: str | None, page: int, per_page: int
) -> tuple[list[District], int]:
    query = select(District)
    if q:
        query = query.where(
            or_(
                District.name.contains(q, autoescape=True),
                District.code.startswith(q, autoescape=True),
            )
        )
    return paginate(session, query.order_by(District.code), page, per_page)


def list_configuration_items(
    session: Session, actor: Actor, contract_id: int | None, q: str | None, page: int, per_page: int
) -> tuple[list[ConfigurationItem], int]:
    query = select(ConfigurationItem)
    if actor.role != Role.ADMIN:
        query = query.where(ConfigurationItem.contract_id.in_(actor.contract_ids))
    if contract_id is not None:
        query = query.where(ConfigurationItem.contract_id == contract_id)
    if q:
        query = query.where(
            or_(
                ConfigurationItem.name.contains(q, autoescape=True),
                ConfigurationItem.code.contains(q, autoescape=True),
            )
        )
    return paginate(
        session,
        query.order_by(ConfigurationItem.contract_id, ConfigurationItem.code),
        page,
        per_page,
    )


def list_users(
    session: Session,
    actor: Actor,
    role: str | None,
    contract_id: int | None,
    q: str | None,
    page: int,
    per_page: int,
) -> tuple[list[User], int]:
    """Staff see the users of their contracts; requesters see only themselves."""
    query = select(User)
    if actor.role == Role.REQUESTER:
        query = query.where(User.id == actor.user_id)
    elif actor.role != Role.ADMIN:
        query = query.where(
            or_(
                User.contracts.any(Contract.id.in_(actor.contract_ids)),
                User.institution.has(Institution.contract_id.in_(actor.contract_ids)),
            )
        )
    if role is not None:
        query = query.where(User.role == role)
    if contract_id is not None:
        query = query.where(User.contracts.any(Contract.id == contract_id))
    if q:
        query = query.where(
            or_(
                User.username.contains(q, autoescape=True),
                User.display_name.contains(q, autoescape=True),
            )
        )
    return paginate(session, query.order_by(User.username), page, per_page)


def institution_values(**fields: Any) -> dict[str, Any]:
    """Column values for a new institution, with its search text."""
    fields["search_text"] = search_text(fields["code"], fields["name"], fields.get("phones", []))
    return fields
