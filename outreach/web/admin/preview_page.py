"""A campaign's preview page: per channel and language each message as a phone shows it (an SMS bubble
with its segments and encoding, a Telegram message with its buttons, the e-mail), and what the SMS part
would cost the audience a launch would ask now, with the campaign's warnings. The texts and figures are
those `outreach campaign preview` prints (outreach.campaigns.preview, outreach.campaigns.audience_preview)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from channels import telegram_keyboards
from outreach.campaigns.audience_preview import AudiencePreview
from outreach.campaigns.checks import campaign_explained_warnings
from outreach.campaigns.preview import ChannelText, channel_texts
from outreach.survey.sampling import SampleError
from outreach.web.admin.rendering import render
from outreach.web.admin.sessions import requires
from outreach.web.admin.trial_send_page import trial_send_context
from outreach.web.keys import SERVICES
from storage.campaigns import CampaignRepository
from storage.db import read_session


@dataclass(frozen=True)
class PreviewSection:
    """One channel in one language: a heading of the page."""

    channel: str
    language: str
    messages: list[ChannelText]

    @property
    def anchor(self) -> str:
        return f"{self.channel}-{self.language}"


@requires("view")
async def campaign_preview(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference(request.match_info["slug"])
    if record is None:
        raise web.HTTPNotFound(text="No such campaign.")
    flow = services.definitions.flow(record)
    sections = [
        PreviewSection(channel, language, channel_texts(flow, channel, language, telegram_keyboards.layout))
        for channel in flow.channels
        for language in flow.languages
    ]
    settings = services.settings
    audience: AudiencePreview | None = None
    sample_error: SampleError | None = None
    try:
        audience = await services.audience_preview(flow, record.id)
    except SampleError as error:  # the sample cannot be drawn: said on the page, as a launch would refuse
        sample_error = error
    context = {
        "record": record,
        "sections": sections,
        "audience": audience,
        "currency": settings.sms_price_currency,
        "sampled": flow.audience.sample is not None,
        "sample_error": sample_error,
        "warnings": campaign_explained_warnings(flow),
        "test_send": trial_send_context(request, flow),
    }
    return render("preview.html", request, context)
