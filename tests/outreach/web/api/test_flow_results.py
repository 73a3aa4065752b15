"""GET /api/v1/campaigns/{id}/flow-results: a zipped Flow Results package of real answers, valid by
the specification's rules, frictionless and each question's type, with the privacy of the exports,
streamed in constant memory."""

from __future__ import annotations

import json
import re
import tracemalloc
from pathlib import Path

from outreach.bootstrap import Services
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.results.flow_results_checks import checked_package, unzip
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, bulk_answers, draft, seeded_survey

PSEUDONYM = re.compile(r"^p[0-9a-f]{20}$")


async def test_the_package_holds_every_answer_valid_by_the_specification(
    services: Services, api: AppClient, tmp_path: Path
) -> None:
    await add_resident(services, phone="+48600100209", street="Długa 5")  # in the audience, never answers
    campaign_id = await seeded_survey(services)
    response = await api.get(
        f"/api/v1/campaigns/{campaign_id}/flow-results", headers=await auth(services, "responses:rows")
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="park-orunski-flow-results.zip"'
    data = await response.read()
    assert unzip(data, tmp_path) == ["datapackage.json", "responses.json"]
    descriptor, rows = checked_package(tmp_path)

    questions = descriptor["resources"][0]["schema"]["questions"]
    assert {name: question["type"] for name, question in questions.items()} == {
        "visits": "select_one",
        "rating": "numeric",
        "idea": "text",
    }
    assert questions["visits"]["type_options"] == {"choices": ["weekly", "never"]}
    assert len(rows) == 9
    assert [(row[4], row[5]) for row in rows[:3]] == [("visits", "weekly"), ("rating", 5), ("idea", "więcej ławek")]
    contacts = {row[2] for row in rows}
    assert len(contacts) == 3 and all(PSEUDONYM.match(contact) for contact in contacts)
    assert all(row[3] == row[2] and row[1] == f"{row[2]}-{row[4]}" for row in rows)
    assert rows[0][6] == {
        "channel": "sms",
        "language": "pol",
        "attributes": {"district": "Orunia", "age_band": "30-44", "sex": None},
    }
    assert {row[6]["language"] for row in rows} == {"pol", "eng"}
    assert b"600100" not in (tmp_path / "responses.json").read_bytes() and "Długa" not in data.decode("latin-1")


async def test_answer_times_are_cut_to_the_hour_or_the_day(
    services: Services, api: AppClient, clock: ManualClock, tmp_path: Path
) -> None:
    clock.advance(minutes=14, seconds=3, microseconds=123456)  # 10:14:03.123456 UTC
    campaign_id = await seeded_survey(services)
    headers = await auth(services, "responses:rows")
    for precision, expected in (("hour", "2027-03-02T10:00:00+00:00"), ("day", "2027-03-02T00:00:00+00:00")):
        object.__setattr__(services.settings, "row_time_precision", precision)
        response = await api.get(f"/api/v1/campaigns/{campaign_id}/flow-results", headers=headers)
        unzip(await response.read(), tmp_path / precision)
        _, rows = checked_package(tmp_path / precision)
        assert {row[0] for row in rows} == {expected}, precision


async def test_the_package_needs_the_rows_scope_and_an_empty_campaign_is_a_valid_package(
    services: Services, api: AppClient, tmp_path: Path
) -> None:
    campaign_id = await draft(services)
    url = f"/api/v1/campaigns/{campaign_id}/flow-results"
    refused = await api.get(url, headers=await auth(services, "responses:read"))
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "insufficient_scope"
    response = await api.get(url, headers=await auth(services, "responses:rows", campaign_id=campaign_id))
    unzip(await response.read(), tmp_path)
    descriptor, rows = checked_package(tmp_path)
    assert rows == [] and set(descriptor["resources"][0]["schema"]["questions"]) == {"visits", "rating", "idea"}


async def _streamed(api: AppClient, url: str, headers: dict[str, str], *, trace: bool = True) -> tuple[int, int]:
    """Stream the package, keeping nothing: (peak traced memory, bytes)."""
    if trace:
        tracemalloc.start()
    try:
        response = await api.get(url, headers=headers)
        assert response.status == 200
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, size


async def test_the_package_streams_in_constant_memory(services: Services, api: AppClient, tmp_path: Path) -> None:
    """8,000 answers (about 1.7 MB of rows, 8 reads of the database) stream through with the peak of
    1,000: neither the rows nor the zip are held."""
    small, large = await draft(services), await draft(services)
    await bulk_answers(services, small, 500, first=4_000)
    await bulk_answers(services, large, 4_000)
    headers = await auth(services, "responses:rows")
    await _streamed(api, f"/api/v1/campaigns/{small}/flow-results", headers, trace=False)  # first-use allocations
    small_peak, _ = await _streamed(api, f"/api/v1/campaigns/{small}/flow-results", headers)
    peak, size = await _streamed(api, f"/api/v1/campaigns/{large}/flow-results", headers)
    assert peak < small_peak + 500_000, f"peak {small_peak} for 1,000 answers, {peak} for 8,000"
    assert peak < 4_000_000, f"peak {peak} bytes for {size} bytes of zip"
    response = await api.get(f"/api/v1/campaigns/{large}/flow-results", headers=headers)
    unzip(await response.read(), tmp_path)
    assert (tmp_path / "responses.json").stat().st_size > 1_500_000
    assert len(json.loads((tmp_path / "responses.json").read_text(encoding="utf-8"))) == 8_000
