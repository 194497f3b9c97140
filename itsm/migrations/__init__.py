"""Alembic migrations; run them with `itsm db upgrade`."""
