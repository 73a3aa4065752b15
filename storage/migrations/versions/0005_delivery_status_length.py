"""delivery statuses of 32 characters: Twilio's "partially_delivered" (19) did not fit the 16 of
outbox.delivery_status and early_delivery_reports.status, and PostgreSQL refused the report

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-19

The downgrade shrinks the columns back; on PostgreSQL it fails while a longer status is stored.

"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_LENGTH = 32
# (table, column, nullable)
COLUMNS = (("outbox", "delivery_status", True), ("early_delivery_reports", "status", False))


def _resize(before: int, after: int) -> None:
    for table, column, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=before),
                type_=sqlmodel.sql.sqltypes.AutoString(length=after),
                existing_nullable=nullable,
            )


def upgrade() -> None:
    _resize(16, STATUS_LENGTH)


def downgrade() -> None:
    _resize(STATUS_LENGTH, 16)
