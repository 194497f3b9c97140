"""Ticket numbers stay unique when many clients open tickets at once (bk-itsm issued duplicates)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import event, select, text

from itsm.accounts.models import User
from itsm.accounts.services.access import Actor
from itsm.db import Database
from itsm.tickets.models import Ticket, TicketSerial
from itsm.tickets.services import tickets
from tests.factories import World

CLIENTS = 8
TICKETS_EACH = 15


def test_numbers_are_unique_under_concurrent_creation(db: Database, world: World) -> None:
    with db.sessions() as session:
        actor = Actor.of(session.get_one(User, world.users["agent"]))

    def open_many(client: int) -> list[str]:
        numbers = []
        for i in range(TICKETS_EACH):
            with db.transaction() as session:
                fields = {"institution_id": world.institution_id, "title": f"并发 {client}-{i}"}
                numbers.append(tickets.create_ticket(session, actor, fields).ticket.number)
        return numbers

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        numbers = [n for batch in pool.map(open_many, range(CLIENTS)) for n in batch]
    assert len(numbers) == len(set(numbers)) == CLIENTS * TICKETS_EACH
    assert all(re.fullmatch(r"INC-\d{4}-\d{6,}", n) for n in numbers)
    with db.sessions() as session:
        stored = session.scalars(
            select(Ticket.number).where(Ticket.contract_id == world.contract_id)
        ).all()
    assert sorted(stored) == sorted(numbers)


def _agent(db: Database, world: World) -> Actor:
    with db.sessions() as session:
        return Actor.of(session.get_one(User, world.users["agent"]))


def _open(db: Database, world: World, actor: Actor, title: str) -> str:
    with db.transaction() as session:
        fields = {"institution_id": world.institution_id, "title": title}
        return tickets.create_ticket(session, actor, fields).ticket.number


def test_numbers_grow_past_six_digits(db: Database, world: World) -> None:
    with db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT setval('ticket_number_seq', 999999)"))
        else:
            session.add(TicketSerial(id=999_999))
    assert re.fullmatch(r"INC-\d{4}-1000000", _open(db, world, _agent(db, world), "第一百万张"))


def test_opening_a_ticket_sends_one_query_and_its_inserts(db: Database, world: World) -> None:
    """The institution, system and policy in one query, the ticket's INSERT (numbered inside
    it on PostgreSQL; SQLite takes a ticket_serial row first), its creation event, and the
    reporter's notification (here a record that nobody could be told: no mobile number)."""
    agent = _agent(db, world)
    _open(db, world, agent, "预热")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            statements.append(" ".join(statement.split()[:3]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        _open(db, world, agent, "计数")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    expected = ["SELECT institution.id, institution.code,", "INSERT INTO ticket"]
    if db.engine.dialect.name == "sqlite":
        expected.insert(1, "INSERT INTO ticket_serial")
    expected += ["INSERT INTO ticket_event", "INSERT INTO notification"]
    assert statements == expected
