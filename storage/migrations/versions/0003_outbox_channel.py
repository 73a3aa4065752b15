"""outbox channel: each row names its address's channel, so a dispatcher lane claims by index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.execute(
        "UPDATE outbox SET channel ="
        " (SELECT channel FROM contact_addresses WHERE contact_addresses.id = outbox.contact_id)"
    )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("channel", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False)
        batch.create_index("ix_outbox_due_by_channel", ["status", "channel", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_due_by_channel")
        batch.drop_column("channel")
