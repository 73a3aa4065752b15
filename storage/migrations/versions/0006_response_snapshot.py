"""answers keep the respondent's language and attributes as they were when the answer was given:
an import that later moves a resident to another district no longer rewrites historical exports,
answer feeds and results (issue 15, item 11)

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-20

Rows written before this revision have no snapshot, and what their respondents' attributes were at
the time is lost. They get the resident's language and attributes as they stand when the migration
runs: the best value still known, and from then on frozen like every other answer's. (Reading the
resident's row for old answers instead would keep them rewritable by every later import.) Both
columns are NOT NULL after the backfill, so no answer can ever fall back to the live record.

The downgrade drops the columns; exports then read the residents' current attributes again.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
UPDATE responses SET
    language = (SELECT residents.language FROM residents WHERE residents.id = responses.resident_id),
    attributes = (SELECT residents.attributes FROM residents WHERE residents.id = responses.resident_id)
"""


def upgrade() -> None:
    op.add_column("responses", sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
    op.add_column("responses", sa.Column("attributes", sa.JSON(), nullable=True))
    op.execute(_BACKFILL)
    # SQLite rebuilds the table to add NOT NULL; it keeps AUTOINCREMENT (ids never reused) only if told.
    with op.batch_alter_table("responses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("language", existing_type=sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False)
        batch.alter_column("attributes", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("responses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("attributes")
        batch.drop_column("language")
