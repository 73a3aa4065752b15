"""Test-send from the preview page (issue 21): the first message (or every one) reaches the sandbox at
the official's own address, marked [TEST]; the send is audited without the address, and nothing is
queued or counted for the campaign."""

from __future__ import annotations

from channels.sandbox import SandboxChannel
from outreach.bootstrap import Services
from storage.answer_feed import campaign_counts
from storage.audit import AuditFilter, AuditRepository
from storage.campaigns import CampaignRepository
from storage.db import read_session
from tests.outreach.web.admin.test_pages import CSRF, EMAIL, Client, logged_in, official
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture
from tests.outreach.web.admin.test_preview_page import SLUG, previewed_campaign

PREVIEW = f"/admin/campaigns/{SLUG}/preview"
SEND = f"/admin/campaigns/{SLUG}/test-send"
OWN_PHONE = "+48600999888"


def sandbox(services: Services, channel: str) -> SandboxChannel:
    found = services.channels[channel]
    assert isinstance(found, SandboxChannel)
    return found


async def csrf_of_preview(services: Services, pages: Client, role: str = "editor") -> str:
    await previewed_campaign(services)
    await official(services, role=role)
    assert (await logged_in(pages)).status == 303
    match = CSRF.search(await (await pages.get(PREVIEW)).text())
    assert match
    return match.group(1)


async def test_the_first_message_reaches_the_officials_own_mailbox_and_nothing_is_counted(
    services: Services, pages: Client
) -> None:
    csrf = await csrf_of_preview(services, pages)
    form = {"csrf": csrf, "channel": "email", "language": "en", "address": "", "which": "first"}
    response = await pages.post(SEND, data=form, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"{PREVIEW}?test_sent=1&test_channel=email#test-send"
    [mail] = sandbox(services, "email").inbox[EMAIL]
    assert mail.startswith("[TEST] trees (first message, with the intro)") and "Where should we plant trees?" in mail

    page = await (await pages.get(f"{PREVIEW}?test_sent=1&test_channel=email&lang=en")).text()
    assert "Sent: 1 message(s) by email." in page
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference(SLUG)
        assert record is not None and record.id is not None
        counts = await campaign_counts(session, record.id)
        [entry] = await AuditRepository(session).page(AuditFilter(action="campaign.test_send"), before_id=None, limit=5)
    assert (counts.contacted, counts.respondents) == (0, 0)
    assert entry.details == {"channel": "email", "language": "en", "messages": 1, "own_email": True}


async def test_a_typed_phone_gets_every_message_and_is_kept_nowhere(services: Services, pages: Client) -> None:
    csrf = await csrf_of_preview(services, pages)
    form = {"csrf": csrf, "channel": "sms", "language": "pl", "address": OWN_PHONE, "which": "all"}
    response = await pages.post(SEND, data=form, allow_redirects=False)
    sent = sandbox(services, "sms").inbox[OWN_PHONE]
    assert len(sent) > 1 and all(text.startswith("[TEST] ") for text in sent)
    assert OWN_PHONE not in response.headers["Location"]
    async with read_session(services.sessions) as session:
        entries = await AuditRepository(session).page(AuditFilter(), before_id=None, limit=50)
    assert all(OWN_PHONE not in str(entry.details) for entry in entries)


async def test_an_sms_without_an_address_is_refused_at_the_field(services: Services, pages: Client) -> None:
    csrf = await csrf_of_preview(services, pages)
    form = {"csrf": csrf, "channel": "sms", "language": "pl", "address": " "}
    response = await pages.post(SEND, data=form)
    page = await response.text()
    assert 'aria-describedby="test-address-hint test-send-error" aria-invalid="true"' in page
    assert sandbox(services, "sms").inbox == {}


async def test_a_test_send_needs_the_edit_role_and_the_forms_token(services: Services, pages: Client) -> None:
    csrf = await csrf_of_preview(services, pages, role="viewer")
    assert 'action="/admin/campaigns/' + SLUG + '/test-send"' not in await (await pages.get(PREVIEW)).text()
    form = {"csrf": csrf, "channel": "email", "language": "pl"}
    assert (await pages.post(SEND, data=form, allow_redirects=False)).status == 403
    assert (await pages.post(SEND, data={"channel": "email"}, allow_redirects=False)).status == 403
    assert sandbox(services, "email").inbox == {}
