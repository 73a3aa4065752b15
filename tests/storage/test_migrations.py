"""The alembic migrations build exactly the schema the models describe, on each database."""

from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import String, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage.db import create_engine
from storage.migrate import alembic_config, compared_objects, upgrade
from tests.storage.plaintext_rows import insert_plaintext_residents


def _differences(connection: Connection) -> list[object]:
    opts = {"compare_type": True, "include_object": compared_objects(connection.dialect.name)}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, SQLModel.metadata))


async def test_upgrade_creates_the_model_schema_on_sqlite(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/migrated.db")
    try:
        await upgrade(engine)
        await upgrade(engine)  # a second upgrade is a no-op, not an error
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"residents", "contact_addresses", "outbox", "inbound_events", "responses"} <= tables
    finally:
        await engine.dispose()


async def test_postgres_test_database_was_built_by_the_migrations(postgres_url: str | None) -> None:
    from tests.conftest import unavailable

    if postgres_url is None:
        unavailable("PostgreSQL is unreachable")
    assert postgres_url is not None
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_revision_0003_gives_queued_rows_their_address_channel(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/upgraded.db")
    moment = "2026-11-28 10:00:00.000000"
    try:
        await upgrade(engine, "0002")  # a database from before the outbox had a channel column
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO residents VALUES (1, 'p1', 'pl', '{}', :at, :at)"), {"at": moment}
            )
            for contact, channel in ((1, "sms"), (2, "telegram")):
                await connection.execute(
                    text(
                        "INSERT INTO contact_addresses (id, resident_id, channel, address, created_at)"
                        " VALUES (:id, 1, :channel, :address, :at)"
                    ),
                    {"id": contact, "channel": channel, "address": f"a{contact}", "at": moment},
                )
                await connection.execute(
                    text(
                        "INSERT INTO outbox (idempotency_key, resident_id, contact_id, kind, text, choices,"
                        " choice_style, status, attempts, next_attempt_at, created_at)"
                        " VALUES (:key, 1, :id, 'question', 'x', '[]', 'numbered', 'queued', 0, :at, :at)"
                    ),
                    {"key": f"k{contact}", "id": contact, "at": moment},
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT idempotency_key, channel FROM outbox ORDER BY id"))).all()
            assert await connection.run_sync(_differences) == []
        assert [tuple(row) for row in rows] == [("k1", "sms"), ("k2", "telegram")]
    finally:
        await engine.dispose()


def _provider_id_lengths(connection: Connection) -> dict[str, int | None]:
    lengths = {}
    for table in ("outbox", "inbound_events", "early_delivery_reports"):
        [column] = [c for c in inspect(connection).get_columns(table) if c["name"] == "provider_id"]
        assert isinstance(column["type"], String)
        lengths[table] = column["type"].length
    return lengths


async def test_revision_0004_widens_the_provider_ids_and_keeps_the_rows(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/widened.db")
    moment = "2026-11-28 10:00:00.000000"
    try:
        await upgrade(engine, "0003")  # provider ids of 64 (outbox, early reports) and 128 (inbound)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO early_delivery_reports (provider_id, status, error_code, received_at)"
                    " VALUES ('SM1', 'delivered', NULL, :at)"
                ),
                {"at": moment},
            )
            await connection.execute(
                text(
                    "INSERT INTO inbound_events (channel, provider_id, text, outcome, received_at)"
                    " VALUES ('sms', 'SM2', 'Tak', 'answered', :at)"
                ),
                {"at": moment},
            )
        await upgrade(engine, "0004")
        async with engine.connect() as connection:
            lengths = await connection.run_sync(_provider_id_lengths)
            kept = (await connection.execute(text("SELECT provider_id FROM early_delivery_reports"))).scalars().all()
            inbound = (await connection.execute(text("SELECT provider_id FROM inbound_events"))).scalars().all()
        assert lengths == dict.fromkeys(("outbox", "inbound_events", "early_delivery_reports"), 998)
        assert (kept, inbound) == (["SM1"], ["SM2"])
    finally:
        await engine.dispose()


async def test_revision_0009_keeps_early_reports_per_channel(tmp_path: object) -> None:
    """Reports waiting at the upgrade are dropped (which channel each was for is unknown); after it the
    same provider id may wait once per channel."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/per_channel.db")
    moment = "2026-11-28 10:00:00.000000"
    try:
        await upgrade(engine, "0008")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO early_delivery_reports (provider_id, status, error_code, received_at)"
                    " VALUES ('1', 'failed', '5.1.1', :at)"
                ),
                {"at": moment},
            )
        await upgrade(engine)
        async with engine.begin() as connection:
            assert await connection.run_sync(_differences) == []
            assert (await connection.execute(text("SELECT count(*) FROM early_delivery_reports"))).scalar_one() == 0
            for channel in ("sms", "email"):
                await connection.execute(
                    text(
                        "INSERT INTO early_delivery_reports (channel, provider_id, status, received_at)"
                        " VALUES (:channel, 'X1', 'delivered', :at)"
                    ),
                    {"channel": channel, "at": moment},
                )
            assert (await connection.execute(text("SELECT count(*) FROM early_delivery_reports"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_revision_0006_gives_old_answers_their_residents_attributes_as_they_stand(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/snapshot.db")
    moment = "2026-11-28 10:00:00.000000"
    try:
        await upgrade(engine, "0005")  # answers without a snapshot: exports read the resident's row
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO residents VALUES (1, 'p1', 'uk', :attributes, :at, :at)"),
                {"attributes": '{"district": "Oliwa", "age_band": "30-44"}', "at": moment},
            )
            await connection.execute(
                text(
                    "INSERT INTO campaigns (id, slug, name, definition, status, created_at, spent)"
                    " VALUES (1, 'c', 'C', '{}', 'active', :at, 0)"
                ),
                {"at": moment},
            )
            await connection.execute(
                text(
                    "INSERT INTO responses (id, campaign_id, question_id, resident_id, respondent, value, channel,"
                    " answered_at) VALUES (7, 1, 'q', 1, 'r1', '\"yes\"', 'sms', :at)"
                ),
                {"at": moment},
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            row = (await connection.execute(text("SELECT id, language, attributes FROM responses"))).one()
            schema = (await connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'responses'"))).scalar()
        assert (row[0], row[1], json.loads(row[2])) == (7, "uk", {"district": "Oliwa", "age_band": "30-44"})
        assert "AUTOINCREMENT" in str(schema)  # the rebuilt table still never reuses an id
    finally:
        await engine.dispose()


async def test_revision_0010_says_how_each_resident_was_recruited(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/recruitment.db")
    moment = "2026-11-28 10:00:00.000000"
    before = {
        1: {"district": "Oliwa"},  # imported
        2: {"enrol_source": "bus-stop-12", "district": "Oliwa"},  # enrolled over Telegram
        3: {"enrolment": "consent", "enrol_source": "poster"},  # still enrolling
    }
    try:
        await upgrade(engine, "0009")
        async with engine.begin() as connection:
            for resident_id, attributes in before.items():
                await connection.execute(
                    text("INSERT INTO residents VALUES (:id, :pseudonym, 'pl', :attributes, :at, :at)"),
                    {
                        "id": resident_id,
                        "pseudonym": f"p{resident_id}",
                        "attributes": json.dumps(attributes),
                        "at": moment,
                    },
                )
        await upgrade(engine, "0010")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, attributes FROM residents ORDER BY id"))).all()
        assert {resident_id: json.loads(attributes) for resident_id, attributes in rows} == {
            1: {"district": "Oliwa", "recruited_via": "import", "recruitment_source": "before-0010"},
            2: {"district": "Oliwa", "recruited_via": "self-enrolment", "recruitment_source": "bus-stop-12"},
            3: {"enrolment": "consent", "recruited_via": "self-enrolment", "recruitment_source": "poster"},
        }
        await _downgrade(engine, "0009")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, attributes FROM residents ORDER BY id"))).all()
        assert {resident_id: json.loads(attributes) for resident_id, attributes in rows} == before
    finally:
        await engine.dispose()


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def test_revision_0014_gives_old_answers_the_inclusion_probability_their_respondent_was_drawn_with(
    tmp_path: object,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/inclusion.db")
    moment = "2026-11-28 10:00:00.000000"
    try:
        await upgrade(engine, "0013")
        async with engine.begin() as connection:
            for resident_id in (1, 2):
                await connection.execute(
                    text("INSERT INTO residents VALUES (:id, :pseudonym, 'pl', '{}', :at, :at)"),
                    {"id": resident_id, "pseudonym": f"p{resident_id}", "at": moment},
                )
            for campaign_id in (1, 2):
                await connection.execute(
                    text(
                        "INSERT INTO campaigns (id, slug, name, definition, status, created_at, spent,"
                        " launch_held_back) VALUES (:id, :slug, 'C', '{}', 'active', :at, 0, 0)"
                    ),
                    {"id": campaign_id, "slug": f"c{campaign_id}", "at": moment},
                )
            await connection.execute(
                text(
                    "INSERT INTO campaign_samples (campaign_id, seed, size, strata, allocation, drawn_at)"
                    " VALUES (1, 1, 1, '[]', '{}', :at)"
                ),
                {"at": moment},
            )
            await connection.execute(
                text(
                    "INSERT INTO sampled_residents (campaign_id, resident_id, stratum, inclusion_probability)"
                    " VALUES (1, 1, '', 0.125)"
                )
            )
            answers = ((1, 1, 1), (2, 1, 2), (3, 2, 1))  # (id, campaign, resident): campaign 2 drew no sample
            for answer_id, campaign_id, resident_id in answers:
                await connection.execute(
                    text(
                        "INSERT INTO responses (id, campaign_id, question_id, resident_id, respondent, value,"
                        " channel, answered_at, language, attributes)"
                        " VALUES (:id, :campaign, 'q', :resident, 'r', '\"yes\"', 'sms', :at, 'pl', '{}')"
                    ),
                    {"id": answer_id, "campaign": campaign_id, "resident": resident_id, "at": moment},
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            rows = (await connection.execute(text("SELECT id, inclusion_probability FROM responses ORDER BY id"))).all()
        assert [tuple(row) for row in rows] == [(1, 0.125), (2, None), (3, None)]
    finally:
        await engine.dispose()


async def test_revision_0026_stores_email_addresses_in_lower_case_unless_another_row_has_it(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/emails.db")
    moment = "2027-01-01 10:00:00.000000"
    before = {
        1: ("email", "Anna.Nowak@x.pl"),  # lowered
        2: ("email", "ola@x.pl"),  # already lower case
        3: ("email", "Ola@x.pl"),  # another resident holds `ola@x.pl`: left as it was
        4: ("email", "ŻANETA@x.pl"),  # beyond ASCII, which SQL's lower() would leave on SQLite
        5: ("telegram", "ABC"),  # not an email: unchanged
    }
    try:
        await upgrade(engine, "0025")
        async with engine.begin() as connection:
            await insert_plaintext_residents(connection, before, moment)
        await upgrade(engine, "0026")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, address FROM contact_addresses ORDER BY id"))).all()
        assert [tuple(row) for row in rows] == [
            (1, "anna.nowak@x.pl"),
            (2, "ola@x.pl"),
            (3, "Ola@x.pl"),
            (4, "żaneta@x.pl"),
            (5, "ABC"),
        ]
    finally:
        await engine.dispose()
