"""Campaign definitions, validated once per process: a launched campaign's definition never changes;
a draft's may (the editor, outreach.campaigns.drafts), so its cached flow is kept only while the
stored definition is the one it was made from."""

from __future__ import annotations

from typing import Any

from flows.campaign import Campaign
from storage.tables import CampaignRecord


class CampaignDefinitions:
    def __init__(self) -> None:
        self._flows: dict[int, tuple[dict[str, Any], Campaign]] = {}

    def flow(self, record: CampaignRecord) -> Campaign:
        assert record.id is not None
        cached = self._flows.get(record.id)
        if cached is None or (record.status == "draft" and cached[0] != record.definition):
            cached = self._flows[record.id] = (record.definition, Campaign.model_validate(record.definition))
        return cached[1]
