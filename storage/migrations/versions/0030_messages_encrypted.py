"""residents' messages encrypted at rest (issue 20): inbound_events.text and .full_text sealed

Revision ID: 0030
Revises: 0029
Create Date: 2027-02-04

What residents wrote (the text read, and a mail kept whole, quoted headers and all) is sealed with
AES-256-GCM under the current key, bound to "inbound:CHANNEL:text" or ":full_text", as
storage.inbound now writes it. Rows are sealed in batches of BATCH by id; a blank text (retention's)
stays blank. No column changes. The keys are the ones storage.migrate.upgrade is handed. The
downgrade decrypts them back.

"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from storage.address_keys import AddressKeys
from storage.keyring import development_keyring

# revision identifiers, used by Alembic.
revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def _every_message(change: Callable[[str, str, str | None], str | None]) -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, channel, text, full_text FROM inbound_events WHERE id > :last"
                " AND (text != '' OR full_text IS NOT NULL) ORDER BY id LIMIT :size"
            ),
            {"last": last, "size": BATCH},
        ).all()
        if not rows:
            return
        connection.execute(
            sa.text("UPDATE inbound_events SET text = :text, full_text = :full_text WHERE id = :id"),
            [
                {"id": row[0], "text": change(row[1], "text", row[2]), "full_text": change(row[1], "full_text", row[3])}
                for row in rows
            ],
        )
        last = rows[-1][0]


def _keys() -> AddressKeys:
    return AddressKeys(context.config.attributes.get("keyring") or development_keyring())


def upgrade() -> None:
    _every_message(_keys().seal_message)


def downgrade() -> None:
    _every_message(_keys().open_message)
