"""free-text answers marked once retention scrubbed them (issue 20): responses.text_scrubbed_at

Revision ID: 0031
Revises: 0030
Create Date: 2027-02-05

Retention's `raw_text` replaces a free-text answer's raw words by their scrubbed form once older than
RETENTION_RAW_TEXT_DAYS (outreach.rights.raw_text) and marks it, so each daily run reads only the
answers that came due since the last. Existing answers start unmarked (NULL): the first run reads
them once. No row changes.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): no copy of the table, which keeps its autoincrement and indexes.
    op.add_column("responses", sa.Column("text_scrubbed_at", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("responses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("text_scrubbed_at")
