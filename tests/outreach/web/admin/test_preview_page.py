"""A campaign's preview page (issue 21): per channel and language each message as a phone shows it,
SMS segments and encoding, Telegram's buttons, the e-mail's subject, and the same SMS cost the
`outreach campaign preview` command prints."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from tests.factories import add_resident
from tests.outreach.cli.conftest import cli as cli  # the fixture
from tests.outreach.cli.invoking import invoke
from tests.outreach.web.admin.test_pages import Client, logged_in, official
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture

# Polish with diacritics (UCS-2) beside English in plain ASCII (GSM-7).
PREVIEWED = """
name: Zieleń na Oruni
languages: [pl, en]
channels: [sms, telegram, email]
questions:
  - id: trees
    type: choice
    text: {pl: "Gdzie posadzić drzewa? Wybierz jedną odpowiedź.", en: "Where should we plant trees?"}
    options:
      - {key: park, text: {pl: w parku, en: in the park}}
      - {key: street, text: {pl: przy ulicy, en: along the street}}
  - {id: again, type: yesno, text: {pl: "Czy pomożesz sadzić?", en: "Will you help plant?"}}
"""
SLUG = "zielen-na-oruni"


def section(page: str, anchor: str) -> str:
    """The part of the page under the heading `anchor` (a channel in a language)."""
    match = re.search(rf'<section aria-labelledby="{anchor}".*?</section>', page, re.S)
    assert match, anchor
    return match.group(0)


async def previewed_campaign(services: Services) -> None:
    await create_campaign(services.sessions, load_campaign(PREVIEWED), clock=services.clock)
    await add_resident(services, phone="+48601000001")
    await add_resident(services, phone="+48601000002", telegram="5550001")
    await add_resident(services, phone="+48601000003", language="en")
    await add_resident(services, phone="+15550000004", language="en")  # no price for +1: a warning


async def test_the_preview_shows_each_message_as_a_phone_shows_it(services: Services, pages: Client) -> None:
    await previewed_campaign(services)
    await official(services, role="viewer")
    assert (await logged_in(pages)).status == 303
    campaign = await (await pages.get(f"/admin/campaigns/{SLUG}")).text()
    assert f'href="/admin/campaigns/{SLUG}/preview"' in campaign

    response = await pages.get(f"/admin/campaigns/{SLUG}/preview?lang=en")
    page = await response.text()
    assert response.status == 200

    polish_sms, english_sms = section(page, "sms-pl"), section(page, "sms-en")
    assert "Gdzie posadzić drzewa?" in polish_sms and "SMS segments: 1, encoding UCS-2" in polish_sms
    assert "encoding GSM-7" not in polish_sms
    assert "Where should we plant trees?" in english_sms and "SMS segments: 1, encoding GSM-7" in english_sms
    assert "encoding UCS-2" not in english_sms
    assert '<p class="bubble" lang="pl">' in polish_sms  # read out in the message's own language

    telegram = section(page, "telegram-pl")
    assert re.findall(r'<li class="key">([^<]*)</li>', telegram)[:2] == ["w parku", "przy ulicy"]
    assert "1) w parku" not in telegram  # buttons instead of numbered lines

    email = section(page, "email-en")
    assert '<p class="mail-subject"><span class="hint">Subject</span> Where should we plant trees?</p>' in email
    assert "1) in the park" in email  # a mail lists its options

    assert "No price for numbers starting +155" in page


async def test_the_preview_cost_is_the_one_the_cli_prints(services: Services, pages: Client, cli: CliRunner) -> None:
    await previewed_campaign(services)
    printed = await invoke(cli, ["campaign", "preview", SLUG])
    assert printed.exit_code == 0, printed.output
    cli_cost = re.search(
        r"from (\d+) segments ≈ ([\d.]+) USD .* to (\d+) segments ≈ ([\d.]+) USD", printed.stdout, re.S
    )
    assert cli_cost, printed.stdout
    await official(services, role="viewer")
    await logged_in(pages)
    page = await (await pages.get(f"/admin/campaigns/{SLUG}/preview?lang=en")).text()

    def cell(name: str) -> str:
        match = re.search(rf'id="cost-{name}">([^<]*)<', page)
        assert match, name
        return match.group(1)

    floor, cli_floor = cell("floor"), f"{cli_cost.group(1)} segments ≈ {cli_cost.group(2)} USD"
    assert floor == cli_floor and cell("ceiling") == f"{cli_cost.group(3)} segments ≈ {cli_cost.group(4)} USD"
    assert cell("residents") == "4" and int(cli_cost.group(1)) > 0


async def test_a_stranger_is_sent_to_log_in_and_an_unknown_campaign_is_404(services: Services, pages: Client) -> None:
    await previewed_campaign(services)
    stranger = await pages.get(f"/admin/campaigns/{SLUG}/preview", allow_redirects=False)
    assert (stranger.status, stranger.headers["Location"]) == (
        303,
        f"/admin/login?next=/admin/campaigns/{SLUG}/preview",
    )
    await official(services, role="viewer")
    await logged_in(pages)
    assert (await pages.get("/admin/campaigns/no-such-campaign/preview")).status == 404
