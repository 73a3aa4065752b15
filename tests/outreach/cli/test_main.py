"""The command line as an official uses it, against a real database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from channels.standins.telegram import TelegramStandIn
from outreach.bootstrap import Services
from outreach.campaigns.pseudonyms import PSEUDONYM_KEY, respondent_pseudonym
from outreach.cli.main import app
from outreach.inbound.pipeline import Outcome
from storage.address_keys import address_of
from storage.keys import installation_key
from storage.outbox import OutboxRepository
from storage.tables import ContactAddress, Resident
from tests.outreach.cli.invoking import invoke
from tests.outreach.helpers import CAMPAIGN_YAML, reply
from tests.providers import SMS_FROM, TELEGRAM_BOT_TOKEN, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN

DATA = Path(__file__).parents[1] / "data"
EXAMPLE = Path(__file__).parents[3] / "examples" / "park_orunski.yaml"


def test_residents_import_reports_bad_rows_by_line_and_keeps_the_good(cli: CliRunner) -> None:
    result = cli.invoke(app, ["residents", "import", str(DATA / "residents.csv")])
    assert result.exit_code == 2
    assert "9 rows: 4 created, 0 updated, 0 unchanged, 5 rejected" in result.stdout
    rejected = [line.split("residents.csv:", 1)[1] for line in result.stderr.splitlines()]
    assert rejected == [
        "line 5: phone is not a valid number (region PL is assumed without a +prefix)",
        "line 6: email is not a valid address",
        "line 7: no address: give a phone, a whatsapp number, an email or a telegram_chat_id",
        "line 8: language 'de' is not one of pl, en, uk",
        "line 9: consent_at is not an ISO 8601 date and time (e.g. 2026-03-01T12:00:00+01:00);"
        " consent_source is empty: say where the resident agreed to be asked",
    ]
    assert "600" not in result.stderr  # rows are named by line, never by their address


async def test_import_normalises_addresses_and_keeps_consent_and_attributes(cli: CliRunner, services: Services) -> None:
    await invoke(cli, ["residents", "import", str(DATA / "residents.csv")])
    async with services.sessions() as session:
        contacts = list((await session.execute(select(ContactAddress).order_by(col(ContactAddress.id)))).scalars())
        residents = list((await session.execute(select(Resident).order_by(col(Resident.id)))).scalars())
    assert [(c.channel, address_of(session, c)) for c in contacts] == [
        ("sms", "+48600100200"),
        ("sms", "+48601100201"),
        ("email", "anna@example.org"),
        ("telegram", "123456789"),
        ("sms", "+48604100204"),
    ]
    assert contacts[0].consent_source == "poster-orunia"
    assert contacts[0].consent_at is not None and contacts[0].consent_at.isoformat() == "2026-01-10T11:00:00+00:00"
    assert contacts[1].consent_at is not None and contacts[1].consent_at.isoformat() == "2026-01-11T08:30:00+00:00"
    assert residents[0].attributes == {
        "district": "Orunia-Św. Wojciech-Lipce",
        "age_band": "30-44",
        "sex": "f",
        "household": "3",
        "recruited_via": "import",
        "recruitment_source": "residents.csv",
    }
    assert [r.language for r in residents] == ["pl", "en", "uk", "pl"]
    assert len({r.pseudonym for r in residents}) == 4


async def test_reimport_updates_and_never_duplicates(cli: CliRunner, services: Services, tmp_path: Path) -> None:
    await invoke(cli, ["residents", "import", str(DATA / "residents.csv")])
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "phone,language,district,consent_source,consent_at\n"
        "+48600100200,en,Oliwa,phone-call,2026-02-01T10:00:00+01:00\n",
        encoding="utf-8",
    )
    result = await invoke(cli, ["residents", "import", str(changed), "--on-match", "update"])
    assert result.exit_code == 0, result.output
    assert "1 rows: 0 created, 1 updated, 0 unchanged, 0 rejected" in result.stdout
    async with services.sessions() as session:
        resident = (await session.execute(select(Resident).order_by(col(Resident.id)))).scalars().first()
        count = len((await session.execute(select(Resident))).all())
    assert count == 4
    assert resident is not None and resident.language == "en"
    assert resident.attributes["district"] == "Oliwa" and resident.attributes["household"] == "3"
    assert resident.attributes["recruitment_source"] == "residents.csv"  # where they came from first


async def test_a_known_address_leaves_its_resident_alone_unless_the_official_merges(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    await invoke(cli, ["residents", "import", str(DATA / "residents.csv")])
    known_phone_new_email = tmp_path / "web-form.csv"
    known_phone_new_email.write_text(
        "phone,email,language,district,consent_source,consent_at\n"
        "+48600100200,stranger@example.org,en,Oliwa,web-form,2026-02-01T10:00:00+01:00\n",
        encoding="utf-8",
    )
    result = await invoke(cli, ["residents", "import", str(known_phone_new_email), "--label", "web form"])
    assert "1 rows: 0 created, 0 updated, 1 unchanged, 0 rejected" in result.stdout
    assert await _addresses_and_district_of_first(services) == (["sms:+48600100200"], "Orunia-Św. Wojciech-Lipce")

    result = await invoke(cli, ["residents", "import", str(known_phone_new_email), "--on-match", "update"])
    assert "0 created, 1 updated" in result.stdout
    assert await _addresses_and_district_of_first(services) == (["sms:+48600100200"], "Oliwa")

    result = await invoke(cli, ["residents", "import", str(known_phone_new_email), "--on-match", "merge"])
    assert "0 created, 1 updated" in result.stdout
    addresses, _ = await _addresses_and_district_of_first(services)
    assert addresses == ["sms:+48600100200", "email:stranger@example.org"]


async def _addresses_and_district_of_first(services: Services) -> tuple[list[str], str]:
    async with services.sessions() as session:
        first = (await session.execute(select(Resident).order_by(col(Resident.id)))).scalars().first()
        assert first is not None
        contacts = (
            await session.execute(
                select(ContactAddress)
                .where(col(ContactAddress.resident_id) == first.id)
                .order_by(col(ContactAddress.id))
            )
        ).scalars()
        return [f"{c.channel}:{address_of(session, c)}" for c in contacts], first.attributes["district"]


async def test_the_label_names_the_recruitment_source(cli: CliRunner, services: Services, tmp_path: Path) -> None:
    result = await invoke(cli, ["residents", "import", str(DATA / "residents.csv"), "--label", "register 2026-03"])
    assert result.exit_code == 2, result.output
    async with services.sessions() as session:
        residents = list((await session.execute(select(Resident))).scalars())
    assert {(r.attributes["recruited_via"], r.attributes["recruitment_source"]) for r in residents} == {
        ("import", "register 2026-03")
    }
    forged = tmp_path / "forged.csv"
    forged.write_text(
        "phone,recruited_via,consent_source,consent_at\n+48600100299,self-enrolment,x,2026-02-01T10:00:00\n",
        encoding="utf-8",
    )
    result = await invoke(cli, ["residents", "import", str(forged)])
    assert "forged.csv:line 2: recruited_via is set by the service, not by the file" in result.stderr
    for label in ("", "x" * 121, "tab\there"):
        result = await invoke(cli, ["residents", "import", str(forged), "--label", label])
        assert result.exit_code == 1 and "--label must be 1 to 120 printable characters" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot open"),
        ("name,district\nAnna,Oliwa\n", "the header needs at least one address column"),
        (b"phone,district\n600100200,Oliwa\xff\n", "not UTF-8"),
    ],
)
def test_import_refuses_files_it_cannot_read(
    cli: CliRunner, tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "residents.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = cli.invoke(app, ["residents", "import", str(path)])
    assert result.exit_code != 0
    assert message in result.stderr


def test_campaign_validate_points_at_the_line_of_a_bad_file(cli: CliRunner, tmp_path: Path) -> None:
    good = cli.invoke(app, ["campaign", "validate", str(EXAMPLE)])
    assert good.exit_code == 0 and "ok" in good.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(CAMPAIGN_YAML.replace("next: {no: end}", "next: {no: nowhere}"), encoding="utf-8")
    result = cli.invoke(app, ["campaign", "validate", str(broken)])
    assert result.exit_code == 1
    line = CAMPAIGN_YAML.splitlines().index("    next: {no: end}") + 1
    assert f"broken.yaml:{line}:" in result.stderr and "nowhere" in result.stderr


def test_bad_arguments_get_clear_errors(cli: CliRunner) -> None:
    unknown = cli.invoke(app, ["results", "no-such-campaign"])
    assert unknown.exit_code == 1
    assert "no campaign 'no-such-campaign'" in unknown.stderr
    bad_format = cli.invoke(app, ["export", "1", "--format", "xlsx"])
    assert bad_format.exit_code == 2
    assert "xlsx" in bad_format.output


async def test_a_consultation_from_the_command_line(cli: CliRunner, services: Services, tmp_path: Path) -> None:
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    await invoke(cli, ["residents", "import", str(DATA / "residents.csv")])
    created = await invoke(cli, ["campaign", "create", str(campaign_file)])
    assert "created campaign 1 (tramwaj-na-morene)" in created.stdout
    launched = await invoke(cli, ["campaign", "launch", "tramwaj-na-morene"])
    # The campaign asks on sms and email only: the Telegram-only resident is not in it.
    assert "3 conversations started" in launched.stdout, launched.output
    await reply(services, "+48600100200", "tak")
    await reply(services, "+48600100200", "codziennie")
    # Anna has a phone and an email; sms comes first in the campaign, so she is asked by SMS.
    assert await reply(services, "anna@example.org", "no", channel="email") is Outcome.NO_CONVERSATION
    await reply(services, "+48601100201", "no")
    assert await reply(services, "123456789", "tak", channel="telegram") is Outcome.NO_CONVERSATION

    status = await invoke(cli, ["campaign", "status", "1"])
    assert "conversations: active 1, completed 2" in status.stdout

    results = await invoke(cli, ["results", "1"])
    assert results.exit_code == 0, results.output
    assert "contacted 3, answered 2 — response rate 66.7%" in results.stdout
    assert "codziennie" in results.stdout

    exported = await invoke(cli, ["export", "1", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["question"], r["value"], r["channel"], r["district"]) for r in rows] == [
        ("uses_tram", "yes", "sms", "Orunia-Św. Wojciech-Lipce"),
        ("frequency", "daily", "sms", "Orunia-Św. Wojciech-Lipce"),
        ("uses_tram", "no", "sms", "Orunia-Św. Wojciech-Lipce"),
    ]
    assert rows[0]["respondent"] == rows[1]["respondent"] != rows[2]["respondent"]
    async with services.sessions() as session:
        key = await installation_key(session, PSEUDONYM_KEY, now=services.clock())
    assert rows[0]["respondent"] == respondent_pseudonym(key, resident_id=1, campaign_id=1)
    lines = (await invoke(cli, ["export", "tramwaj-na-morene", "--format", "jsonl"])).stdout.splitlines()
    first = json.loads(lines[0])
    assert set(first) == {
        "campaign",
        "question",
        "respondent",
        "value",
        "channel",
        "answered_at",
        "district",
        "age_band",
        "sex",
        "language",
    }
    for text in (exported.stdout, "\n".join(lines), results.stdout):
        for address in ("+48600100200", "+48601100201", "anna@example.org", "123456789"):
            assert address not in text


async def test_export_carries_only_allowlisted_attributes(
    cli: CliRunner, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    await invoke(cli, ["residents", "import", str(DATA / "residents.csv")])
    await invoke(cli, ["campaign", "create", str(campaign_file)])
    await invoke(cli, ["campaign", "launch", "1"])
    await reply(services, "+48600100200", "tak")
    monkeypatch.setenv("OUTREACH_EXPORT_ATTRIBUTES", "household")
    exported = await invoke(cli, ["export", "1", "--format", "csv", "--output", str(tmp_path / "out.csv")])
    assert exported.exit_code == 0, exported.output
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["household"] == "3"
    assert "district" not in row and "sex" not in row and "age_band" not in row


async def test_pause_resume_close_from_the_command_line(cli: CliRunner, services: Services, tmp_path: Path) -> None:
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    await invoke(cli, ["residents", "import", str(DATA / "residents.csv")])
    await invoke(cli, ["campaign", "create", str(campaign_file)])
    await invoke(cli, ["campaign", "launch", "1"])
    paused = await invoke(cli, ["campaign", "pause", "1"])
    assert "campaign 1 paused" in paused.stdout, paused.output
    again = await invoke(cli, ["campaign", "pause", "1"])
    assert again.exit_code == 1 and "is paused; only an active one can pause" in again.stderr
    status = await invoke(cli, ["campaign", "status", "1"])
    assert "campaign 1 (tramwaj-na-morene): paused" in status.stdout and "messages: held 3" in status.stdout
    resumed = await invoke(cli, ["campaign", "resume", "1"])
    assert "campaign 1 active again" in resumed.stdout
    closed = await invoke(cli, ["campaign", "close", "tramwaj-na-morene"])
    assert "campaign 1 closed" in closed.stdout
    status = await invoke(cli, ["campaign", "status", "1"])
    assert "closed" in status.stdout and "messages: cancelled 3" in status.stdout
    relaunch = await invoke(cli, ["campaign", "launch", "1"])
    assert relaunch.exit_code == 1 and "is closed and cannot be launched again" in relaunch.stderr


async def test_a_campaign_with_a_future_start_is_scheduled(cli: CliRunner, tmp_path: Path) -> None:
    campaign_file = tmp_path / "later.yaml"
    campaign_file.write_text(CAMPAIGN_YAML + "schedule:\n  start: 2099-03-02T10:00:00+01:00\n", encoding="utf-8")
    await invoke(cli, ["campaign", "create", str(campaign_file)])
    launched = await invoke(cli, ["campaign", "launch", "1"])
    assert "campaign 1 scheduled: `outreach serve` starts it at 2099-03-02T09:00:00+00:00" in launched.stdout


def test_validate_warns_without_failing(cli: CliRunner, tmp_path: Path) -> None:
    campaign_file = tmp_path / "offset.yaml"
    campaign_file.write_text(CAMPAIGN_YAML + "schedule:\n  start: 2027-07-01T10:00:00+01:00\n", encoding="utf-8")
    result = cli.invoke(app, ["campaign", "validate", str(campaign_file)])
    assert result.exit_code == 0
    assert "offset.yaml: warning: schedule.start 2027-07-01T10:00:00+01:00: on that date Gdańsk" in result.stderr


async def test_preview_shows_each_channel_and_language_with_sms_cost(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    await invoke(cli, ["residents", "import", str(DATA / "residents.csv")])
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML.replace("reask_unclear: 1", "reask_unclear: 0"), encoding="utf-8")
    result = await invoke(cli, ["campaign", "preview", str(campaign_file)])
    assert result.exit_code == 0, result.output
    for title in ("sms · pl", "sms · en", "email · pl", "email · en"):
        assert title in result.stdout
    assert "Czy jeździsz tramwajem?" in result.stdout and "1 × UCS-2" in result.stdout
    # Three SMS residents (pl 2, en 1). The openings are UCS-2 (the ń of Gdańsk) and carry the privacy
    # line (controller and notice link, about 75 units): 3 segments each. Floor 3+3+3 = 9. Follow-up
    # and outro add 1+1 per resident: ceiling 9+6 = 15. +48 costs 0.04 a segment by default.
    assert "Administrator" in result.stdout and "Data controller" in result.stdout  # the privacy line
    assert "SMS audience: 3 residents (en 1, pl 2); from 9 segments ≈ 0.36 USD" in result.stdout
    assert "to 15 segments ≈ 0.60 USD" in result.stdout


def test_an_sms_campaign_is_refused_with_an_alphanumeric_sender(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID)
    monkeypatch.setenv("OUTREACH_TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN)
    monkeypatch.setenv("OUTREACH_TWILIO_FROM", "GDANSK")
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    for command in ("validate", "create"):
        result = cli.invoke(app, ["campaign", command, str(campaign_file)])
        assert result.exit_code == 1, command
        assert "the SMS sender 'GDANSK' is alphanumeric: residents cannot reply to it" in result.stderr
    email_only = tmp_path / "email.yaml"
    email_only.write_text(CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [email]"), encoding="utf-8")
    assert cli.invoke(app, ["campaign", "validate", str(email_only)]).exit_code == 0
    monkeypatch.setenv("OUTREACH_TWILIO_FROM", SMS_FROM)
    assert cli.invoke(app, ["campaign", "validate", str(campaign_file)]).exit_code == 0


async def test_test_send_delivers_every_message_marked_and_stores_nothing(
    cli: CliRunner, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels.standins.twilio import TwilioStandIn

    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    async with TwilioStandIn(account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN) as standin:
        monkeypatch.setenv("OUTREACH_TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID)
        monkeypatch.setenv("OUTREACH_TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN)
        monkeypatch.setenv("OUTREACH_TWILIO_FROM", SMS_FROM)
        monkeypatch.setenv("OUTREACH_TWILIO_API_URL", standin.base_url)
        result = await invoke(cli, ["campaign", "test-send", str(campaign_file), "--to", "+48600999000"])
        assert result.exit_code == 0, result.output
        bodies = [request.form["Body"] for request in standin.requests]
    # opening, frequency, two re-asks, outro
    assert len(bodies) == 5 and all(body.startswith("[TEST] ") for body in bodies)
    assert "Czy jeździsz tramwajem?" in bodies[0] and bodies[-1].endswith("Dziękujemy!")
    async with services.sessions() as session:
        assert await OutboxRepository(session).count_by_status() == {}
    unknown = await invoke(cli, ["campaign", "test-send", str(campaign_file), "--to", "a@b.pl"])
    assert unknown.exit_code == 1 and "channel email is not enabled here" in unknown.stderr


async def test_enrol_link_prints_the_deep_link_and_writes_a_qr_code(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import struct

    async with TelegramStandIn(TELEGRAM_BOT_TOKEN) as standin:
        monkeypatch.setenv("OUTREACH_TELEGRAM_BOT_TOKEN", TELEGRAM_BOT_TOKEN)
        monkeypatch.setenv("OUTREACH_TELEGRAM_MODE", "polling")
        monkeypatch.setenv("OUTREACH_TELEGRAM_API_URL", standin.base_url)
        result = await invoke(cli, ["enrol-link", "bus-stop-12", "-o", str(tmp_path / "qr.png")])
        username = await standin_username(standin)
    assert result.exit_code == 0, result.output
    assert f"https://t.me/{username}?start=bus-stop-12" in result.stdout
    png = (tmp_path / "qr.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == height >= (21 + 8) * 10  # at least a version-1 code, 10 px a module, quiet zone

    bad = cli.invoke(app, ["enrol-link", "bus stop!"])
    assert bad.exit_code == 1 and "must be 1-64 of A-Z a-z 0-9 _ -" in bad.stderr


async def standin_username(standin: TelegramStandIn) -> str:
    """The username the stand-in's getMe reports."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.post(f"{standin.base_url}/bot{standin.token}/getMe") as response:
        return str((await response.json())["result"]["username"])


async def test_export_dictionary_describes_questions_options_and_fields(cli: CliRunner, tmp_path: Path) -> None:
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    await invoke(cli, ["campaign", "create", str(campaign_file)])
    result = await invoke(cli, ["export", "1", "--dictionary"])
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)
    text = json.dumps(described, ensure_ascii=False)
    for expected in ("uses_tram", "frequency", "weekly", "co tydzień", "How often?", "respondent", "district"):
        assert expected in text
    fields = [field["name"] for field in described["fields"]]
    assert fields == [
        "campaign", "question", "respondent", "value", "channel", "answered_at", "language",
        "district", "age_band", "sex",
    ]  # fmt: skip
