"""report files: reports asked for (an inspection's, a contract's quarter), rendered by a job
into the instance folder, with their status

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import itsm.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", itsm.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("format IN ('pdf', 'xlsx')", name=op.f("ck_report_file_format")),
        sa.CheckConstraint(
            "kind IN ('inspection', 'inspection_quarter')", name=op.f("ck_report_file_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name=op.f("ck_report_file_status")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_report_file_requested_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_file")),
    )
    with op.batch_alter_table("report_file", schema=None) as batch_op:
        batch_op.create_index("ix_report_file_kind_subject", ["kind", "subject"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_report_file_requested_by_id"), ["requested_by_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_file_requested_by_id"))
        batch_op.drop_index("ix_report_file_kind_subject")

    op.drop_table("report_file")
