"""The service layer's tests: use cases called on a session inside an outer transaction that
rolls back, with time moved; no HTTP, no worker process. A database of the module's own (SQLite
always, PostgreSQL when ITSM_TEST_DATABASE_URL is set), migrated, plus what the module adds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from itsm.db import make_engine
from tests.conftest import BACKENDS, migrated_database


@pytest.fixture(scope="module", params=BACKENDS)
def service_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of this module's own (a module may add tables of its own)."""
    with migrated_database(request.param, tmp_path_factory) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def session(service_engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints of an outer transaction that rolls back."""
    with service_engine.connect() as connection:
        outer = connection.begin()
        with Session(
            connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            yield session
        outer.rollback()
