"""a launch records how far it has opened its audience, and whom it had to skip: an outage, a restart
or one refused resident no longer leaves the rest of the audience never asked (issue 15, item 6)

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-21

Campaigns launched before this revision count as opened: their launch ran as far as it ran, and an
official who wants the rest asked runs `campaign launch` again (which asks only those not asked yet).

The downgrade drops the table and the columns; a launch still opening then stays where it stopped.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("launch_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.add_column(sa.Column("launch_cursor", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE campaigns SET launch_state = 'opened' WHERE launched_at IS NOT NULL")
    op.create_table(
        "launch_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("skipped_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "resident_id", name="uq_launch_skip_campaign_resident"),
    )
    op.create_index(op.f("ix_launch_skips_campaign_id"), "launch_skips", ["campaign_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_launch_skips_campaign_id"), table_name="launch_skips")
    op.drop_table("launch_skips")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("launch_cursor")
        batch.drop_column("launch_state")
