"""webhook events indexed by campaign and type (issue 20): an erasure's search for its events

Revision ID: 0028
Revises: 0027
Create Date: 2027-02-03

An erasure deletes the webhook events about the erased resident's answers and conversations
(storage.webhook_events.forget_respondent_events); the index keeps that search to the resident's
campaigns, not the whole table (retention's inactive residents are erased fifty to a transaction).
No row changes.

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_webhook_events_campaign_type", "webhook_events", ["campaign_id", "type"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_webhook_events_campaign_type", table_name="webhook_events")
