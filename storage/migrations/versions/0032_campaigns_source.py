"""a campaign's YAML as last saved, comments and all (issue 21): campaigns.source

Revision ID: 0032
Revises: 0031
Create Date: 2027-02-06

The officials' editor writes a form's values onto the campaign's YAML as it was last saved (from the
CLI's file or the editor's YAML tab), so its comments survive a save through the form. Existing
campaigns have none (NULL): the editor writes their YAML anew from the definition, as before.
No row changes.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): no copy of the table, which keeps its autoincrement and indexes.
    op.add_column("campaigns", sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("source")
