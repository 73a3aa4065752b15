"""launch requests: a large launch waits for a second official's approval (issue 21)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04

One new table; nothing else changes.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "launch_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["officials.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["officials.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_launch_requests_campaign_id", "launch_requests", ["campaign_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_launch_requests_campaign_id", table_name="launch_requests")
    op.drop_table("launch_requests")
