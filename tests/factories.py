"""Builders of test data through the real services, each world unique so tests never collide."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from itsm import clock
from itsm.accounts.models import User
from itsm.accounts.services import users
from itsm.db import Database
from itsm.directory.models import ConfigurationItem, Contract, District, Institution
from itsm.directory.services.directory import institution_values
from itsm.models.outbox import OutboxMessage
from itsm.models.types import Role

_counter = itertools.count(1)


@dataclass
class World:
    """One contract's people and places, with the tokens to act as each person."""

    contract_id: int
    contract_code: str
    institution_id: int
    second_institution_id: int
    configuration_item_id: int
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def ticket_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "institution_id": self.institution_id,
            "title": "收费系统无法打印发票",
            "kind": "incident",
            "priority": "P2",
            "category": "software",
            "channel": "phone",
            "reporter_name": "刘医生",
            "reporter_phone": "13912345678",
            "configuration_item_id": self.configuration_item_id,
        }
        body.update(overrides)
        return body

    def open_ticket(
        self, client: FlaskClient, who: str = "agent", **overrides: Any
    ) -> dict[str, Any]:
        response = client.post(
            "/api/v1/tickets", json=self.ticket_body(**overrides), headers=self.headers(who)
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def fire(
        self, client: FlaskClient, ticket_id: int, trigger: str, who: str = "agent", **body: Any
    ) -> TestResponse:
        etag = client.get(f"/api/v1/tickets/{ticket_id}", headers=self.headers(who)).headers["ETag"]
        return client.post(
            f"/api/v1/tickets/{ticket_id}/transitions",
            json={"trigger": trigger, **body},
            headers=self.headers(who, **{"If-Match": etag}),
        )


ROLES = {
    "agent": Role.AGENT,
    "engineer": Role.ENGINEER,
    "engineer2": Role.ENGINEER,
    "manager": Role.MANAGER,
    "admin": Role.ADMIN,
    "requester": Role.REQUESTER,
    "requester2": Role.REQUESTER,
}


def build_world(
    db: Database,
    timezone: str = "Asia/Shanghai",
    calendar: str = "cn-5x8",
    tier: str = "urban",
    institution_kind: str = "community_center",
    remote_area: bool = False,
    ci_group: str | None = None,
) -> World:
    n = next(_counter)
    tag = f"T{uuid.uuid4().hex[:6].upper()}{n}"
    with db.transaction() as session:
        contract = Contract(
            code=tag,
            name=f"测试合同 {tag}",
            customer="测试客户",
            timezone=timezone,
            service_hours="5×8",
            calendar=calendar,
        )
        district = District(code=f"D{tag}", name=f"测试区{tag}", city="北京市", tier=tier)
        session.add_all([contract, district])
        session.flush()
        institutions = [
            Institution(
                **institution_values(
                    code=f"{tag}-I{i}",
                    name=f"北京市测试区{tag}第{i}社区卫生服务中心",
                    kind=institution_kind,
                    district_id=district.id,
                    contract_id=contract.id,
                    address="北京市测试路1号",
                    latitude=39.9 + i / 100,
                    longitude=116.4,
                    phones=[f"010-6{n:03d}{i:04d}"],
                    remote_area=remote_area,
                )
            )
            for i in (1, 2)
        ]
        item = ConfigurationItem(
            contract_id=contract.id, code=f"{tag}-HIS", name="门诊收费", group=ci_group
        )
        session.add_all([*institutions, item])
        session.flush()
        world = World(contract.id, tag, institutions[0].id, institutions[1].id, item.id)
        for name, role in ROLES.items():
            user = User(
                username=f"{name}-{tag}".lower(),
                display_name=f"{name} {tag}",
                role=role,
                phone="13800138000",
                wechat_user_id=f"{name}-{tag}",
                institution_id=(
                    institutions[1].id
                    if name == "requester2"
                    else institutions[0].id
                    if role == Role.REQUESTER
                    else None
                ),
                contracts=[] if role in (Role.REQUESTER, Role.ADMIN) else [contract],
            )
            session.add(user)
            session.flush()
            world.users[name] = user.id
            world.tokens[name] = users.create_token(session, user.username)
    return world


def publish_shipped_policy(client: FlaskClient, world: World, code: str) -> None:
    """Make the world's contract run the shipped SLA policy of contract `code` (C0..C4)."""
    from sla_rules.policy import shipped_policy

    document = {**shipped_policy(code), "contract": world.contract_code}
    response = client.put(
        f"/api/v1/contracts/{world.contract_code}/policy",
        json=document,
        headers=world.headers("admin"),
    )
    assert response.status_code == 200, response.get_json()


def settle_outbox(db: Database) -> None:
    """Mark what earlier tests left undispatched in this run's shared database: the
    redispatch takes every row, and a test that runs it counts what it does with its own."""
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dispatched_at.is_(None))
            .values(dispatched_at=clock.now())
        )
