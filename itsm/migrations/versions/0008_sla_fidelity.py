"""what the SLA rules match and count from as the contracts say: an institution's
remote_area (C1-7), a configuration item's group (C4-2), a ticket's located_at and diagnosis
(C1-8 counts from the fault's location)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import itsm.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GROUPS = (
    "his",
    "interoperability",
    "lis",
    "pacs",
    "cloud",
    "server",
    "network",
    "data",
    "application",
)


def upgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("remote_area", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.alter_column("remote_area", existing_type=sa.Boolean(), server_default=None)

    with op.batch_alter_table("configuration_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "group",
                sa.Enum(
                    *GROUPS,
                    name="system_group",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("located_at", itsm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("diagnosis", sa.String(length=10000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("diagnosis")
        batch_op.drop_column("located_at")
    with op.batch_alter_table("configuration_item", schema=None) as batch_op:
        batch_op.drop_column("group")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_column("remote_area")
