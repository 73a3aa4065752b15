"""The consent ledger: every change of an address's consent writes exactly one row, in the change's
own transaction, and nothing else writes one; the rows cannot be changed afterwards."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from channels.base import Inbound
from flows.age_bands import DEFAULT_AGE_BANDS
from outreach.bootstrap import Services
from outreach.campaigns.resident_rows import parse_row
from outreach.campaigns.residents_import import import_residents, store_rows
from storage.consent_ledger import Because, ConsentLedger, Source
from storage.residents import OnMatch, ResidentRepository
from storage.tables import ConsentRecord, ContactAddress
from tests.factories import add_resident

PHONE = "+48600100200"
EMAIL = "ala@example.org"
CSV = "phone,email,consent_source,consent_at\n+48 600 100 200,ala@example.org,city register,2026-03-01T12:00:00+01:00\n"
LATER_CSV = CSV.replace("city register", "phone call").replace("2026-03-01", "2026-04-01")

_ids = itertools.count(1)
Row = tuple[str, str, str | None, str | None]  # change, source, detail, channel


async def ledger(services: Services) -> list[Row]:
    async with services.sessions() as session:
        records = (await session.execute(select(ConsentRecord).order_by(col(ConsentRecord.id)))).scalars()
        return [(r.change, r.source, r.detail, r.channel) for r in records]


async def said(services: Services, text: str, **fields: object) -> None:
    defaults: dict[str, object] = {
        "channel": "sms",
        "provider_id": f"L{next(_ids)}",
        "address": PHONE,
        "text": text,
        "received_at": services.clock(),
    }
    await services.pipeline.handle(Inbound(**{**defaults, **fields}))  # type: ignore[arg-type]


async def imported(services: Services, tmp_path: Path, text: str = CSV, on_match: OnMatch = OnMatch.SKIP) -> None:
    path = tmp_path / f"residents-{next(_ids)}.csv"
    path.write_text(text, encoding="utf-8")
    await import_residents(
        services.sessions,
        path,
        region="PL",
        clock=services.clock,
        age_bands=DEFAULT_AGE_BANDS,
        on_match=on_match,
        label="register.csv",
    )


async def stop_by_provider_refusal(services: Services) -> None:
    """What the dispatcher does when a provider refuses a send because the address opted out there."""
    async with services.sessions() as session, session.begin():
        contact = await ResidentRepository(session).contact_by_address("sms", PHONE)
        assert contact is not None and contact.id is not None
        because = Because(Source.PROVIDER, detail="refused: the address opted out", channel="sms")
        await ResidentRepository(session).opt_out_contact(contact.id, now=services.clock(), because=because)


Step = Callable[[Services, Path], Awaitable[None]]
IMPORT_PHONE = ("opt_in", "import", "register.csv", None)
IMPORT_EMAIL = IMPORT_PHONE
STOP_SMS = ("opt_out", "keyword", "stop", "sms")


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # An import states the consent of each address it stores: one row per address.
        ([lambda s, p: imported(s, p)], [IMPORT_PHONE, IMPORT_EMAIL]),
        # The same row again changes nothing (skip), nor does an update that states the same consent.
        ([lambda s, p: imported(s, p), lambda s, p: imported(s, p, on_match=OnMatch.UPDATE)], [IMPORT_PHONE] * 2),
        # An update with a new statement of consent: a row per address whose consent it changed.
        (
            [lambda s, p: imported(s, p), lambda s, p: imported(s, p, LATER_CSV, OnMatch.UPDATE)],
            [IMPORT_PHONE] * 4,
        ),
        # STOP silences every address of the resident: a row per address, once.
        ([lambda s, p: imported(s, p), lambda s, _: said(s, "STOP")], [IMPORT_PHONE] * 2 + [STOP_SMS] * 2),
        (
            [lambda s, p: imported(s, p), lambda s, _: said(s, "Stop."), lambda s, _: said(s, "STOP")],
            [IMPORT_PHONE] * 2 + [STOP_SMS] * 2,
        ),
        # START resumes the address it came from; a START with nothing to resume writes nothing.
        (
            [lambda s, p: imported(s, p), lambda s, _: said(s, "rezygnacja"), lambda s, _: said(s, "start")],
            [IMPORT_PHONE] * 2
            + [("opt_out", "keyword", "rezygnacja", "sms")] * 2
            + [("opt_in", "keyword", "start", "sms")],
        ),
        ([lambda s, p: imported(s, p), lambda s, _: said(s, "START")], [IMPORT_PHONE] * 2),
        # The provider's own STOP handling (Twilio Advanced Opt-Out), and its refusal of a send.
        (
            [lambda s, p: imported(s, p), lambda s, _: said(s, "STOP", opted_out_by_provider=True)],
            [IMPORT_PHONE] * 2 + [("opt_out", "provider", "the provider's STOP handling", "sms")] * 2,
        ),
        (
            [lambda s, p: imported(s, p), lambda s, _: stop_by_provider_refusal(s)],
            [IMPORT_PHONE] * 2 + [("opt_out", "provider", "refused: the address opted out", "sms")],
        ),
        # An email's one-click unsubscribe link (its token is never recorded), and a mailed STOP.
        (
            [
                lambda s, p: imported(s, p),
                lambda s, _: said(
                    s, "STOP", channel="email", address=EMAIL, provider_id="unsubscribe:t0k3n", command="stop"
                ),
            ],
            [IMPORT_PHONE] * 2 + [("opt_out", "unsubscribe_link", None, "email")] * 2,
        ),
        # Nothing but consent writes a row: HELP, a language, an answer.
        (
            [
                lambda s, p: imported(s, p),
                lambda s, _: said(s, "HELP"),
                lambda s, _: said(s, "LANG EN"),
                lambda s, _: said(s, "tak"),
            ],
            [IMPORT_PHONE] * 2,
        ),
    ],
)
async def test_each_change_of_consent_writes_exactly_one_row_per_address(
    services: Services, tmp_path: Path, steps: list[Step], expected: list[Row]
) -> None:
    for step in steps:
        await step(services, tmp_path)
    assert await ledger(services) == expected


async def test_a_telegram_command_is_recorded_as_a_command(services: Services) -> None:
    await add_resident(services, telegram="5551234")
    await said(services, "/stop", channel="telegram", address="5551234", command="stop")
    await said(services, "/start", channel="telegram", address="5551234", command="start")
    assert (await ledger(services))[1:] == [
        ("opt_out", "command", "/stop", "telegram"),
        ("opt_in", "command", "/start", "telegram"),
    ]


async def test_an_import_row_keeps_its_statement_and_the_api_says_it_came_from_the_api(services: Services) -> None:
    rows = [
        parse_row(
            0,
            {"email": EMAIL, "consent_source": "web form", "consent_at": "2026-05-01T08:00:00Z"},
            region="PL",
            age_bands=DEFAULT_AGE_BANDS,
        )
    ]
    await store_rows(services.sessions, rows, clock=services.clock, label="crm sync", source=Source.API)
    async with services.sessions() as session:
        [record] = (await session.execute(select(ConsentRecord))).scalars()
        contact = (await session.execute(select(ContactAddress))).scalar_one()
        history = await ConsentLedger(session).history(contact.resident_id)
    assert (record.source, record.detail, record.notice, record.contact_id) == (
        "api",
        "crm sync",
        "web form",
        contact.id,
    )
    assert record.stated_at is not None and record.stated_at.isoformat() == "2026-05-01T08:00:00+00:00"
    assert history == [(record, "email")]


async def test_the_ledger_refuses_updates_but_lets_an_erased_address_go(services: Services, tmp_path: Path) -> None:
    await imported(services, tmp_path)
    with pytest.raises(DBAPIError, match="append-only"):
        async with services.sessions() as session, session.begin():
            await session.execute(update(ConsentRecord).values(change="opt_out"))
    with pytest.raises(DBAPIError, match="append-only"):  # detaching may change nothing else
        async with services.sessions() as session, session.begin():
            await session.execute(update(ConsentRecord).values(contact_id=None, source="api"))
    async with services.sessions() as session, session.begin():  # erasure: detach, then the address goes
        await session.execute(update(ConsentRecord).values(contact_id=None))
        await session.execute(delete(ContactAddress))
    assert await ledger(services) == [IMPORT_PHONE] * 2
