"""A pool that pings only connections that sat idle: a busy worker skips the round trip, and a
connection that died while idle is still replaced before anyone uses it (PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from itsm.db import make_engine, ping_when_idle
from tests.conftest import postgres_database

pytestmark = pytest.mark.skipif(
    not os.environ.get("ITSM_TEST_DATABASE_URL"), reason="terminating a backend needs PostgreSQL"
)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """An empty PostgreSQL database: these tests need a server, not our schema."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def admin(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def pool(database_url: str) -> Iterator[Callable[[float], Engine]]:
    """Engines of one connection that ping after `idle_seconds` (disposed after the test)."""
    made: list[Engine] = []

    def build(idle_seconds: float) -> Engine:
        engine = make_engine(database_url, pool_pre_ping=False, pool_size=1, max_overflow=0)
        made.append(ping_when_idle(engine, idle_seconds))
        return made[-1]

    yield build
    for engine in made:
        engine.dispose()


def _backend_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as connection:
        # Waits (up to 5 s) for the backend to be gone.
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


def test_a_connection_back_a_moment_ago_is_used_without_a_ping(
    admin: Engine, pool: Callable[[float], Engine]
) -> None:
    engine = pool(60)
    first = _backend_of(engine)
    _terminate(admin, first)
    # Not pinged, so the dead connection reaches the statement: SQLAlchemy sees the
    # disconnect, drops the pool, and the next checkout connects afresh.
    with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert failed.value.connection_invalidated
    assert _backend_of(engine) != first


def test_a_connection_that_died_while_idle_is_replaced_on_checkout(
    admin: Engine, pool: Callable[[float], Engine]
) -> None:
    engine = pool(0)
    first = _backend_of(engine)
    _terminate(admin, first)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT 1")) == 1
        second = int(connection.scalar(text("SELECT pg_backend_pid()")))
    assert second != first
