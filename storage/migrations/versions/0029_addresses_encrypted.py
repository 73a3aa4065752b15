"""residents' addresses encrypted at rest (issue 20): sealed with AES-256-GCM, found by a blind index

Revision ID: 0029
Revises: 0028
Create Date: 2027-02-03

`contact_addresses.address` (plaintext) becomes `address_sealed` (AES-256-GCM under the current key
of OUTREACH_ENCRYPTION_KEYS, bound to the channel) and `address_index` (HMAC-SHA256 with
OUTREACH_BLIND_INDEX_KEY); the unique (channel, address) moves to (channel, address_index). Rows are
encrypted in batches of BATCH by id, then the table is rebuilt without the plaintext column (SQLite:
the connection's secure_delete zeroes the old pages; PostgreSQL keeps the dropped column's bytes until
`VACUUM FULL contact_addresses`: docs/PRIVACY.md). The keys are the ones storage.migrate.upgrade is
handed (`outreach db upgrade` reads the settings); without any, the public development keys. The
downgrade decrypts the rows back into the plaintext column.

"""

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import sqlalchemy as sa
import sqlmodel
from alembic import context, op

from storage.address_keys import AddressKeys
from storage.keyring import development_keyring

# revision identifiers, used by Alembic.
revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
SEALED_LENGTH = 1761  # storage.tables.SEALED_ADDRESS_LENGTH as of this revision


def _recreate() -> Literal["always", "auto"]:
    # SQLite rebuilds the table (its unique constraint is part of the definition), with foreign keys
    # off during migrations (storage.migrate): rows pointing at an address keep their ids.
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def _keys() -> AddressKeys:
    return AddressKeys(context.config.attributes.get("keyring") or development_keyring())


def _batches(connection: sa.Connection, columns: str, where: str) -> Iterator[Sequence[sa.Row[Any]]]:
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                f"SELECT id, channel, {columns} FROM contact_addresses WHERE id > :last AND {where}"
                " ORDER BY id LIMIT :size"
            ),
            {"last": last, "size": BATCH},
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def upgrade() -> None:
    keys = _keys()
    with op.batch_alter_table("contact_addresses") as batch:
        batch.add_column(sa.Column("address_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(
            sa.Column("address_sealed", sqlmodel.sql.sqltypes.AutoString(length=SEALED_LENGTH), nullable=True)
        )
    connection = op.get_bind()
    for rows in _batches(connection, "address", "address_index IS NULL"):
        connection.execute(
            sa.text(
                "UPDATE contact_addresses SET address_index = :address_index, address_sealed = :address_sealed"
                " WHERE id = :id"
            ),
            [{"id": row[0], **keys.columns(row[1], row[2])} for row in rows],
        )
    # SQLite copies the rows into a new table and drops the old one, plaintext and all.
    with op.batch_alter_table("contact_addresses", recreate=_recreate()) as batch:
        batch.drop_constraint("uq_contact_channel_address", type_="unique")
        batch.drop_column("address")
        batch.alter_column("address_index", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch.alter_column(
            "address_sealed", existing_type=sqlmodel.sql.sqltypes.AutoString(length=SEALED_LENGTH), nullable=False
        )
        batch.create_unique_constraint("uq_contact_channel_address_index", ["channel", "address_index"])


def downgrade() -> None:
    keys = _keys()
    with op.batch_alter_table("contact_addresses") as batch:
        batch.add_column(sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
    connection = op.get_bind()
    for rows in _batches(connection, "address_sealed", "address IS NULL"):
        connection.execute(
            sa.text("UPDATE contact_addresses SET address = :address WHERE id = :id"),
            [{"id": row[0], "address": keys.open(row[1], row[2])} for row in rows],
        )
    with op.batch_alter_table("contact_addresses", recreate=_recreate()) as batch:
        batch.drop_constraint("uq_contact_channel_address_index", type_="unique")
        batch.drop_column("address_index")
        batch.drop_column("address_sealed")
        batch.alter_column("address", existing_type=sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False)
        batch.create_unique_constraint("uq_contact_channel_address", ["channel", "address"])
