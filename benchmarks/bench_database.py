"""A database of a benchmark run's own, created and dropped on the server it is given."""

from __future__ import annotations

import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url


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
