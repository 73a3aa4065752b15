"""What a webhook says: the JSON body of each event, built from the store when the event is fanned out.

The read API's rules hold: respondents by their per-campaign pseudonym, attributes only those
OUTREACH_EXPORT_ATTRIBUTES allows (and language), an answer only as its published value
(`outreach.results.public_values`), times of residents' acts cut to the hour or the day. Nothing here
reads an address. The envelope is Standard Webhooks' suggested one: type, timestamp, data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.results.public_values import PublicValues, public_time
from outreach.settings import Settings
from storage.tables import CampaignRecord, Conversation, ErasureNotice, Response
from storage.webhook_events import CAMPAIGN_STATUS_CHANGED, CONVERSATION_COMPLETED, RESPONDENT_ERASED, RESPONSE_CREATED
from storage.webhook_tables import WebhookEvent


def allowlisted(attributes: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """A respondent's attributes as every published row gives them: the allowlist's names only."""
    return {name: attributes.get(name) for name in settings.export_attributes}


def _envelope(event_type: str, moment: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": moment.isoformat().replace("+00:00", "Z"), "data": data}


def _campaign(record: CampaignRecord) -> dict[str, Any]:
    return {"id": record.id, "slug": record.slug}


async def event_payload(
    session: AsyncSession, event: WebhookEvent, *, settings: Settings, definitions: CampaignDefinitions
) -> dict[str, Any] | None:
    """The event's body, or None when there is nothing the service may publish of it (an answer
    whose value has no published form, as the answer feed leaves it out)."""
    record = await session.get(CampaignRecord, event.campaign_id)
    if record is None:
        return None
    precision = settings.row_time_precision
    if event.type == RESPONSE_CREATED:
        response = await session.get(Response, int(event.facts["response_id"]))
        if response is None:
            return None
        value = PublicValues(definitions.flow(record))(response.question_id, response.value)
        if value is None:
            return None
        answered_at = public_time(response.answered_at, precision)
        data = {
            "campaign": _campaign(record),
            "question": response.question_id,
            "respondent": response.respondent,
            "value": value,
            "channel": response.channel,
            "answered_at": answered_at.isoformat().replace("+00:00", "Z"),
            "language": response.language,
            "attributes": allowlisted(response.attributes, settings),
        }
        return _envelope(event.type, answered_at, data)
    if event.type == CONVERSATION_COMPLETED:
        conversation = await session.get(Conversation, int(event.facts["conversation_id"]))
        if conversation is None:
            return None
        completed_at = public_time(event.created_at, precision)
        data = {
            "campaign": _campaign(record),
            "respondent": conversation.respondent,
            "completed_at": completed_at.isoformat().replace("+00:00", "Z"),
        }
        return _envelope(event.type, completed_at, data)
    if event.type == CAMPAIGN_STATUS_CHANGED:
        data = {
            "campaign": _campaign(record),
            "from": event.facts["from"],
            "to": event.facts["to"],
            "changed_at": event.created_at.isoformat().replace("+00:00", "Z"),
        }
        return _envelope(event.type, event.created_at, data)
    if event.type == RESPONDENT_ERASED:
        notice = await session.get(ErasureNotice, int(event.facts["notice_id"]))
        if notice is None:
            return None
        # The old respondent id only (the answers' fresh one is never told) and the day, as the
        # erasures feed gives them: drop the respondent's rows from your copy.
        erased_on = notice.erased_at.date()
        data = {"campaign": _campaign(record), "respondent": notice.respondent, "erased_on": erased_on.isoformat()}
        return _envelope(event.type, notice.erased_at, data)
    return None
