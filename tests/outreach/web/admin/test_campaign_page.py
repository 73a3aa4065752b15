"""A campaign's page (issue 21): its state, messages per channel, and per question a chart drawn as SVG
with a table of the same figures beside it; its live part alone for the page's script to swap in."""

from __future__ import annotations

import re

from sqlalchemy import select

from outreach.bootstrap import Services
from outreach.web.admin.charts import LABEL_WIDTH
from storage.tables import AuditEntry, CampaignRecord
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.web.admin.test_pages import CSRF, EMAIL, Client, logged_in, official
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture

PHONES = ["+48601000001", "+48601000002", "+48601000003"]


def row(page: str, header: str) -> list[str]:
    """The cells of the table row whose header cell is `header`."""
    match = re.search(rf'<th scope="row">{re.escape(header)}</th>(.*?)</tr>', page, re.S)
    assert match, header
    return re.findall(r"<td[^>]*>([^<]*)</td>", match.group(1))


async def test_the_campaign_page_shows_progress_and_answers(services: Services, pages: Client) -> None:
    for phone in PHONES:
        await add_resident(services, phone=phone)
    await launch(services)
    await reply(services, PHONES[0], "tak")
    await reply(services, PHONES[0], "codziennie")
    await reply(services, PHONES[1], "nie")
    await official(services, role="viewer")
    assert (await logged_in(pages)).status == 303

    listing = await (await pages.get("/admin/")).text()
    assert 'href="/admin/campaigns/tramwaj-na-morene"' in listing

    response = await pages.get("/admin/campaigns/tramwaj-na-morene")
    page = await response.text()
    assert response.status == 200 and "<h1>Tramwaj na Morenę</h1>" in page
    assert "Zapytani: 3, odpowiedzieli: 2 (67%)." in page
    queued, sent, delivered, failed, unknown, answered = map(int, row(page, "sms"))
    assert delivered == 0  # the sandbox reports no delivery until the dispatcher sends
    # 3 first questions; the second question after "tak"; the thank-you after "codziennie" and after "nie".
    assert (queued + sent, failed, unknown, answered) == (6, 0, 0, 2)

    # Yes/no: one each; the chart's bars are as wide as their shares, and the table says the same.
    assert row(page, "tak") == ["1", "50%"] and row(page, "nie") == ["1", "50%"]
    assert row(page, "codziennie") == ["1", "100%"] and row(page, "co tydzień") == ["0", "0%"]
    widths = [int(width) for width in re.findall(rf'<rect x="{LABEL_WIDTH}" y="\d+" width="(\d+)"', page)]
    assert widths == [150, 150, 300, 0]
    assert page.count('<svg role="img" aria-labelledby="q-') == 2 and 'src="/admin/static/live.js' in page


async def test_the_live_part_is_the_page_without_its_frame_and_follows_new_answers(
    services: Services, pages: Client
) -> None:
    await add_resident(services, phone=PHONES[0])
    await launch(services)
    await official(services, role="viewer")
    await logged_in(pages)
    before = await (await pages.get("/admin/campaigns/tramwaj-na-morene/live")).text()
    assert "<html" not in before and "Zapytani: 1, odpowiedzieli: 0 (0%)." in before
    await reply(services, PHONES[0], "tak")
    after = await (await pages.get("/admin/campaigns/tramwaj-na-morene/live?lang=en")).text()
    assert "Asked: 1, answered: 1 (100%)." in after and row(after, "yes") == ["1", "100%"]


async def test_an_unknown_campaign_is_404_and_a_stranger_is_sent_to_log_in(services: Services, pages: Client) -> None:
    stranger = await pages.get("/admin/campaigns/tramwaj-na-morene", allow_redirects=False)
    assert stranger.status == 303
    assert stranger.headers["Location"] == "/admin/login?next=/admin/campaigns/tramwaj-na-morene"
    await official(services, role="viewer")
    await logged_in(pages)
    assert (await pages.get("/admin/campaigns/no-such-campaign")).status == 404


async def test_an_editor_pauses_resumes_and_closes_after_confirming_each(services: Services, pages: Client) -> None:
    await add_resident(services, phone=PHONES[0])
    campaign_id = await launch(services)
    await official(services, role="editor")
    await logged_in(pages)
    page = await (await pages.get("/admin/campaigns/tramwaj-na-morene")).text()
    assert re.findall(r'class="button[^"]*" href="/admin/campaigns/tramwaj-na-morene/(\w+)"', page) == [
        "pause",
        "close",
    ]

    for action, status, offered in (("pause", "paused", ["resume", "close"]), ("resume", "active", ["pause", "close"])):
        confirm = await (await pages.get(f"/admin/campaigns/tramwaj-na-morene/{action}")).text()
        assert "<h1>" in confirm and "/admin/campaigns/tramwaj-na-morene" in confirm  # a cancel link back
        done = await pages.post(
            f"/admin/campaigns/tramwaj-na-morene/{action}",
            data={"csrf": CSRF.search(confirm).group(1)},  # type: ignore[union-attr]
            allow_redirects=False,
        )
        assert done.headers["Location"] == f"/admin/campaigns/tramwaj-na-morene?done={action}"
        after = await (await pages.get(done.headers["Location"])).text()
        assert 'role="status"' in after
        assert re.findall(r'class="button[^"]*" href="/admin/campaigns/tramwaj-na-morene/(\w+)"', after) == offered
        async with services.sessions() as session:
            assert (await session.get(CampaignRecord, campaign_id)).status == status  # type: ignore[union-attr]

    again = await pages.post(
        "/admin/campaigns/tramwaj-na-morene/resume?lang=en",
        data={"csrf": CSRF.search(after).group(1)},  # type: ignore[union-attr]
    )
    assert again.status == 409 and "only a paused one can resume" in await again.text()
    async with services.sessions() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.actor_kind, e.actor_label, e.action) for e in entries if e.action.startswith("campaign.")] == [
        ("official", EMAIL, "campaign.pause"),
        ("official", EMAIL, "campaign.resume"),
    ]


async def test_a_viewer_cannot_pause_and_a_forged_post_changes_nothing(services: Services, pages: Client) -> None:
    await add_resident(services, phone=PHONES[0])
    await launch(services)
    await official(services, role="viewer")
    await logged_in(pages)
    page = await (await pages.get("/admin/campaigns/tramwaj-na-morene")).text()
    assert "/pause" not in page
    assert (await pages.get("/admin/campaigns/tramwaj-na-morene/pause")).status == 403
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    assert (await pages.post("/admin/campaigns/tramwaj-na-morene/pause", data={"csrf": csrf})).status == 403
    assert (await pages.post("/admin/campaigns/tramwaj-na-morene/close", data={})).status == 403
    async with services.sessions() as session:
        assert [record.status for record in (await session.execute(select(CampaignRecord))).scalars()] == ["active"]


async def test_an_editor_downloads_answers_a_viewer_does_not(services: Services, pages: Client) -> None:
    await add_resident(services, phone=PHONES[0], district="Oliwa")
    await launch(services)
    await reply(services, PHONES[0], "tak")
    await official(services, role="viewer", email="viewer@gdansk.gda.pl")
    await logged_in(pages, email="viewer@gdansk.gda.pl")
    assert "export.csv" not in await (await pages.get("/admin/campaigns/tramwaj-na-morene")).text()
    assert (await pages.get("/admin/campaigns/tramwaj-na-morene/export.csv")).status == 403

    await official(services, role="editor")
    await logged_in(pages)
    csv_file = await pages.get("/admin/campaigns/tramwaj-na-morene/export.csv")
    text = await csv_file.text()
    assert csv_file.headers["Content-Disposition"] == 'attachment; filename="tramwaj-na-morene.csv"'
    assert "uses_tram" in text and "yes" in text and "Oliwa" in text and PHONES[0] not in text
    lines = await (await pages.get("/admin/campaigns/tramwaj-na-morene/export.jsonl")).text()
    assert len(lines.splitlines()) == 1 and PHONES[0] not in lines
    package = await pages.get("/admin/campaigns/tramwaj-na-morene/flow-results.zip")
    assert package.content_type == "application/zip" and (await package.read())[:2] == b"PK"
    async with services.sessions() as session:
        exports = (await session.execute(select(AuditEntry).where(AuditEntry.action == "export"))).scalars().all()  # type: ignore[arg-type]
    assert [(entry.actor_label, entry.details["format"]) for entry in exports] == [
        (EMAIL, "csv"),
        (EMAIL, "jsonl"),
        (EMAIL, "flow-results"),
    ]


async def test_the_page_says_who_answered_with_small_groups_withheld(services: Services, pages: Client) -> None:
    phones = [f"+4860100{number:04d}" for number in range(8)]
    for number, phone in enumerate(phones):
        await add_resident(services, phone=phone, district="Oliwa" if number < 6 else "Orunia")
    await launch(services)
    for phone in phones[:7]:  # six in Oliwa, one in Orunia
        await reply(services, phone, "nie")
    await official(services, role="viewer")
    await logged_in(pages)
    page = await (await pages.get("/admin/campaigns/tramwaj-na-morene")).text()
    assert "Kto odpowiedział" in page
    # respondents, first-timers, the top 10%'s share (one resident: under k, withheld), Gini
    assert row(page, "Wszyscy") == ["7", "100%", "–", "0.00"]
    assert row(page, "kanał: sms") == ["7", "100%", "–", "0.00"]
    # Orunia has one respondent: withheld; and so is Oliwa, since all minus Oliwa would tell Orunia.
    assert row(page, "dzielnica: Orunia") == ["–", "–", "–", "–"]
    assert row(page, "dzielnica: Oliwa") == ["–", "–", "–", "–"]
