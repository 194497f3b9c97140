"""Alembic environment: our models' metadata, the URL from the caller's config."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from itsm.areas import import_models
from itsm.db import Base, make_engine

config = context.config
import_models()  # every table on the metadata
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        # SQLite changes a table by copying it and dropping the old one, which its foreign-key
        # checks refuse while other tables point at it: off for the migration (outside any
        # transaction, the only place the pragma takes effect), then every key checked.
        _driver(connection).execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            _driver(connection).execute("PRAGMA foreign_keys=ON")
    if sqlite:
        broken = _driver(connection).execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows with broken foreign keys: {broken[:5]}")


def _driver(connection: Connection) -> Any:
    """The sqlite3 connection under SQLAlchemy's (in autocommit: see itsm.db.make_engine)."""
    return connection.connection.driver_connection


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
