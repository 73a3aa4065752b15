"""what became of a send of unknown outcome (issue 18): confirmed by the provider, not seen by it and
queued again, resent by the campaign's on_unknown policy, or given up

Revision ID: 0016
Revises: 0015
Create Date: 2027-01-26

One nullable column on outbox; sends that ended unknown before it stay unknown and unresolved, so the
dispatcher's reconciliation takes them up too.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("unknown_outcome", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("unknown_outcome")
