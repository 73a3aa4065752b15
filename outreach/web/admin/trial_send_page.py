"""Test-send from a campaign's preview page (issue 21): its first message (or every one), marked
[TEST], to the official's own address: the account's e-mail, or a phone number or chat id typed for
this one send. The address is used for the send and kept nowhere: not in the audit entry (which
records the channel, language and count), not in the page's address after it, not in a log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from flows.campaign import Campaign
from outreach import audit
from outreach.campaigns.commands import CampaignCommandError
from outreach.campaigns.trial_sends import send_test
from outreach.officials.accounts import acting
from outreach.web.admin.sessions import requires, signed_in
from outreach.web.keys import SERVICES
from storage.campaigns import CampaignRepository
from storage.db import read_session

# Why a test-send did not go, as the page says it (the codes travel in the preview's address).
REFUSALS = ("address_needed", "channel_off", "refused")


def add_test_send(admin: web.Application) -> None:
    admin.router.add_post("/campaigns/{slug}/test-send", trial_send_submit)


def trial_send_context(request: web.Request, flow: Campaign) -> dict[str, Any]:
    """What the preview page's test-send form shows: the channels it can use here, and the outcome
    of the last send (after its redirect)."""
    enabled = request.config_dict[SERVICES].channels
    sent = request.query.get("test_sent", "")
    refused = request.query.get("test_refused")
    return {
        "channels": [channel for channel in flow.channels if channel in enabled],
        "languages": list(flow.languages),
        "sent": int(sent) if sent.isdigit() else None,
        "sent_channel": request.query.get("test_channel", ""),
        "refused": refused if refused in REFUSALS else None,
    }


@requires("edit")
async def trial_send_submit(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    official = signed_in(request)
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference(request.match_info["slug"])
    if record is None or record.id is None:
        raise web.HTTPNotFound(text="No such campaign.")
    flow = services.definitions.flow(record)
    form = await request.post()
    channel = str(form.get("channel", ""))
    language = str(form.get("language", flow.default_language))
    typed = str(form.get("address", "")).strip()
    address = official.email if channel == "email" and not typed else typed
    back = f"/admin/campaigns/{record.slug}/preview"
    if not address:
        raise web.HTTPSeeOther(f"{back}?test_refused=address_needed#test-send")
    if channel not in flow.channels or channel not in services.channels:
        raise web.HTTPSeeOther(f"{back}?test_refused=channel_off#test-send")
    try:
        sent = await send_test(
            services.channels,
            flow,
            channel=channel,
            language=language if language in flow.languages else flow.default_language,
            address=address,
            every=form.get("which") == "all",
        )
    except CampaignCommandError:
        raise web.HTTPSeeOther(f"{back}?test_refused=refused#test-send") from None
    details: dict[str, audit.DetailValue] = {
        "channel": channel,
        "language": language,
        "messages": len(sent),
        "own_email": address == official.email,
    }
    await audit.record_apart(
        services.sessions,
        acting(official),
        audit.CAMPAIGN_TEST_SEND,
        "campaign",
        record.id,
        details,
        at=services.clock(),
    )
    raise web.HTTPSeeOther(f"{back}?test_sent={len(sent)}&test_channel={channel}#test-send")
