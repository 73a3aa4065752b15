"""webhook messages stored before they are handled (issue 18): inbound_queue

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05

A verified Twilio message is committed here and the provider answered; a worker handles it behind
and deletes the row in the transaction that handles it. One new table; nothing else changes.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("address_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("taken_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("taken_until", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_inbound_queue_address_index", "inbound_queue", ["address_index"], unique=False)
    op.create_index("ix_inbound_queue_taken_until", "inbound_queue", ["taken_until"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbound_queue_taken_until", table_name="inbound_queue")
    op.drop_index("ix_inbound_queue_address_index", table_name="inbound_queue")
    op.drop_table("inbound_queue")
