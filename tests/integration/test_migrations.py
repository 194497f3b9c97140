"""Alembic brings an empty database to exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from itsm import migrate
from itsm.areas import import_models
from itsm.db import Base, make_engine
from tests.conftest import postgres_database


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        import_models()
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


@pytest.mark.skipif(not os.environ.get("ITSM_TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_ticket_numbers_continue_across_the_sequence_migration() -> None:
    """0004 moves PostgreSQL's numbering from ticket_serial rows to a sequence, and back."""
    with postgres_database() as url:
        migrate.upgrade(url, "0002")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ticket_serial (id) VALUES (41)"))
        migrate.upgrade(url, "0004")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT nextval('ticket_number_seq')")).scalar_one() == 42
        from alembic import command

        command.downgrade(migrate.alembic_config(url), "0002")
        with engine.begin() as conn:
            serial = "INSERT INTO ticket_serial DEFAULT VALUES RETURNING id"
            assert conn.execute(text(serial)).scalar_one() == 43
        engine.dispose()


def test_clocks_and_notifications_keep_their_ticket_across_the_subject_migration(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """0006 turns `ticket_id` into a (subject_type, subject_id) pair on clocks and
    notifications; rows written before it still belong to their ticket."""
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'subjects.sqlite3'}"
    migrate.upgrade(url, "0005")
    engine = create_engine(url)  # no foreign-key checks: the ticket itself is left out
    at = "2026-12-01 08:00:00.000000"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contract (id, code, name, customer, timezone, service_hours, "
                "calendar, notification_settings) VALUES (1, 'C4', 'c', 'c', 'Asia/Shanghai', "
                "'24x7', '24x7', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sla_policy (id, contract_id, version, document, published_at) "
                f"VALUES (1, 1, 1, '{{}}', '{at}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sla_clock (ticket_id, metric, status, policy_id, rule, target, "
                "calendar, meter, starts, warn_fraction, total_seconds, paused_seconds, "
                "started_at, due_at, warn_at) VALUES (7, 'response', 'running', 1, 'r', '10m', "
                f"'24x7', '24x7', 'reported', 0.75, 600, 0, '{at}', '{at}', '{at}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sla_clock_event (clock_id, at, kind, cause, due_at, data) "
                f"SELECT id, '{at}', 'started', 'opened', '{at}', '{{}}' FROM sla_clock"
            )
        )
        conn.execute(
            text(
                "INSERT INTO notification (key, event, ticket_id, audience, channel, address, "
                "lang, context, title, body, urgent, status, attempts, created_at, updated_at) "
                "VALUES ('k', 'ticket_opened', 7, 'reporter', 'sms', '+8613900000000', 'zh_CN', "
                f"'{{}}', '', '', 0, 'pending', 0, '{at}', '{at}')"
            )
        )
    migrate.upgrade(url)
    with engine.connect() as conn:
        clock = "SELECT subject_type, subject_id, metric FROM sla_clock"
        assert conn.execute(text(clock)).one() == ("ticket", 7, "response")
        told = "SELECT subject_type, subject_id FROM notification"
        assert conn.execute(text(told)).one() == ("ticket", 7)
        # the timeline stays with its clock (SQLite copies the table to change it)
        timeline = "SELECT e.kind FROM sla_clock_event e JOIN sla_clock c ON c.id = e.clock_id"
        assert conn.execute(text(timeline)).scalars().all() == ["started"]
    engine.dispose()
