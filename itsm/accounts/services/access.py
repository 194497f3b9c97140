"""Who may see what: the tenancy rules, applied inside every query that lists or loads records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from itsm.accounts.models import User
from itsm.directory.models import Institution
from itsm.models.types import Role
from itsm.tickets.models import Ticket
from workflows import ticket as ticket_workflow

T = TypeVar("T")
ColumnExpr = ColumnElement[T] | InstrumentedAttribute[T]
"""A mapped column of a model, or any SQL expression of that type."""


@dataclass(frozen=True)
class Actor:
    """The person a use case runs for, as plain facts."""

    user_id: int
    role: Role
    contract_ids: frozenset[int]
    institution_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        contract_ids = user.contract_ids
        if user.role == Role.REQUESTER and user.institution is not None:
            contract_ids = frozenset({user.institution.contract_id})
        return cls(user.id, Role(user.role), contract_ids, user.institution_id)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.AGENT, Role.MANAGER, Role.ADMIN)


def work_scope(
    actor: Actor,
    contract_id: ColumnExpr[int],
    assignee_id: ColumnExpr[int | None],
    state: ColumnExpr[str],
    open_states: Iterable[str],
    institution_id: ColumnExpr[int | None],
) -> ColumnElement[bool]:
    """The records of a workflow (tickets, inspections) this actor may see.

    Agents and managers: every record of their contracts. Engineers: what is assigned to them,
    and open records of their contracts. Requesters: their own institution's. Admins: all.
    """
    if actor.role == Role.ADMIN:
        return true()
    if actor.role in (Role.AGENT, Role.MANAGER):
        return contract_id.in_(actor.contract_ids)
    if actor.role == Role.ENGINEER:
        return or_(
            assignee_id == actor.user_id,
            and_(contract_id.in_(actor.contract_ids), state.in_(list(open_states))),
        )
    if actor.role == Role.REQUESTER and actor.institution_id is not None:
        return institution_id == actor.institution_id
    return false()


def ticket_scope(actor: Actor) -> ColumnElement[bool]:
    """The tickets this actor may see (`work_scope`)."""
    return work_scope(
        actor,
        Ticket.contract_id,
        Ticket.assignee_id,
        Ticket.state,
        ticket_workflow.OPEN_STATES,
        Ticket.institution_id,
    )


def institution_scope(actor: Actor) -> ColumnElement[bool]:
    """The institutions this actor may see and file tickets for."""
    if actor.role == Role.ADMIN:
        return true()
    if actor.role == Role.REQUESTER:
        if actor.institution_id is None:
            return false()
        return Institution.id == actor.institution_id
    return Institution.contract_id.in_(actor.contract_ids)


def contract_visible(actor: Actor, contract_id: int) -> bool:
    return actor.role == Role.ADMIN or contract_id in actor.contract_ids
