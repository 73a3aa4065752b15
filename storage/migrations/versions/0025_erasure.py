"""residents' erasure (issue 20): erased stand-ins, suppressed addresses, erasure notices

Revision ID: 0025
Revises: 0024
Create Date: 2027-02-01

One nullable column on residents (erased_at: the anonymous stand-in an erasure leaves for one
campaign's answers), a table of suppressed addresses kept only as keyed hashes, and the tombstones
API consumers read to follow an erasure in their copies. No existing row changes.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("erased_at", storage.types.UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        "suppressed_addresses",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("suppressed_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_table(
        "erasure_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("erased_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_erasure_notices_commit_order", "erasure_notices", ["campaign_id", "txid", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_erasure_notices_commit_order", table_name="erasure_notices")
    op.drop_table("erasure_notices")
    op.drop_table("suppressed_addresses")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("erased_at")
