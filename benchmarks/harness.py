"""What the benchmarks share: a database of the run's own (created and dropped on the server
it is given), its directory seeded the same way for each, a redis-server of the run's own and
free ports (tests/redis_server.py), and the CPU accounting (benchmarks/proc_cpu.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tests.redis_server import RedisServer, free_port

__all__ = ["BenchDatabase", "BenchWorld", "RedisServer", "free_port", "seed_world"]


class BenchDatabase:
    """A new database on the server of `base_url`, dropped by `drop()`; `base_url`'s own
    database is only connected to, for CREATE and DROP DATABASE, never written to."""

    def __init__(self, base_url: str) -> None:
        base = make_url(base_url)
        if base.drivername in ("postgresql", "postgres"):
            base = base.set(drivername="postgresql+psycopg")
        if not base.drivername.startswith("postgresql"):
            raise SystemExit(f"--database-url must name a PostgreSQL server, not {base.drivername}")
        self.base = base
        self.name = f"itsm_bench_{secrets.token_hex(6)}"
        assert self.name != base.database
        self.url = base.set(database=self.name).render_as_string(hide_password=False)
        self.shown = base.set(database=self.name).render_as_string(hide_password=True)
        self.created = False

    def _admin(self) -> Engine:
        return create_engine(self.base, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        admin = self._admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.created = True
        finally:
            admin.dispose()

    def drop(self) -> None:
        if not self.created:
            return
        assert self.name.startswith("itsm_bench_") and self.name != self.base.database
        admin = self._admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.created = False
        finally:
            admin.dispose()


@dataclass(frozen=True)
class BenchWorld:
    """One contract's directory in a benchmark's database: ids, and the agent's API token."""

    contract_id: int
    institution_id: int
    configuration_item_id: int
    agent_id: int
    token: str
    policy_id: int | None
    """The contract's published SLA policy (version 1), when one was asked for."""


def seed_world(
    url: str,
    contract_code: str = "BENCH",
    calendar: str = "cn-5x8",
    policy: str | None = None,
) -> BenchWorld:
    """One contract (coded `contract_code`, on `calendar`), a district, an institution, a
    configuration item and an agent with an API token; with `policy` (a shipped contract
    code), that contract's SLA policy published as version 1. Benchmarks that open tickets
    through the API may leave the policy to be published on the first ticket, as in service."""
    from itsm.accounts.models import User
    from itsm.accounts.services import users
    from itsm.db import Database
    from itsm.directory.models import ConfigurationItem, Contract, District, Institution
    from itsm.directory.services.directory import institution_values
    from itsm.models.types import Role
    from itsm.sla.models import SlaPolicy
    from sla_rules.policy import shipped_policy

    database = Database(url)
    try:
        with database.transaction() as session:
            contract = Contract(
                code=contract_code,
                name="基准测试运维合同",
                customer="北京市某区卫生健康委员会",
                timezone="Asia/Shanghai",
                service_hours="7×24" if calendar == "24x7" else "5×8",
                calendar=calendar,
            )
            district = District(code="BENCH-D", name="基准区", city="北京市", tier="urban")
            session.add_all([contract, district])
            session.flush()
            institution = Institution(
                **institution_values(
                    code="BENCH-I1",
                    name="北京市基准区第一社区卫生服务中心",
                    kind="community_center",
                    district_id=district.id,
                    contract_id=contract.id,
                    address="北京市基准区测试路1号",
                    latitude=39.91,
                    longitude=116.40,
                    phones=["010-61234567"],
                )
            )
            item = ConfigurationItem(contract_id=contract.id, code="BENCH-HIS", name="门诊收费")
            agent = User(
                username="bench-agent",
                display_name="基准坐席",
                role=Role.AGENT,
                phone="13800138000",
                contracts=[contract],
            )
            session.add_all([institution, item, agent])
            session.flush()
            policy_id = None
            if policy is not None:
                row = SlaPolicy(
                    contract_id=contract.id,
                    version=1,
                    document=shipped_policy(policy),
                    published_at=datetime.now(UTC),
                    published_by_id=agent.id,
                )
                session.add(row)
                session.flush()
                policy_id = row.id
            token = users.create_token(session, agent.username, "benchmark")
            return BenchWorld(contract.id, institution.id, item.id, agent.id, token, policy_id)
    finally:
        database.dispose()
