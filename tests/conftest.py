"""Fixtures: a migrated database per backend (SQLite always, PostgreSQL when
ITSM_TEST_DATABASE_URL is set), the app on it, and a fresh contract world per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from itsm import migrate
from itsm.app import create_app
from itsm.db import Database
from tests.factories import World, build_world
from tests.provider_stub import ProviderStub
from tests.redis_server import RedisServer

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("ITSM_TEST_DATABASE_URL") else [])


@contextmanager
def migrated_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of its own on `backend`, migrated to the current schema."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'itsm.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    with postgres_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of this test run's own, migrated to the current schema."""
    with migrated_database(request.param, tmp_path_factory) as url:
        yield url


class postgres_database:  # noqa: N801 - used as a context manager like a function
    """A new PostgreSQL database on the test server, dropped on exit."""

    def __init__(self) -> None:
        base = make_url(os.environ["ITSM_TEST_DATABASE_URL"])
        if base.drivername == "postgresql":
            base = base.set(drivername="postgresql+psycopg")
        self.base = base
        self.name = f"itsm_test_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.base.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer | None]:
    """The run's own redis-server (never the machine's shared one), if redis-server exists."""
    if not RedisServer.available():
        yield None
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stub() -> Iterator[ProviderStub]:
    """The providers' stand-in (Twilio, WeChat Work) on a free port, one per test module."""
    with ProviderStub() as server:
        yield server


@pytest.fixture
def provider(stub: ProviderStub) -> ProviderStub:
    """The module's stub with nothing scripted or recorded by earlier tests."""
    stub.reset()
    return stub


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it may stop, flush and start again."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(database_url: str, own_redis: RedisServer, tmp_path: Path) -> Iterator[Flask]:
    """The app on this run's database, handing its jobs to the test's own Redis."""
    application = create_app(
        instance_path=tmp_path / "web", database_url=database_url, redis_url=own_redis.url
    )
    yield application
    application.extensions["itsm.db"].dispose()


@pytest.fixture
def app_with(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build apps on this run's database with settings of the test's own:
    `app_with(trusted_proxies=1)`."""
    built: list[Flask] = []

    def build(**settings: Any) -> Flask:
        application = create_app(
            instance_path=tmp_path / "app_with", database_url=database_url, redis_url="", **settings
        )
        built.append(application)
        return application

    yield build
    for application in built:
        application.extensions["itsm.db"].dispose()


@pytest.fixture(scope="session")
def app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer | None
) -> Iterator[Flask]:
    instance: Path = tmp_path_factory.mktemp("instance")
    application = create_app(
        instance_path=instance,
        database_url=database_url,
        redis_url=redis_server.url if redis_server else "",
        max_attachment_bytes=200_000,
        secret_key="test-secret",
    )
    yield application
    application.extensions["itsm.db"].dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["itsm.db"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(db: Database) -> World:
    """A fresh contract with two institutions and a user of every role, each with a token."""
    return build_world(db)


@pytest.fixture
def other_world(db: Database) -> World:
    """A second, unrelated contract: what nobody in `world` may see."""
    return build_world(db)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def travel() -> Iterator[Any]:
    """Move the service's clock: `travel("2025-10-01T10:00:00+08:00")`; it stands still."""
    machines: list[time_machine.travel] = []

    def to(when: str | datetime) -> None:
        if machines:
            machines.pop().stop()
        machine = time_machine.travel(at(when) if isinstance(when, str) else when, tick=False)
        machine.start()
        machines.append(machine)

    yield to
    if machines:
        machines.pop().stop()
