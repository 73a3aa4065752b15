"""early delivery reports per channel, bounded and expiring: a provider id is unique only within its
provider (Telegram's are small integers repeated per chat), so a report is kept and matched under its
channel, and the age index lets the service drop the oldest and the expired ones

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-20

Reports waiting at the upgrade are dropped: they are about sends racing the upgrade itself, and which
channel each was for cannot be told from the row. The downgrade drops the waiting reports likewise.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "early_delivery_reports"
PROVIDER_ID_LENGTH = 998
STATUS_LENGTH = 32


def _create(*, per_channel: bool) -> None:
    channel = [sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False)] if per_channel else []
    op.create_table(
        TABLE,
        *channel,
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=PROVIDER_ID_LENGTH), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=STATUS_LENGTH), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("received_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*(["channel"] if per_channel else []), "provider_id"),
    )
    if per_channel:
        op.create_index("ix_early_delivery_reports_age", TABLE, ["channel", "received_at"], unique=False)


def upgrade() -> None:
    op.drop_table(TABLE)
    _create(per_channel=True)


def downgrade() -> None:
    op.drop_index("ix_early_delivery_reports_age", table_name=TABLE)
    op.drop_table(TABLE)
    _create(per_channel=False)
