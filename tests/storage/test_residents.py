"""Recording a resident from a row of addresses: what each on_match choice does to a resident who
already owns one of them, and the attributes written only once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, text
from sqlmodel import col

from outreach.bootstrap import Services
from storage.consent_ledger import Because, Source
from storage.db import is_sqlite
from storage.residents import AddressConflict, AddressInput, OnMatch, ResidentRepository, Upserted
from storage.tables import ContactAddress, Resident

FIRST = datetime(2026, 1, 10, tzinfo=UTC)
LATER = datetime(2026, 2, 1, tzinfo=UTC)
PHONE = AddressInput("sms", "+48600100200", "register", FIRST)
EMAIL = AddressInput("email", "new@example.org", "web-form", LATER)
PHONE_AGAIN = AddressInput("sms", "+48600100200", "phone-call", LATER)
ONCE = {"recruitment_source": "second file"}
IMPORTED = Because(Source.IMPORT, detail="residents.csv")


async def upsert(services: Services, *addresses: AddressInput, on_match: OnMatch, **attributes: str) -> Upserted:
    async with services.sessions() as session, session.begin():
        _, done = await ResidentRepository(session).upsert(
            addresses=addresses,
            language="en",
            attributes=attributes,
            now=LATER,
            because=IMPORTED,
            on_match=on_match,
            set_once=ONCE,
        )
    return done


async def stored(services: Services) -> tuple[list[tuple[str, str | None]], str, dict[str, str]]:
    """The first resident's addresses (channel, consent source), language and attributes."""
    async with services.sessions() as session:
        contacts = (await session.execute(select(ContactAddress).order_by(col(ContactAddress.id)))).scalars()
        resident = (await session.execute(select(Resident).order_by(col(Resident.id)))).scalars().first()
        assert resident is not None
        return [(c.channel, c.consent_source) for c in contacts], resident.language, resident.attributes


@pytest.mark.parametrize(
    ("on_match", "done", "addresses", "language", "attributes"),
    [
        (OnMatch.SKIP, Upserted.UNCHANGED, [("sms", "register")], "pl", {"district": "Orunia"}),
        (OnMatch.UPDATE, Upserted.UPDATED, [("sms", "phone-call")], "en", {"district": "Oliwa"}),
        (OnMatch.MERGE, Upserted.UPDATED, [("sms", "phone-call"), ("email", "web-form")], "en", {"district": "Oliwa"}),
    ],
)
async def test_a_known_phone_with_a_new_email(
    services: Services,
    on_match: OnMatch,
    done: Upserted,
    addresses: list[tuple[str, str]],
    language: str,
    attributes: dict[str, str],
) -> None:
    async with services.sessions() as session, session.begin():
        await ResidentRepository(session).upsert(
            addresses=[PHONE],
            language="pl",
            attributes={"district": "Orunia"},
            now=FIRST,
            because=IMPORTED,
            set_once={},
        )
    assert await upsert(services, PHONE_AGAIN, EMAIL, on_match=on_match, district="Oliwa") is done
    # set_once: the resident had no recruitment source, so an update writes it; skip writes nothing.
    once = {} if on_match is OnMatch.SKIP else ONCE
    assert await stored(services) == (addresses, language, {**attributes, **once})


async def test_set_once_attributes_are_never_overwritten_and_a_same_row_changes_nothing(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        await ResidentRepository(session).upsert(
            addresses=[PHONE],
            language="en",
            attributes={},
            now=FIRST,
            because=IMPORTED,
            set_once={"recruitment_source": "first file"},
        )
    assert await upsert(services, PHONE, on_match=OnMatch.UPDATE) is Upserted.UNCHANGED
    assert await upsert(services, PHONE_AGAIN, on_match=OnMatch.UPDATE) is Upserted.UPDATED
    assert (await stored(services))[2] == {"recruitment_source": "first file"}


async def test_addresses_of_two_residents_conflict_unless_skipped(services: Services) -> None:
    await upsert(services, PHONE, on_match=OnMatch.SKIP)
    await upsert(services, EMAIL, on_match=OnMatch.SKIP)
    assert await upsert(services, PHONE, EMAIL, on_match=OnMatch.SKIP) is Upserted.UNCHANGED
    for on_match in (OnMatch.UPDATE, OnMatch.MERGE):
        with pytest.raises(AddressConflict):
            await upsert(services, PHONE, EMAIL, on_match=on_match)


async def test_an_audience_page_reads_addresses_by_resident_whatever_the_statistics_say(services: Services) -> None:
    """Defect: SQLite without statistics, or with sampled ones, walked the (channel, address_index)
    index (every address of the channel) for each page of a launch or preview: over 5 minutes for a
    preview of 500,000 residents. The page's address query must go by the resident_id index."""
    for number in range(4):
        async with services.sessions() as session, session.begin():
            await ResidentRepository(session).upsert(
                addresses=[AddressInput("sms", f"+4860010020{number}", "register", FIRST)],
                language="pl",
                attributes={},
                now=FIRST,
                because=IMPORTED,
            )
    read: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if "FROM contact_addresses" in statement:
            read.append((statement, parameters))

    async with services.sessions() as session:
        engine = session.bind
        assert engine is not None
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            scan = await ResidentRepository(session).audience_members(where={}, channels=["sms"], after_id=0, limit=10)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        assert len(scan.page) == 4 and len(read) == 1
        statement, parameters = read[0]
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        if is_sqlite(services.settings.database_url):  # a fresh file: no sqlite_stat1 at all
            async with raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters) as cursor:
                plan = " ".join(str(row[-1]) for row in await cursor.fetchall())
        else:  # so few rows would be read in sequence: ask which index the planner picks
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            assert isinstance(parameters, tuple)
            plan = " ".join(row[0] for row in await raw.fetch(f"EXPLAIN {statement}", *parameters))
    assert "ix_contact_addresses_resident_id" in plan, plan
