"""Alembic brings an empty database to exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from itsm import migrate
from itsm.db import Base, make_engine


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() is not None
    engine.dispose()


def test_upgrade_from_empty_and_downgrade_to_empty(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    assert {"ticket", "ticket_event", "institution"} <= set(inspect(engine).get_table_names())
    migrate.upgrade(url)  # a second run is a no-op
    from alembic import command

    command.downgrade(migrate.alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
