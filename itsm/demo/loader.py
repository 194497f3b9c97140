"""Load the demo catalogue and demo users into a database, once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from itsm import clock
from itsm.accounts.models import User
from itsm.accounts.services.users import set_password
from itsm.demo import catalog
from itsm.directory.models import ConfigurationItem, Contract, District, Institution
from itsm.directory.services.directory import search_text
from itsm.inspections.services import inspections
from itsm.models.types import Role

DEMO_PASSWORD = "itsm-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    phone: str
    contracts: tuple[str, ...]


DEMO_USERS = (
    DemoUser("admin", "系统管理员", Role.ADMIN, "13800000000", ("C0", "C1", "C2", "C3", "C4")),
    DemoUser("agent1", "热线坐席一", Role.AGENT, "13800000001", ("C0", "C1", "C2", "C3", "C4")),
    DemoUser("agent2", "热线坐席二", Role.AGENT, "13800000002", ("C1",)),
    DemoUser("engineer1", "工程师张伟", Role.ENGINEER, "13800000011", ("C0", "C1", "C2")),
    DemoUser("engineer2", "工程师李娜", Role.ENGINEER, "13800000012", ("C1", "C3", "C4")),
    DemoUser(
        "manager1", "项目经理王强", Role.MANAGER, "13800000021", ("C0", "C1", "C2", "C3", "C4")
    ),
    DemoUser("requester1", "医院信息科刘洋", Role.REQUESTER, "13800000031", ()),
)


def is_loaded(session: Session) -> bool:
    return session.scalar(select(Contract.id).where(Contract.code == "C0")) is not None


def load(session: Session) -> bool:
    """Insert the demo data unless it is there already; True if it was loaded now."""
    if is_loaded(session):
        return False
    contracts = {
        c.code: Contract(
            code=c.code,
            name=c.name,
            customer=c.customer,
            timezone=c.timezone,
            service_hours=c.service_hours,
            calendar=c.calendar,
        )
        for c in catalog.CONTRACTS
    }
    districts = {
        d.code: District(code=d.code, name=d.name, city=d.city, tier=d.tier)
        for d in catalog.DISTRICTS
    }
    session.add_all([*contracts.values(), *districts.values()])
    session.flush()
    session.execute(
        insert(ConfigurationItem),
        [
            {
                "contract_id": contracts[ci.contract_code].id,
                "code": ci.code,
                "name": ci.name,
                "description": ci.description,
                "group": ci.group,
            }
            for ci in catalog.CONFIGURATION_ITEMS
        ],
    )
    rows = [
        {
            "code": i.code,
            "name": i.name,
            "kind": i.kind,
            "district_id": districts[i.district_code].id,
            "contract_id": contracts[i.contract_code].id,
            "address": i.address,
            "latitude": i.latitude,
            "longitude": i.longitude,
            "phones": list(i.phones),
            "remote_area": i.remote_area,
            "search_text": search_text(i.code, i.name, list(i.phones)),
        }
        for i in catalog.institutions()
    ]
    session.execute(insert(Institution), rows)
    requester_institution = session.scalar(
        select(Institution.id)
        .where(Institution.contract_id == contracts["C1"].id, Institution.kind == "hospital")
        .order_by(Institution.code)
        .limit(1)
    )
    for spec in DEMO_USERS:
        user = User(
            username=spec.username,
            display_name=spec.display_name,
            role=spec.role,
            phone=spec.phone,
            wechat_user_id=spec.username,
            institution_id=requester_institution if spec.role == Role.REQUESTER else None,
            contracts=[contracts[c] for c in spec.contracts],
        )
        session.add(user)
        session.flush()
        set_password(session, spec.username, DEMO_PASSWORD)
    # The next 90 days of C1's and C3's inspection plans (itsm cron keeps them ahead).
    inspections.generate_ahead(session, clock.now())
    return True
