"""Campaign definitions, validated once per process: a stored definition never changes."""

from __future__ import annotations

from flows.campaign import Campaign
from storage.tables import CampaignRecord


class CampaignDefinitions:
    def __init__(self) -> None:
        self._flows: dict[int, Campaign] = {}

    def flow(self, record: CampaignRecord) -> Campaign:
        assert record.id is not None
        flow = self._flows.get(record.id)
        if flow is None:
            flow = self._flows[record.id] = Campaign.model_validate(record.definition)
        return flow
