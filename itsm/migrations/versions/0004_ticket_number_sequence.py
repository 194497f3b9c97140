"""ticket numbers from a sequence on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:40:00

PostgreSQL draws ticket numbers from ticket_number_seq inside the ticket's INSERT instead of
inserting a ticket_serial row first; the sequence continues after the numbers already given.
SQLite has no sequences and keeps using ticket_serial.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE ticket_number_seq")
    op.execute("SELECT setval('ticket_number_seq', max(id)) FROM ticket_serial HAVING count(*) > 0")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Numbers handed out by the sequence must not be given again by ticket_serial.
    op.execute(
        "SELECT setval(pg_get_serial_sequence('ticket_serial', 'id'), last_value) "
        "FROM ticket_number_seq WHERE is_called"
    )
    op.execute("DROP SEQUENCE ticket_number_seq")
