"""a closed campaign records when its results went back to its respondents (issue 17)

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-25

One column on campaigns: results_back_at, set once the results-back job has queued the campaign's
message to every respondent (or found it has none to send); the job looks only at closed campaigns
without it. Campaigns closed before are marked done here: they had no results_back to send.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("results_back_at", storage.types.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE campaigns SET results_back_at = closed_at WHERE status = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("results_back_at")
