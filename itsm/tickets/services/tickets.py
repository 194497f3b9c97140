"""Tickets: open, read, list, edit; every change recorded in the ticket's history."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, Table, and_, bindparam, false, func, insert, select
from sqlalchemy.orm import Session, aliased, defer, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from itsm import caches, clock
from itsm.accounts.models import User
from itsm.accounts.services.access import Actor, institution_scope, ticket_scope
from itsm.config import Settings
from itsm.db import column_values
from itsm.directory.models import ConfigurationItem, Institution
from itsm.directory.services.directory import like_pattern
from itsm.errors import (
    CallTimeOutOfRange,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from itsm.models import events
from itsm.models.idempotency import IdempotencyRecord
from itsm.models.types import Role
from itsm.notify.services import notices
from itsm.sla.models import SlaPolicy
from itsm.sla.services import sla
from itsm.tickets.models import TICKET_NUMBERS, Ticket, TicketEvent, TicketSerial

EDITABLE_BY_ROLE: dict[Role, frozenset[str]] = {
    Role.REQUESTER: frozenset({"title", "description", "reporter_name", "reporter_phone"}),
}
EDITABLE_BY_ROLE[Role.ENGINEER] = EDITABLE_BY_ROLE[Role.REQUESTER] | {
    "kind",
    "category",
    "bug_class",
    "configuration_item_id",
    "onsite_required",
    "assignee_id",
}
EDITABLE_BY_ROLE[Role.AGENT] = EDITABLE_BY_ROLE[Role.ENGINEER] | {
    "priority",
    "channel",
    "reported_at",
}
EDITABLE_BY_ROLE[Role.MANAGER] = EDITABLE_BY_ROLE[Role.AGENT]
EDITABLE_BY_ROLE[Role.ADMIN] = EDITABLE_BY_ROLE[Role.AGENT]


@dataclass(frozen=True)
class Created:
    ticket: Ticket
    replayed: bool
    """True when an Idempotency-Key matched an earlier request: nothing new was created."""


def _request_hash(fields: Mapping[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(session: Session, actor: Actor, key: str, request_hash: str) -> Ticket | None:
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == actor.user_id,
            IdempotencyRecord.scope == "ticket",
            IdempotencyRecord.key == key,
        )
    )
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new ticket"
        )
    return session.get_one(Ticket, record.resource_id)


_TICKET = cast(Table, Ticket.__table__)
_INSERT_TICKET = insert(_TICKET).returning(_TICKET.c.id, _TICKET.c.number)
_INSERT_NUMBERED_TICKET = _INSERT_TICKET.values(
    number=bindparam("number_prefix", type_=String())
    + func.to_char(TICKET_NUMBERS.next_value(), "FM9999999999999000000")
)
"""PostgreSQL: the serial comes from a sequence inside the INSERT (at least 6 digits)."""


def _insert_ticket(session: Session, number_prefix: str, given: dict[str, Any]) -> Ticket:
    """INSERT … RETURNING the new ticket's id and number (<number_prefix><serial>).

    On PostgreSQL the serial is drawn inside the INSERT; SQLite has no sequences, so a
    ticket_serial row hands it out first (its writers take turns anyway). Every column is
    given (defaults filled in here), so the ORM object is built from the values sent and
    attached as if loaded: a Core INSERT costs half of an ORM one.
    """
    values = column_values(_TICKET, given)
    if session.get_bind().dialect.name == "postgresql":
        del values["number"]
        row = session.execute(_INSERT_NUMBERED_TICKET, {**values, "number_prefix": number_prefix})
    else:
        serial = session.execute(insert(TicketSerial).returning(TicketSerial.id)).scalar_one()
        values["number"] = f"{number_prefix}{serial:06d}"
        row = session.execute(_INSERT_TICKET, values)
    ticket_id, number = row.one()
    ticket = Ticket(**{**values, "id": ticket_id, "number": number})
    make_transient_to_detached(ticket)
    session.add(ticket)
    return ticket


CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server's clock a call time may be (a PC or phone clock running a little
fast); it is taken as now: a call cannot have started after its ticket was opened."""

DEFAULT_MAX_BACKDATE = timedelta(hours=Settings.max_backdate_hours)


def call_started(
    value: datetime, actor: Actor, opened: datetime, now: datetime, max_backdate: timedelta
) -> datetime:
    """When a call started (in UTC), from what the actor says, for a ticket opened at `opened`.

    More than `max_backdate` before the ticket was opened is refused (ITSM_MAX_BACKDATE_HOURS):
    the ticket would open with every clock long breached and tell everyone at once. An admin
    importing history may go back as far as they like. Ahead of `now` by more than CLOCK_SKEW
    is refused; less is taken as now.
    """
    value = value.astimezone(UTC)
    hours = int(max_backdate.total_seconds() // 3600)
    if value > now + CLOCK_SKEW:
        raise CallTimeOutOfRange(
            f"reported_at {value.isoformat()} is in the future; give the time the call started",
            too_early=False,
            max_backdate_hours=hours,
        )
    if value < opened - max_backdate and actor.role != Role.ADMIN:
        raise CallTimeOutOfRange(
            f"reported_at {value.isoformat()} is more than {hours} hours before the ticket was "
            f"opened ({opened.isoformat()}): give the time the call started, or ask an admin "
            "to record an older call",
            too_early=True,
            max_backdate_hours=hours,
        )
    return min(value, now)


@dataclass(frozen=True)
class _Context:
    institution: Institution
    configuration_item: ConfigurationItem | None
    policy: SlaPolicy | None
    """The contract's newest published SLA policy version, if any."""


@functools.lru_cache(maxsize=1024)
def _context_query(actor: Actor, with_item: bool) -> Select[Institution, SlaPolicy, Any]:
    """The query of `_context` for this actor (built once: building it costs more than running
    it), with the institution's and the system's ids as parameters."""
    version = aliased(SlaPolicy)
    newest_policy = (
        select(version.id)
        .where(version.contract_id == Institution.contract_id)
        .order_by(version.version.desc())
        .limit(1)
        .correlate(Institution)
        .scalar_subquery()
    )
    system = and_(
        ConfigurationItem.id == bindparam("item_id"),
        ConfigurationItem.contract_id == Institution.contract_id,
    )
    return (
        select(Institution, SlaPolicy, ConfigurationItem)
        .select_from(Institution)
        .outerjoin(SlaPolicy, SlaPolicy.id == newest_policy)
        .outerjoin(ConfigurationItem, system if with_item else false())
        .where(Institution.id == bindparam("institution_id"), institution_scope(actor))
        .options(
            # The document is parsed once per version and process: loaded only when not cached.
            defer(SlaPolicy.document),
            # Both are the institution's contract, already loaded with it.
            lazyload(SlaPolicy.contract),
            lazyload(ConfigurationItem.contract),
        )
    )


caches.register(
    "ticket-context-queries",
    "the query of a new ticket's context, per actor",
    _context_query.cache_clear,
)


def _context(session: Session, actor: Actor, institution_id: int, item_id: int | None) -> _Context:
    """The institution the actor files for (with its contract and district), the system named
    and the contract's newest policy version: one query, since every ticket needs them."""
    query = _context_query(actor, item_id is not None)
    params = {"institution_id": institution_id, "item_id": item_id}
    row = session.execute(query, params).first()
    if row is None:
        raise InvalidInput(
            f"institution {institution_id} does not exist or is not yours to file for",
            errors={"institution_id": ["unknown institution"]},
        )
    institution, policy, item = row
    if item_id is not None and item is None:
        raise InvalidInput(
            f"configuration item {item_id} is not a system of this ticket's contract",
            errors={"configuration_item_id": ["not a system of this contract"]},
        )
    return _Context(institution, item, policy)


def _check_configuration_item(
    session: Session, contract_id: int, item_id: int | None
) -> ConfigurationItem | None:
    if item_id is None:
        return None
    item = session.get(ConfigurationItem, item_id)
    if item is None or item.contract_id != contract_id:
        raise InvalidInput(
            f"configuration item {item_id} is not a system of this ticket's contract",
            errors={"configuration_item_id": ["not a system of this contract"]},
        )
    return item


def check_assignee(session: Session, contract_id: int, user_id: int | None) -> User | None:
    """The user if they may be assigned tickets of this contract; InvalidInput otherwise."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if (
        user is None
        or not user.active
        or user.role not in (Role.ENGINEER, Role.AGENT, Role.MANAGER)
        or contract_id not in user.contract_ids
    ):
        raise InvalidInput(
            f"user {user_id} cannot be assigned: assign an active engineer of this contract",
            errors={"assignee_id": ["not an engineer of this contract"]},
        )
    return user


def record_event(
    session: Session, ticket: Ticket, actor: Actor | None, kind: str, **line: Any
) -> TicketEvent:
    """A line of the ticket's history (`events.record_event`'s `at`, `trigger`, `from_state`,
    `to_state`, `note`, `data`), by `actor` or, when None, the system."""
    return events.record_event(
        session, TicketEvent, ticket.id, actor.user_id if actor else None, kind, **line
    )


def _event_row(
    ticket: Ticket, actor: Actor, kind: str, at: datetime, **values: Any
) -> dict[str, Any]:
    """A ticket_event row for a Core INSERT: no ORM object for a row that is only stored."""
    return {
        "ticket_id": ticket.id,
        "at": at,
        "actor_id": actor.user_id,
        "kind": kind,
        "trigger": None,
        "from_state": None,
        "to_state": None,
        "note": None,
        "data": {},
        **values,
    }


def create_ticket(
    session: Session,
    actor: Actor,
    fields: Mapping[str, Any],
    idempotency_key: str | None = None,
    max_backdate: timedelta = DEFAULT_MAX_BACKDATE,
) -> Created:
    """Open a ticket for an institution the actor may file for; its call started at most
    `max_backdate` ago (`call_started`)."""
    request_hash = _request_hash(fields) if idempotency_key else ""
    if idempotency_key:
        existing = _replay(session, actor, idempotency_key, request_hash)
        if existing is not None:
            return Created(existing, replayed=True)
    now = clock.now()
    values = dict(fields)
    context = _context(
        session, actor, values.pop("institution_id"), values.pop("configuration_item_id", None)
    )
    institution = context.institution
    reported_at = call_started(
        values.pop("reported_at", None) or now, actor, now, now, max_backdate
    )
    if actor.role == Role.REQUESTER and values.get("assignee_id") is not None:
        raise Forbidden("a requester cannot assign a ticket")
    assignee = check_assignee(session, institution.contract_id, values.pop("assignee_id", None))
    policy = context.policy or sla.publish_shipped_policy(session, institution.contract)
    item = context.configuration_item
    values.update(
        contract_id=institution.contract_id,
        institution_id=institution.id,
        configuration_item_id=item.id if item else None,
        assignee_id=assignee.id if assignee else None,
        sla_policy_id=policy.id if policy else None,
        reported_at=reported_at,
        created_at=now,
        updated_at=now,
        created_by_id=actor.user_id,
        version=1,
    )
    year = now.astimezone(ZoneInfo(institution.contract.timezone)).year
    ticket = _insert_ticket(session, f"INC-{year}-", values)
    # What the answer shows of the rows the ticket refers to is in the session already.
    set_committed_value(ticket, "contract", institution.contract)
    set_committed_value(ticket, "institution", institution)
    set_committed_value(ticket, "configuration_item", item)
    set_committed_value(ticket, "assignee", assignee)
    session.execute(
        insert(cast(Table, TicketEvent.__table__)),
        [_event_row(ticket, actor, "created", now, to_state=ticket.state)],
    )
    sla.open_clocks(session, ticket, now)
    notices.on_ticket_opened(session, ticket, now)
    if assignee is not None and assignee.id != actor.user_id:
        notices.on_assigned(session, ticket, now)
    if idempotency_key:
        session.execute(
            insert(IdempotencyRecord).values(
                user_id=actor.user_id,
                key=idempotency_key,
                scope="ticket",
                request_hash=request_hash,
                resource_id=ticket.id,
                created_at=now,
            )
        )
    return Created(ticket, replayed=False)


def replay_created(
    session: Session, actor: Actor, fields: Mapping[str, Any], idempotency_key: str
) -> Created | None:
    """The ticket an earlier request with this key created (after a lost race), if any."""
    ticket = _replay(session, actor, idempotency_key, _request_hash(fields))
    return Created(ticket, replayed=True) if ticket else None


def get_ticket(session: Session, actor: Actor, ticket_id: int) -> Ticket:
    """A ticket the actor may see; any other is "not found", so nothing leaks that it exists."""
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id, ticket_scope(actor)))
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def check_version(ticket: Ticket, expected_version: int) -> None:
    if ticket.version != expected_version:
        raise PreconditionFailed(
            f"ticket {ticket.number} changed since you read it (version {expected_version}, "
            f"now {ticket.version}); reload it and apply your change again",
            current_etag=ticket.etag,
        )


def update_ticket(
    session: Session,
    actor: Actor,
    ticket_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
    max_backdate: timedelta = DEFAULT_MAX_BACKDATE,
) -> Ticket:
    """Edit a ticket's fields; state changes go through transitions, never through here. A
    corrected call time is at most `max_backdate` before the ticket was opened."""
    ticket = get_ticket(session, actor, ticket_id)
    check_version(ticket, expected_version)
    not_allowed = sorted(set(changes) - EDITABLE_BY_ROLE[actor.role])
    if not_allowed:
        raise Forbidden(
            f"a {actor.role} may not change {', '.join(not_allowed)}", fields=not_allowed
        )
    now = clock.now()
    if "reported_at" in changes:
        reported_at = call_started(
            changes["reported_at"], actor, ticket.created_at, now, max_backdate
        )
        changes = {**changes, "reported_at": reported_at}
    if "configuration_item_id" in changes:
        _check_configuration_item(session, ticket.contract_id, changes["configuration_item_id"])
    if "assignee_id" in changes:
        check_assignee(session, ticket.contract_id, changes["assignee_id"])
    diff = {
        name: [_plain(getattr(ticket, name)), _plain(value)]
        for name, value in changes.items()
        if getattr(ticket, name) != value
    }
    if not diff:
        return ticket
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.updated_at = now
    kind = "assigned" if set(diff) == {"assignee_id"} else "updated"
    record_event(session, ticket, actor, kind, at=now, data={"changes": diff})
    session.flush()
    refresh_references(session, ticket)  # the rules match the newly named system's group
    sla.retarget(session, ticket, diff, now)
    if "assignee_id" in diff and ticket.assignee_id not in (None, actor.user_id):
        notices.on_assigned(session, ticket, now)
    return ticket


def refresh_references(session: Session, ticket: Ticket) -> None:
    """Reload the related rows whose ids a change may have set (assignee, system)."""
    session.expire(ticket, ["assignee", "configuration_item"])


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class TicketFilter:
    state: tuple[str, ...] = ()
    institution_id: int | None = None
    contract_id: int | None = None
    priority: tuple[str, ...] = ()
    assignee_id: int | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    q: str | None = None


def _filtered(actor: Actor, f: TicketFilter) -> Select[Ticket]:
    query = select(Ticket).where(ticket_scope(actor))
    if f.state:
        query = query.where(Ticket.state.in_(f.state))
    if f.institution_id is not None:
        query = query.where(Ticket.institution_id == f.institution_id)
    if f.contract_id is not None:
        query = query.where(Ticket.contract_id == f.contract_id)
    if f.priority:
        query = query.where(Ticket.priority.in_(f.priority))
    if f.assignee_id is not None:
        query = query.where(Ticket.assignee_id == f.assignee_id)
    if f.reported_from is not None:
        query = query.where(Ticket.reported_at >= f.reported_from)
    if f.reported_to is not None:
        query = query.where(Ticket.reported_at < f.reported_to)
    if f.q:
        like = like_pattern(f.q)
        query = query.where(
            func.lower(Ticket.title).like(like, escape="\\")
            | func.lower(Ticket.number).like(like, escape="\\")
        )
    return query


def list_tickets(
    session: Session, actor: Actor, f: TicketFilter, page: int, per_page: int
) -> tuple[list[Ticket], int]:
    """One page of the tickets the actor may see, newest first, and the total."""
    query = _filtered(actor, f)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Ticket.reported_at.desc(), Ticket.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def list_events(session: Session, actor: Actor, ticket_id: int) -> list[TicketEvent]:
    get_ticket(session, actor, ticket_id)
    return list(
        session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )
