"""`outreach demo`: the simulated residents behave as documented, and the whole demo, run as a real
command, leaves a consistent consultation behind it without printing any address."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels.base import Choice
from flows.matching import match_answer
from flows.model import LANGUAGES, Campaign
from outreach import demo
from outreach.keywords import detect_keyword

REPO = Path(__file__).resolve().parents[2]
SHARED_DISTRICTS = REPO.parent / "shared" / "data" / "gdansk_districts.csv"
PACKAGED = REPO / "outreach" / "data"


@pytest.fixture(scope="module")
def flow() -> Campaign:
    return demo.load_example()


def test_packaged_copies_match_their_sources() -> None:
    assert (PACKAGED / demo.EXAMPLE).read_bytes() == (REPO / "examples" / demo.EXAMPLE).read_bytes()
    if not SHARED_DISTRICTS.exists():
        pytest.skip("../shared/data is not next to this checkout")
    assert (PACKAGED / demo.DISTRICTS_FILE).read_bytes() == SHARED_DISTRICTS.read_bytes()


def test_without_a_checkout_the_packaged_example_serves(
    flow: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "EXAMPLES_DIR", tmp_path / "no-examples-here")
    assert demo.load_example() == flow


def test_districts_cover_the_city_and_the_audience(flow: Campaign) -> None:
    districts = demo.load_districts()
    assert len(districts) == 35
    assert sum(d.population for d in districts) == 490_301
    assert {d.name for d in demo.audience_districts(flow, districts)} == set(flow.audience.where["district"])


def _choices(flow: Campaign, question_id: str, language: str) -> list[Choice]:
    question = flow.question(question_id)
    if question.type == "yesno":
        return [Choice("yes", "tak"), Choice("no", "nie")]
    return [Choice(option.key, option.text[language]) for option in question.options]


def test_every_answer_variant_means_the_option_it_is_meant_for(flow: Campaign) -> None:
    for question in flow.questions:
        for language in LANGUAGES:
            for number, choice in enumerate(_choices(flow, question.id, language), start=1):
                for text in demo.answer_variants(language, question.type, number, choice):
                    assert detect_keyword(text) is None, text
                    assert match_answer(question, language, text) == choice.key, (question.id, language, text)


def test_every_mistype_fits_nothing(flow: Campaign) -> None:
    for question in flow.questions:
        for language in LANGUAGES:
            for text in demo.mistypes(language, question.type):
                assert detect_keyword(text) is None, text
                assert match_answer(question, language, text) is None, (question.id, language, text)


def test_question_keys_are_read_back() -> None:
    assert demo.parse_question_key("q:1:42:visits_park:1") == ("visits_park", 1, False)
    assert demo.parse_question_key("q:1:42:visits_park:r1") == ("visits_park", 0, True)
    assert demo.parse_question_key("say:1:42:outro") is None
    assert demo.parse_question_key("reply:7") is None


def test_residents_are_reproducible_and_cast_as_documented(flow: Campaign) -> None:
    districts = demo.load_districts()
    audience = demo.audience_districts(flow, districts)
    people = demo.simulate_residents(300, seed=5, districts=districts, audience=audience)
    again = demo.simulate_residents(300, seed=5, districts=districts, audience=audience)
    assert [(p.phone, p.email, p.persona, p.district) for p in people] == [
        (p.phone, p.email, p.persona, p.district) for p in again
    ]
    addresses = [address for person in people for address in person.addresses]
    assert len(addresses) == len(set(addresses))
    assert all(person.addresses for person in people)
    names = {d.name for d in audience}
    asked = [p for p in people if p.district in names]
    assert len(asked) >= 250
    personas = Counter(p.persona for p in asked)
    assert personas[demo.Persona.STOPS] == 1
    assert Counter(p.persona for p in people)[demo.Persona.STOPS] == 1
    assert 0.30 <= personas[demo.Persona.SILENT] / len(asked) <= 0.40
    assert 0.05 <= personas[demo.Persona.LATE] / len(asked) <= 0.15
    assert personas[demo.Persona.MISTYPES] > 0 and personas[demo.Persona.ANSWERS] > 0
    assert {p.language for p in people} == set(LANGUAGES)
    assert all(p.phone.startswith("+486000") for p in people if p.phone)


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


@pytest.mark.slow
def test_the_demo_runs_a_whole_consultation_by_itself(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    database.write_text("an older demo file, replaced")
    run = _run_demo(tmp_path, database)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for expected in ("response rate", "visits_park", "priority", "why_not", "outreach results"):
        assert expected in run.stdout, run.stdout

    with contextlib.closing(sqlite3.connect(database)) as db:
        addresses = [address for (address,) in db.execute("SELECT address FROM contact_addresses")]
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

        [(contacted,)] = db.execute("SELECT count(*) FROM conversations")
        [(answered,)] = db.execute(
            "SELECT count(DISTINCT resident_id) FROM responses WHERE value IS NOT NULL"
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
        service_initiated = db.execute(
            "SELECT sent_at FROM outbox WHERE status = 'sent'"
            " AND (idempotency_key LIKE 'q:%:visits_park:0' OR idempotency_key LIKE 'q:%:r_')"
        ).fetchall()
        warsaw = ZoneInfo("Europe/Warsaw")
        local_hours = {
            datetime.fromisoformat(sent).replace(tzinfo=UTC).astimezone(warsaw).hour for (sent,) in service_initiated
        }
        assert service_initiated and local_hours.isdisjoint({21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7})
