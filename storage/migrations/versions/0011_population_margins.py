"""population margins: named, versioned sets of population counts per value of a resident attribute
(district, age band, ...) and joint cells of several, for stratified samples and weighted results
(issue 16)

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-22

Two new tables; nothing else changes. The default `gdansk-districts` margins are not written here:
`outreach db upgrade` adds them after the migrations when no margins of that name exist.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_LENGTH = 80
TEXT_LENGTH = 400


def upgrade() -> None:
    op.create_table(
        "margin_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=NAME_LENGTH), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=TEXT_LENGTH), nullable=False),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_margin_set_name_version"),
    )
    op.create_table(
        "margin_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("margin_set_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sqlmodel.sql.sqltypes.AutoString(length=TEXT_LENGTH), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=TEXT_LENGTH), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=TEXT_LENGTH), nullable=False),
        sa.Column("population", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["margin_set_id"], ["margin_sets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("margin_set_id", "dimension", "value", name="uq_margin_cell"),
    )
    op.create_index("ix_margin_cells_margin_set_id", "margin_cells", ["margin_set_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_margin_cells_margin_set_id", table_name="margin_cells")
    op.drop_table("margin_cells")
    op.drop_table("margin_sets")
