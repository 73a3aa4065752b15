"""the consent ledger (issue 20): every opt-in and opt-out of an address, appended, never updated

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04

A new table, `consent_ledger`, keyed to the address row. A trigger on each database refuses every
UPDATE but one: detaching a row from an erased address (contact_id set to NULL, nothing else changed).
Addresses stored before it get their history as far as their columns tell it: an opt-in at their
consent_at (source `before_ledger`, the consent_source as the notice) and an opt-out at their
opted_out_at.

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("id", "change", "source", "detail", "channel", "notice", "stated_at", "inbound_event_id", "at")
_REFUSED = "consent_ledger is append-only: a row may only be detached from an erased address"

_POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.contact_id IS NULL AND (to_jsonb(NEW) - 'contact_id') = (to_jsonb(OLD) - 'contact_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{_REFUSED}';
END
$$
"""
_POSTGRESQL_TRIGGER = """
CREATE TRIGGER consent_ledger_append_only BEFORE UPDATE ON consent_ledger
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only()
"""

_SQLITE_TRIGGER = f"""
CREATE TRIGGER consent_ledger_append_only BEFORE UPDATE ON consent_ledger
WHEN NOT (NEW.contact_id IS NULL AND {" AND ".join(f"NEW.{name} IS OLD.{name}" for name in _COLUMNS)})
BEGIN
    SELECT RAISE(ABORT, '{_REFUSED}');
END
"""


def upgrade() -> None:
    op.create_table(
        "consent_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("change", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("stated_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("inbound_event_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact_addresses.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_ledger_contact_id", "consent_ledger", ["contact_id"], unique=False)
    op.execute(
        "INSERT INTO consent_ledger (contact_id, change, source, notice, stated_at, at)"
        " SELECT id, 'opt_in', 'before_ledger', consent_source, consent_at, consent_at"
        " FROM contact_addresses WHERE consent_at IS NOT NULL ORDER BY id"
    )
    op.execute(
        "INSERT INTO consent_ledger (contact_id, change, source, at)"
        " SELECT id, 'opt_out', 'before_ledger', opted_out_at"
        " FROM contact_addresses WHERE opted_out_at IS NOT NULL ORDER BY id"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)  # one statement per execute: asyncpg prepares each
        op.execute(_POSTGRESQL_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER consent_ledger_append_only ON consent_ledger")
        op.execute("DROP FUNCTION consent_ledger_append_only()")
    op.drop_index("ix_consent_ledger_contact_id", table_name="consent_ledger")
    op.drop_table("consent_ledger")
