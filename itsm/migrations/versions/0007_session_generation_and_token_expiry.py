"""page sessions ended by a generation per user; API tokens that expire

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import itsm.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "api_token", sa.Column("expires_at", itsm.db.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_generation")
