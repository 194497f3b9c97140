"""clocks and notifications belong to a subject (subject_type, subject_id), not only to a
ticket; a workflow's deadline is a clock with no SLA policy

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject_type", sa.String(length=32), nullable=False, server_default="ticket")
        )
        batch_op.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
    op.execute("UPDATE sla_clock SET subject_id = ticket_id")
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.alter_column("subject_type", server_default=None)
        batch_op.alter_column("subject_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("policy_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("uq_sla_clock_ticket_id_metric", type_="unique")
        batch_op.drop_index("ix_sla_clock_ticket_id")
        batch_op.drop_constraint("fk_sla_clock_ticket_id_ticket", type_="foreignkey")
        batch_op.drop_column("ticket_id")
        batch_op.create_unique_constraint(
            "uq_sla_clock_subject_type_subject_id_metric", ["subject_type", "subject_id", "metric"]
        )

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE notification SET subject_type = 'ticket', subject_id = ticket_id "
        "WHERE ticket_id IS NOT NULL"
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_ticket_id")
        batch_op.drop_constraint("fk_notification_ticket_id_ticket", type_="foreignkey")
        batch_op.drop_column("ticket_id")
        batch_op.create_index(
            "ix_notification_subject", ["subject_type", "subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
    op.execute("UPDATE notification SET ticket_id = subject_id WHERE subject_type = 'ticket'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_subject")
        batch_op.drop_column("subject_id")
        batch_op.drop_column("subject_type")
        batch_op.create_foreign_key(
            "fk_notification_ticket_id_ticket", "ticket", ["ticket_id"], ["id"]
        )
        batch_op.create_index("ix_notification_ticket_id", ["ticket_id"], unique=False)
    op.execute(
        "DELETE FROM sla_clock_event WHERE clock_id IN "
        "(SELECT id FROM sla_clock WHERE subject_type <> 'ticket' OR policy_id IS NULL)"
    )
    op.execute("DELETE FROM sla_clock WHERE subject_type <> 'ticket' OR policy_id IS NULL")
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
    op.execute("UPDATE sla_clock SET ticket_id = subject_id")
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sla_clock_subject_type_subject_id_metric", type_="unique")
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("policy_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_sla_clock_ticket_id_ticket", "ticket", ["ticket_id"], ["id"]
        )
        batch_op.create_index("ix_sla_clock_ticket_id", ["ticket_id"], unique=False)
        batch_op.create_unique_constraint("uq_sla_clock_ticket_id_metric", ["ticket_id", "metric"])
        batch_op.drop_column("subject_id")
        batch_op.drop_column("subject_type")
