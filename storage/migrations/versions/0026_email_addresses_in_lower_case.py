"""email addresses stored in lower case (issue 20): the one form import, inbound and find compare

Revision ID: 0026
Revises: 0025
Create Date: 2027-02-02

An import kept an email's local part as written (`Anna.Nowak@x.pl`) while an inbound mail's sender
is read in lower case, so the resident who wrote was taken for a stranger. Every email address is
now stored as outreach.addresses.canonical_address gives it (the whole address in lower case). Done
in Python, not with SQL's lower(), which on SQLite folds ASCII only. An address whose lower-case
form another row holds already (two residents imported as `Anna@x.pl` and `anna@x.pl`) stays as it
was: merging residents is an official's decision, and the lower-case row is the one mail reaches.
The downgrade keeps the lower case (the case written at import is not kept anywhere).

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, address FROM contact_addresses WHERE channel = 'email' ORDER BY id")
    ).all()
    taken = {address for _, address in rows}
    changes = []
    for contact_id, address in rows:
        # outreach.addresses.canonical_address as of this revision (a migration keeps its own copy).
        lowered = address.strip().lower()
        if lowered != address and lowered not in taken:
            taken.add(lowered)
            changes.append({"id": contact_id, "address": lowered})
    for start in range(0, len(changes), BATCH):
        connection.execute(
            sa.text("UPDATE contact_addresses SET address = :address WHERE id = :id"), changes[start : start + BATCH]
        )


def downgrade() -> None:
    pass
