"""`outreach demo` as a real command: the whole demo, run through the provider stand-ins, leaves a
consistent consultation behind it without printing any address or credential."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows.campaign import Campaign
from outreach.demo.replies import answer_variants, mistypes
from storage.address_keys import AddressKeys
from storage.keyring import development_keyring
from tests.outreach.demo.helpers import shown_choices


def _run_demo(tmp_path: Path, database: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    command = [sys.executable, "-m", "outreach.cli", "demo", "--residents", "60"]
    return subprocess.run(
        [*command, "--database", str(database), "--seed", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _typed_texts(flow: Campaign, language: str) -> set[str]:
    """Everything a simulated resident of this language may type."""
    typed = {"STOP"}
    for question in flow.questions:
        typed.update(mistypes(language, question.type))
        for number, choice in enumerate(shown_choices(flow, question.id, language), start=1):
            typed.update(answer_variants(language, question.type, number, choice))
    return typed


def _tapped(flow: Campaign, language: str, text: str) -> bool:
    """A Telegram reply whose text is an option key no resident of its language types: a button tap
    (the channel reads a tap as the key in its callback data)."""
    keys = {choice.key for question in flow.questions for choice in shown_choices(flow, question.id, language)}
    return text in keys and text not in _typed_texts(flow, language)


@pytest.mark.slow
def test_the_demo_runs_a_whole_consultation_by_itself(flow: Campaign, tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    database.write_text("an older demo file, replaced")
    run = _run_demo(tmp_path, database)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    expected_lines: tuple[str, ...] = ("response rate", "visits_park", "priority", "why_not", "outreach results")
    expected_lines += ("button taps", "make demo-serve", "http://127.0.0.1:8080/admin/password/")
    for expected in (*expected_lines, "earlier consultations", "usual-suspects meter", "first-timers"):
        assert expected in run.stdout, run.stdout
    # The SDKs' HTTP logs are silenced: no Bot API URL (it holds the token), no Twilio request.
    for secret_bearing in ("/bot", "/Accounts/", "Authorization", "BEGIN Twilio API Request"):
        assert secret_bearing not in output, output

    with contextlib.closing(sqlite3.connect(database)) as db:
        # The demo official waits for the password the printed one-time link sets.
        officials = db.execute("SELECT email, role, password_hash, password_link_hash FROM officials").fetchall()
        assert [(email, role, hashed) for email, role, hashed, _ in officials] == [
            ("demo@gdansk.example.org", "admin", None)
        ]
        assert officials[0][3] and officials[0][3] not in run.stdout  # the link's token is shown, its hash kept
        keys = AddressKeys(development_keyring())  # the demo runs in development, on its public keys
        addresses = [
            keys.open(channel, sealed)
            for channel, sealed in db.execute("SELECT channel, address_sealed FROM contact_addresses")
        ]
        assert len(addresses) >= 60
        leaked = [a for a in addresses if a in output or a.lstrip("+") in output]
        assert not leaked, "an address was printed"

        stops = db.execute("SELECT id, contact_id, received_at FROM inbound_events WHERE outcome = 'stopped'")
        [(stop_event, stop_contact, stopped_at)] = stops.fetchall()
        confirmations = db.execute(
            "SELECT status FROM outbox WHERE kind = 'system' AND idempotency_key = ?",
            (f"reply:{stop_event}",),
        ).fetchall()
        assert confirmations == [("sent",)]
        [(stopper,)] = db.execute("SELECT resident_id FROM contact_addresses WHERE id = ?", (stop_contact,))
        late_answers = db.execute(
            "SELECT count(*) FROM responses WHERE resident_id = ? AND answered_at >= ?", (stopper, stopped_at)
        ).fetchone()
        late_messages = db.execute(
            "SELECT count(*) FROM outbox WHERE resident_id = ? AND kind != 'system' AND created_at >= ?",
            (stopper, stopped_at),
        ).fetchone()
        assert (late_answers, late_messages) == ((0,), (0,))

        # The demo's own campaign (the crowd's earlier consultations are recorded beside it).
        live = "campaign_id = (SELECT id FROM campaigns WHERE slug = 'park-orunski-co-dalej')"
        # Its privacy link names where `make demo-serve` answers, never the demo's own free port.
        [(definition,)] = db.execute("SELECT definition FROM campaigns WHERE slug = 'park-orunski-co-dalej'")
        notice = json.loads(definition)["privacy_notice"]
        assert notice and all(line.endswith(f"http://127.0.0.1:8080/privacy/{lang}") for lang, line in notice.items())
        [(contacted,)] = db.execute(f"SELECT count(*) FROM conversations WHERE {live}")
        [(answered,)] = db.execute(
            f"SELECT count(DISTINCT resident_id) FROM responses WHERE value IS NOT NULL AND {live}"
        ).fetchall()
        assert 0 < answered < contacted

        doubles = db.execute(
            "SELECT campaign_id, resident_id, question_id FROM responses GROUP BY 1, 2, 3 HAVING count(*) > 1"
        ).fetchall()
        assert doubles == []

        [(reasks,)] = db.execute(
            "SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'q:%:1' AND status = 'sent'"
        ).fetchall()
        assert reasks >= 1

        unfinished = db.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('queued', 'claimed', 'sending')"
        ).fetchone()
        assert unfinished == (0,)

        # The accelerated clock shows the lifecycle: a night held back, reminders, answer windows closing.
        [(reminders,)] = db.execute("SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'q:%:r1'")
        [(expired,)] = db.execute("SELECT count(*) FROM conversations WHERE status = 'expired'")
        assert reminders >= 1 and expired >= 1
        # When each send started (claimed_at, as recorded by mark_sending), not when the provider's answer
        # came back (sent_at): at 7,200 simulated seconds a second, a stand-in answering in 0.5 s on a
        # loaded machine makes a send started at 20:59 come back sent at 21:59.
        service_initiated = db.execute(
            "SELECT claimed_at FROM outbox WHERE status = 'sent'"
            " AND (idempotency_key LIKE 'q:%:visits_park:0' OR idempotency_key LIKE 'q:%:r_')"
        ).fetchall()
        warsaw = ZoneInfo("Europe/Warsaw")
        local_hours = {
            datetime.fromisoformat(started).replace(tzinfo=UTC).astimezone(warsaw).hour
            for (started,) in service_initiated
        }
        assert service_initiated and local_hours.isdisjoint({21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7})

        # The real adapters sent through both provider stand-ins: Twilio message SIDs for SMS,
        # Telegram message ids for the bot's messages.
        sent = db.execute(
            "SELECT c.channel, o.provider_id FROM outbox o JOIN contact_addresses c ON c.id = o.contact_id"
            " WHERE o.status = 'sent'"
        ).fetchall()
        assert {channel for channel, _ in sent} == {"sms", "telegram"}
        assert all(sid.startswith("SM") and len(sid) == 34 for channel, sid in sent if channel == "sms")
        assert all(message_id.isdecimal() for channel, message_id in sent if channel == "telegram")

        # Replies came back as the providers deliver them: Twilio's signed inbound SMS (its own SIDs)
        # and Telegram updates ("u" + update_id), some of them taps on the question's buttons.
        inbound = [
            (channel, provider_id, keys.open_message(channel, "text", text) or "", language)
            for channel, provider_id, text, language in db.execute(
                "SELECT e.channel, e.provider_id, e.text, r.language FROM inbound_events e"
                " JOIN contact_addresses c ON c.id = e.contact_id JOIN residents r ON r.id = c.resident_id"
            )
        ]
        assert {channel for channel, *_ in inbound} == {"sms", "telegram"}
        assert all(sid.startswith("SM") for channel, sid, *_ in inbound if channel == "sms")
        assert all(update.startswith("u") for channel, update, *_ in inbound if channel == "telegram")
        taps = [
            text for channel, _, text, language in inbound if channel == "telegram" and _tapped(flow, language, text)
        ]
        typed = [
            text
            for channel, _, text, language in inbound
            if channel == "telegram" and not _tapped(flow, language, text)
        ]
        assert taps and typed
