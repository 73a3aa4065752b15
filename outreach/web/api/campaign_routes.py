"""The campaign reads of /api/v1 (list, read, status) and their declarations, with the example
campaign the document shows for a create (the writes: outreach.web.api.campaign_writes)."""

from __future__ import annotations

from outreach.campaigns.launches import audience_progress
from outreach.web.api.models import (
    AudienceCounts,
    CampaignInfo,
    CampaignList,
    CampaignProgress,
    QuestionBrief,
)
from outreach.web.api.registry import ApiRoute, Call
from storage.answer_feed import campaign_counts
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import read_session
from storage.outbox import OutboxRepository
from storage.tables import CampaignRecord
from storage.unknown_sends import UnknownSendRepository


def campaign_info(call: Call, record: CampaignRecord) -> CampaignInfo:
    flow = call.services.definitions.flow(record)
    assert record.id is not None
    return CampaignInfo(
        id=record.id,
        slug=record.slug,
        name=record.name,
        status=record.status,
        languages=list(flow.languages),
        channels=list(flow.channels),
        questions=[QuestionBrief(id=question.id, type=question.type) for question in flow.questions],
        created_at=record.created_at,
        starts_at=record.starts_at,
        closes_at=record.closes_at,
        launched_at=record.launched_at,
        closed_at=record.closed_at,
    )


async def list_campaigns(call: Call) -> CampaignList:
    assert call.token is not None
    async with read_session(call.services.sessions) as session:
        records = await CampaignRepository(session).all()
    bound = call.token.campaign_id
    return CampaignList(data=[campaign_info(call, record) for record in records if bound in (None, record.id)])


async def read_campaign(call: Call) -> CampaignInfo:
    return campaign_info(call, call.record)


async def campaign_progress(call: Call) -> CampaignProgress:
    record = call.record
    assert record.id is not None
    async with read_session(call.services.sessions) as session:
        counts = await campaign_counts(session, record.id)
        conversations = await ConversationRepository(session).count_by_status(record.id)
        messages = await OutboxRepository(session).count_by_status(record.id)
        unknown_outcomes = await UnknownSendRepository(session).count_unknown_outcomes(record.id)
    audience = await audience_progress(call.services.sessions, record)
    return CampaignProgress(
        id=record.id,
        slug=record.slug,
        status=record.status,
        contacted=counts.contacted,
        respondents=counts.respondents,
        answers=counts.answers,
        response_rate=counts.respondents / counts.contacted if counts.contacted else 0.0,
        conversations=conversations,
        messages=messages,
        unknown_outcomes=unknown_outcomes,
        audience=AudienceCounts(
            launch=audience.state,
            opened=audience.opened,
            skipped=audience.skipped,
            remaining=audience.remaining,
            held_back=audience.held_back,
        ),
    )


CAMPAIGN_EXAMPLE = {
    "name": "Park Oruński — what next?",
    "languages": ["pl", "en"],
    "channels": ["sms", "email"],
    "audience": {"where": {"district": ["Orunia-Św. Wojciech-Lipce"]}},
    "schedule": {"quiet_hours": "21:00-08:00"},
    "answer_within": "48h",
    "intro": {"pl": "Miasto Gdańsk pyta o Park Oruński. STOP kończy.", "en": "The City of Gdańsk asks. STOP ends."},
    "questions": [
        {
            "id": "visits",
            "type": "choice",
            "text": {"pl": "Jak często bywasz w parku?", "en": "How often do you visit the park?"},
            "options": [
                {"key": "weekly", "text": {"pl": "co tydzień", "en": "every week"}},
                {"key": "never", "text": {"pl": "wcale", "en": "never"}},
            ],
            "next": {"never": "why_not"},
        },
        {"id": "rating", "type": "scale", "min": 1, "max": 5, "text": {"pl": "Oceń park", "en": "Rate the park"}},
        {"id": "why_not", "type": "text", "text": {"pl": "Co by Cię zachęciło?", "en": "What would make you come?"}},
    ],
    "outro": {"pl": "Dziękujemy!", "en": "Thank you!"},
}

CAMPAIGN_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/campaigns",
        list_campaigns,
        "listCampaigns",
        "List campaigns",
        "campaigns",
        scope="campaigns:read",
        response=CampaignList,
        description="A token bound to one campaign sees only that campaign.",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}",
        read_campaign,
        "getCampaign",
        "Read a campaign",
        "campaigns",
        scope="campaigns:read",
        response=CampaignInfo,
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/status",
        campaign_progress,
        "getCampaignStatus",
        "Status and counts of a campaign",
        "campaigns",
        scope="campaigns:read",
        response=CampaignProgress,
    ),
]
