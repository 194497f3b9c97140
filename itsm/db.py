"""Engine, session factory, declarative base and the transaction helper."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from time import monotonic
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored as UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def column_values(table: Table, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every non-key column of a new row of `table`: the given value, else the column's
    default, else None. For Core INSERTs of many rows (which need the same keys in each) and
    for building the ORM object of a row inserted by Core without reading it back."""
    values = {}
    for column in table.c:
        if column.primary_key:
            continue
        if column.key in given:
            values[column.key] = given[column.key]
        elif column.default is None:
            values[column.key] = None
        elif column.default.is_callable:
            values[column.key] = column.default.arg(None)  # type: ignore[attr-defined]
        else:
            values[column.key] = column.default.arg  # type: ignore[attr-defined]
    return values


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (BEGIN IMMEDIATE
            # below), so concurrent writers wait for the lock instead of failing mid-way.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def ping_when_idle(engine: Engine, idle_seconds: float) -> Engine:
    """Test a connection on checkout only when it sat in the pool more than `idle_seconds`
    (build `engine` without `pool_pre_ping`). A connection handed back a moment ago, or just
    made, was alive then; pinging it again costs a round trip per checkout. One that went bad
    meanwhile fails its statement, and SQLAlchemy drops the pool's connections as for any
    disconnect: a caller that must not fail then retries once (see jobs.notifications)."""

    def _now_alive(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info["alive_at"] = monotonic()

    event.listen(engine, "connect", _now_alive)
    event.listen(engine, "checkin", _now_alive)

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        alive_at = record.info.get("alive_at")
        if alive_at is not None and monotonic() - alive_at <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            raise DisconnectionError(str(error)) from error  # the pool connects afresh

    return engine


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
