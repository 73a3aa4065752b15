"""The campaign writes of /api/v1 (scope campaigns:write): create from a definition (YAML or JSON),
validate or preview one without storing it, preview a stored campaign, launch, pause, resume, close.
Each is the CLI's own command (outreach.campaigns.commands), recorded in the audit log as the token's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flows.campaign import Campaign
from outreach.campaigns.audience_preview import AudiencePreview
from outreach.campaigns.checks import campaign_warnings
from outreach.campaigns.commands import (
    CampaignCommandError,
    close_campaign,
    create_campaign,
    launch_campaign,
    pause_campaign,
    resume_campaign,
)
from outreach.campaigns.fatigue import fatigue_of
from outreach.campaigns.launch_approval import ApprovalRequired
from outreach.campaigns.preview import channel_texts
from outreach.survey.sampling import SampleError
from outreach.web.api.campaign_routes import CAMPAIGN_EXAMPLE, campaign_info
from outreach.web.api.definitions import campaign_definition
from outreach.web.api.errors import ApiError
from outreach.web.api.models import CampaignInfo, LaunchReport
from outreach.web.api.registry import ApiRoute, Call
from outreach.web.api.write_models import (
    CampaignPreview,
    DefinitionCheck,
    PreviewText,
    PreviewTexts,
    SamplePreview,
    SmsEstimate,
    StratumPreview,
)


async def _definition(call: Call) -> Campaign:
    return await campaign_definition(call.request, call.services.settings)


async def create_campaign_endpoint(call: Call) -> CampaignInfo:
    flow = await _definition(call)
    services = call.services
    notice = services.settings.privacy_notice()  # on its first message, as `campaign create` does
    record = await create_campaign(services.sessions, flow, clock=services.clock, actor=call.actor, notice=notice)
    return campaign_info(call, record)


async def validate_definition(call: Call) -> DefinitionCheck:
    flow = await _definition(call)
    return DefinitionCheck(
        valid=True,
        name=flow.name,
        languages=list(flow.languages),
        channels=list(flow.channels),
        questions=len(flow.questions),
        warnings=campaign_warnings(flow),
    )


async def preview_definition(call: Call) -> CampaignPreview:
    # As it would be stored: with the service's privacy line on its first message (and in its SMS cost).
    return await _preview(call, call.services.settings.privacy_notice().on(await _definition(call)), None)


async def preview_campaign(call: Call) -> CampaignPreview:
    return await _preview(call, call.services.definitions.flow(call.record), call.record.id)


async def _preview(call: Call, flow: Campaign, campaign_id: int | None) -> CampaignPreview:
    services = call.services
    try:
        audience = await services.audience_preview(flow, campaign_id)
    except SampleError as error:
        raise ApiError(409, "conflict", f"the sample cannot be drawn: {error}") from None
    texts = [
        PreviewTexts(
            channel=channel,
            language=language,
            messages=[
                PreviewText(
                    label=text.label,
                    text=text.text,
                    segments=text.segments.segments if text.segments else None,
                    encoding=text.segments.encoding if text.segments else None,
                )
                for text in channel_texts(flow, channel, language)
            ],
        )
        for channel in flow.channels
        for language in flow.languages
    ]
    return CampaignPreview(
        campaign_id=campaign_id,
        texts=texts,
        asked=len(audience.asked),
        held_back=audience.held_back,
        sms=_sms(audience, services.settings.sms_price_currency),
        sample=_sample(audience, flow),
    )


def _sms(audience: AudiencePreview, currency: str) -> SmsEstimate | None:
    sms = audience.sms
    if sms is None:
        return None
    return SmsEstimate(
        residents=dict(sorted(sms.residents.items())),
        floor_segments=sms.floor_segments,
        ceiling_segments=sms.ceiling_segments,
        floor_cost=round(sms.floor_cost, 4),
        ceiling_cost=round(sms.ceiling_cost, 4),
        currency=currency,
        unpriced=sorted(sms.unpriced),
    )


def _sample(audience: AudiencePreview, flow: Campaign) -> SamplePreview | None:
    plan, sample = audience.plan, flow.audience.sample
    if plan is None or sample is None:
        return None
    total_weight = sum(plan.weights.values()) or 1.0
    return SamplePreview(
        size=plan.allocation.size,
        allocated=plan.allocation.allocated,
        eligible=sum(quota.available for quota in plan.allocation.strata),
        strata=list(sample.strata),
        seed=audience.seed,
        allocation=[
            StratumPreview(
                stratum=plan.label(quota.stratum),
                share=plan.weights.get(quota.stratum, 0.0) / total_weight,
                eligible=quota.available,
                held_back=plan.held_back.get(quota.stratum, 0),
                wanted=quota.wanted,
                allocated=quota.allocated,
                short=quota.short,
                inclusion_probability=quota.inclusion_probability,
            )
            for quota in plan.allocation.strata
        ],
        unmatched={dimension: dict(values) for dimension, values in plan.unmatched.items()},
    )


@contextmanager
def _refused_as_conflict() -> Iterator[None]:
    """A command the campaign's state refuses (CampaignCommandError) is a 409 with its reason."""
    try:
        yield
    except CampaignCommandError as error:
        raise ApiError(409, "conflict", str(error)) from None


async def launch_campaign_endpoint(call: Call) -> LaunchReport:
    services = call.services
    try:
        with _refused_as_conflict():
            report = await launch_campaign(
                services.sessions,
                str(call.record.id),
                clock=services.clock,
                spread=services.spread,
                pseudonym_secret=services.settings.pseudonym_key(),
                sms_prices=services.settings.sms_prices,
                fatigue=fatigue_of(services.settings),
                actor=call.actor,
                approval_threshold=services.settings.admin_approval_threshold,
            )
    except ApprovalRequired as required:
        # A token cannot ask for nor give the approval: officials do, on the pages or at the CLI.
        request = required.request
        detail = {
            "audience": required.audience,
            "threshold": required.threshold,
            "request_id": request.id if request is not None else None,
            "request_state": request.state if request is not None else None,
            "request_current": required.current,
        }
        raise ApiError(409, "approval_required", str(required), details=[detail]) from None
    return LaunchReport(
        id=report.campaign_id,
        status=report.status,
        conversations_started=report.conversations_started,
        skipped=report.skipped,
        finished=report.finished,
        held_back=report.held_back,
    )


async def pause_campaign_endpoint(call: Call) -> CampaignInfo:
    services = call.services
    with _refused_as_conflict():
        record = await pause_campaign(services.sessions, str(call.record.id), clock=services.clock, actor=call.actor)
    return campaign_info(call, record)


async def resume_campaign_endpoint(call: Call) -> CampaignInfo:
    services = call.services
    with _refused_as_conflict():
        record = await resume_campaign(
            services.sessions, str(call.record.id), clock=services.clock, spread=services.spread, actor=call.actor
        )
    return campaign_info(call, record)


async def close_campaign_endpoint(call: Call) -> CampaignInfo:
    services = call.services
    with _refused_as_conflict():
        record = await close_campaign(
            services.sessions,
            str(call.record.id),
            services.definitions,
            clock=services.clock,
            spread=services.spread,
            actor=call.actor,
        )
    return campaign_info(call, record)


DEFINITION = "The body is a campaign definition: the campaign file's YAML (application/yaml) or the same as JSON."

CAMPAIGN_WRITE_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "POST",
        "/campaigns",
        create_campaign_endpoint,
        "createCampaign",
        "Create a campaign (draft)",
        "campaigns",
        scope="campaigns:write",
        definition_body=True,
        body_example=CAMPAIGN_EXAMPLE,
        response=CampaignInfo,
        status=201,
        unbound_only=True,
        description=DEFINITION + " Checked as `outreach campaign create` checks a file; each problem is a detail"
        " with its `path`, `line` and `column` in the body.",
    ),
    ApiRoute(
        "POST",
        "/campaigns/validate",
        validate_definition,
        "validateCampaign",
        "Validate a campaign definition",
        "campaigns",
        scope="campaigns:write",
        definition_body=True,
        body_example=CAMPAIGN_EXAMPLE,
        response=DefinitionCheck,
        unbound_only=True,
        description=DEFINITION + " Nothing is stored: 200 with the warnings `outreach campaign validate` gives,"
        " or 422 with each problem located.",
    ),
    ApiRoute(
        "POST",
        "/campaigns/preview",
        preview_definition,
        "previewCampaignDefinition",
        "Preview a campaign definition",
        "campaigns",
        scope="campaigns:write",
        definition_body=True,
        body_example=CAMPAIGN_EXAMPLE,
        response=CampaignPreview,
        unbound_only=True,
        conflict="its sample cannot be drawn from today's register",
        description=DEFINITION + " Nothing is stored: every text per channel and language, SMS segments and cost"
        " for the residents a launch now would ask, and a sampled campaign's allocation (`outreach campaign"
        " preview FILE`).",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/preview",
        preview_campaign,
        "previewCampaign",
        "Preview a stored campaign",
        "campaigns",
        scope="campaigns:read",
        response=CampaignPreview,
        conflict="its sample cannot be drawn from today's register",
        description="As the definition's preview, for a stored campaign (its sample's seed from its id).",
    ),
    ApiRoute(
        "POST",
        "/campaigns/{campaign_id}/launch",
        launch_campaign_endpoint,
        "launchCampaign",
        "Launch a campaign",
        "campaigns",
        scope="campaigns:write",
        response=LaunchReport,
        conflict="the campaign is closed, paused, its close time has passed, its sample cannot be drawn, its"
        " SMS floor is over its budget, or it would ask more residents than OUTREACH_ADMIN_APPROVAL_THRESHOLD and"
        " this version has no approval (code `approval_required`, with the latest launch request's id)",
        description="Starts conversations with its audience now, or schedules them for `schedule.start`,"
        " holding back residents other campaigns asked OUTREACH_MAX_ASKS times in OUTREACH_ASK_WINDOW_DAYS days."
        " Running it again asks only residents not asked yet, and goes on with a launch cut short (which the"
        " service also finishes by itself). A resident whose data the database refuses is skipped and counted."
        " A launch to more than OUTREACH_ADMIN_APPROVAL_THRESHOLD residents needs an approval of the campaign's"
        " current version by an approver other than who asked for it, given on the pages or at the CLI; a token"
        " can neither ask for nor give one.",
    ),
    ApiRoute(
        "POST",
        "/campaigns/{campaign_id}/pause",
        pause_campaign_endpoint,
        "pauseCampaign",
        "Pause a campaign",
        "campaigns",
        scope="campaigns:write",
        response=CampaignInfo,
        conflict="only an active campaign pauses",
        description="Nothing is sent until resumed (queued messages are held); replies are still recorded.",
    ),
    ApiRoute(
        "POST",
        "/campaigns/{campaign_id}/resume",
        resume_campaign_endpoint,
        "resumeCampaign",
        "Resume a paused campaign",
        "campaigns",
        scope="campaigns:write",
        response=CampaignInfo,
        conflict="only a paused campaign resumes",
        description="What waited goes out again, still never in a resident's quiet hours; reminders and expiry"
        " move by the time paused.",
    ),
    ApiRoute(
        "POST",
        "/campaigns/{campaign_id}/close",
        close_campaign_endpoint,
        "closeCampaign",
        "Close a campaign",
        "campaigns",
        scope="campaigns:write",
        response=CampaignInfo,
        conflict="the campaign is closed already",
        description="Nothing more is sent, later answers are not counted; addresses it held go on to campaigns"
        " waiting for them.",
    ),
]
