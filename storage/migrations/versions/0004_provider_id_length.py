"""provider ids of 998 characters: an email Message-ID (TOKEN@reply domain, or a resident's own) is
longer than the 64 of outbox and early_delivery_reports, or the 128 of inbound_events, allowed

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-18

998 is RFC 5322's line limit, which no Message-ID can pass (storage.tables.PROVIDER_ID_LENGTH says
why). The downgrade shrinks the columns back; on PostgreSQL it fails while a longer id is stored.

"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROVIDER_ID_LENGTH = 998
# (table, nullable, the length before this revision)
COLUMNS = (("outbox", True, 64), ("inbound_events", False, 128), ("early_delivery_reports", False, 64))


def upgrade() -> None:
    for table, nullable, before in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "provider_id",
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=before),
                type_=sqlmodel.sql.sqltypes.AutoString(length=PROVIDER_ID_LENGTH),
                existing_nullable=nullable,
            )


def downgrade() -> None:
    for table, nullable, before in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "provider_id",
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=PROVIDER_ID_LENGTH),
                type_=sqlmodel.sql.sqltypes.AutoString(length=before),
                existing_nullable=nullable,
            )
