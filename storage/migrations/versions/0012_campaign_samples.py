"""sampled campaigns: the design a launch drew (seed, strata, allocation per stratum) and the residents
it drew, with their stratum and inclusion probability (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-22

Two new tables; nothing else changes. Campaigns launched before have no sample: they asked everyone.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_LENGTH = 80
TEXT_LENGTH = 400


def upgrade() -> None:
    op.create_table(
        "campaign_samples",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("margins", sqlmodel.sql.sqltypes.AutoString(length=NAME_LENGTH), nullable=True),
        sa.Column("allocation", sa.JSON(), nullable=False),
        sa.Column("drawn_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "sampled_residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sqlmodel.sql.sqltypes.AutoString(length=TEXT_LENGTH), nullable=False),
        sa.Column("inclusion_probability", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign_samples.campaign_id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "resident_id", name="uq_sampled_resident"),
    )
    op.create_index("ix_sampled_residents_resident_id", "sampled_residents", ["resident_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sampled_residents_resident_id", table_name="sampled_residents")
    op.drop_table("sampled_residents")
    op.drop_table("campaign_samples")
