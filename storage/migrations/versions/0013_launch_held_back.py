"""a launch counts the residents fatigue held back (asked by OUTREACH_MAX_ASKS campaigns in
OUTREACH_ASK_WINDOW_DAYS days): every launch, sampled or not, now opens only the eligible (issue 16, F)

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-23

One column on campaigns; campaigns launched before held nobody back.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("launch_held_back", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("launch_held_back")
