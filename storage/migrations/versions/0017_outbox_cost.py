"""what a send holds of its campaign's SMS budget (issue 18): reserved before the send, given back when
the send surely never left

Revision ID: 0017
Revises: 0016
Create Date: 2027-01-27

One nullable column on outbox. Sends recorded before it hold nothing: their cost was added to the
campaign's spend when they were sent, as before.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("cost", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("cost")
