"""every resident says how they were recruited: attributes recruited_via (import | self-enrolment) and
recruitment_source, which results can break down by (issue 15, item 16)

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-21

A data migration, no schema change. Residents who enrolled themselves over Telegram carried
`enrol_source` (the /start source): it becomes `recruitment_source`, with `recruited_via:
self-enrolment`. Everybody else came from an import (a file or the API, the only other way in), whose
label was not kept: `recruited_via: import`, `recruitment_source: before-0010`. The downgrade gives
self-enrolled residents their `enrol_source` back and drops both attributes.

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RESIDENTS = sa.table("residents", sa.column("id", sa.Integer), sa.column("attributes", sa.JSON))
UNKNOWN_IMPORT = "before-0010"


def _recorded(attributes: dict[str, Any]) -> dict[str, Any]:
    if "recruited_via" in attributes:
        return attributes
    changed = dict(attributes)
    source = changed.pop("enrol_source", None)
    if source is not None:
        return {**changed, "recruited_via": "self-enrolment", "recruitment_source": source}
    return {**changed, "recruited_via": "import", "recruitment_source": UNKNOWN_IMPORT}


def _unrecorded(attributes: dict[str, Any]) -> dict[str, Any]:
    changed = dict(attributes)
    via = changed.pop("recruited_via", None)
    source = changed.pop("recruitment_source", None)
    if via == "self-enrolment" and source is not None:
        changed["enrol_source"] = source
    return changed


def _rewrite(change: Any) -> None:
    connection = op.get_bind()
    for resident_id, attributes in connection.execute(sa.select(_RESIDENTS.c.id, _RESIDENTS.c.attributes)).all():
        rewritten = change(attributes or {})
        if rewritten != attributes:
            connection.execute(_RESIDENTS.update().where(_RESIDENTS.c.id == resident_id).values(attributes=rewritten))


def upgrade() -> None:
    _rewrite(_recorded)


def downgrade() -> None:
    _rewrite(_unrecorded)
