"""Ticket numbers stay unique when many clients open tickets at once (bk-itsm issued duplicates)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from itsm.db import Database
from itsm.models import Ticket, User
from itsm.services import tickets
from itsm.services.access import Actor
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
