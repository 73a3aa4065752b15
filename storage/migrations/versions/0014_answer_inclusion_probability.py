"""answers carry the inclusion probability their respondent was drawn with, and SQLite gets an index
that holds what results group answers by (issue 16, R: a million answers weighted in under 2 s)

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-24

responses.inclusion_probability is copied from sampled_residents (NULL: the campaign drew no sample),
so weighted results group the answers alone instead of joining the sample once per answer. Answers
stored before take their respondent's recorded probability here.

On SQLite, ix_responses_results (campaign, question, value, language, attributes, inclusion
probability) hands results the answers already in their groups: SQLite aggregates by sorting, and
sorting a million answers by those columns cost most of the time. PostgreSQL aggregates by hashing
(and cannot index its json columns), so it gets no such index.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESULTS_INDEX = "ix_responses_results"
RESULTS_COLUMNS = ["campaign_id", "question_id", "value", "language", "attributes", "inclusion_probability"]


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("inclusion_probability", sa.Float(), nullable=True))
    op.execute(
        "UPDATE responses SET inclusion_probability = (SELECT s.inclusion_probability FROM sampled_residents s"
        " WHERE s.campaign_id = responses.campaign_id AND s.resident_id = responses.resident_id)"
        " WHERE EXISTS (SELECT 1 FROM sampled_residents s"
        " WHERE s.campaign_id = responses.campaign_id AND s.resident_id = responses.resident_id)"
    )
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(RESULTS_INDEX, "responses", RESULTS_COLUMNS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(RESULTS_INDEX, table_name="responses")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("inclusion_probability")
