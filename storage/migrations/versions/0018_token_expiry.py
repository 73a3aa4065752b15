"""an API token may expire (issue 20): `outreach token create --expires 90d`, the API's expires_in

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

One nullable column on api_tokens; tokens made before it never expire (until revoked), as before.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", storage.types.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
