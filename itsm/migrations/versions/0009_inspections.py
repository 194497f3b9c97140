"""inspections: each contract's versioned plan, its occurrences with their history, photos
and the tickets their faults opened, and the serials their numbers come from

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import itsm.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_serial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issued_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_serial")),
    )
    op.create_table(
        "inspection_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("published_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_inspection_plan_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["user_account.id"],
            name=op.f("fk_inspection_plan_published_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plan")),
        sa.UniqueConstraint(
            "contract_id", "version", name=op.f("uq_inspection_plan_contract_id_version")
        ),
    )
    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("occurrence_key", sa.String(length=100), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("plan_version", sa.Integer(), nullable=True),
        sa.Column("clause", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("due_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scheduled_at", itsm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("position", sa.JSON(), nullable=True),
        sa.Column("started_at", itsm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", itsm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", itsm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("missed_at", itsm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('planned', 'assigned', 'in_progress', 'submitted', 'accepted', 'cancelled', "
            "'missed')",
            name=op.f("ck_inspection_state"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_inspection_assignee_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_inspection_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_inspection_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plan.id"], name=op.f("fk_inspection_plan_id_inspection_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
        sa.UniqueConstraint(
            "contract_id", "occurrence_key", name=op.f("uq_inspection_contract_id_occurrence_key")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_inspection_number")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index("ix_inspection_contract_day", ["contract_id", "day"], unique=False)
        batch_op.create_index("ix_inspection_state_due_at", ["state", "due_at"], unique=False)

    op.create_table(
        "inspection_event",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=True),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=10000), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_inspection_event_actor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_inspection_event_inspection_id_inspection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_event")),
    )
    with op.batch_alter_table("inspection_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_event_inspection_id"), ["inspection_id"], unique=False
        )

    op.create_table(
        "inspection_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_inspection_photo_inspection_id_inspection"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_inspection_photo_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_photo")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_inspection_photo_storage_key")),
    )
    with op.batch_alter_table("inspection_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_photo_inspection_id"), ["inspection_id"], unique=False
        )

    op.create_table(
        "inspection_ticket",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", itsm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_inspection_ticket_inspection_id_inspection"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_inspection_ticket_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("inspection_id", "ticket_id", name=op.f("pk_inspection_ticket")),
        sa.UniqueConstraint(
            "inspection_id", "item_key", name=op.f("uq_inspection_ticket_inspection_id_item_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("inspection_ticket")
    with op.batch_alter_table("inspection_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_photo_inspection_id"))

    op.drop_table("inspection_photo")
    with op.batch_alter_table("inspection_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_event_inspection_id"))

    op.drop_table("inspection_event")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_state_due_at")
        batch_op.drop_index("ix_inspection_contract_day")
        batch_op.drop_index(batch_op.f("ix_inspection_assignee_id"))

    op.drop_table("inspection")
    op.drop_table("inspection_plan")
    op.drop_table("inspection_serial")
