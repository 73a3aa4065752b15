"""Idempotency keys: one claim per token and key; a held key answers with what holds it; an expired
key, or a claim whose process died, is given up to the next claim; a released claim too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outreach.bootstrap import Services
from storage.idempotency import IdempotencyRepository
from storage.tables import ApiToken

NOW = datetime(2027, 1, 28, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
STALE = timedelta(minutes=5)


async def _token(services: Services) -> int:
    async with services.sessions() as session, session.begin():
        token = ApiToken(token_hash="h" * 64, label="t", scopes=["admin"], created_at=NOW)
        session.add(token)
        await session.flush()
        assert token.id is not None
        return token.id


async def _claim(services: Services, token_id: int, fingerprint: str, now: datetime) -> str | None:
    async with services.sessions() as session, session.begin():
        held = await IdempotencyRepository(session).claim(
            token_id, "key-1", fingerprint, now=now, expires_at=now + DAY, stale_before=now - STALE
        )
    return None if held is None else f"{held.fingerprint}:{held.status}"


# (what happens to the first claim, when the second comes, what the second gets)
CASES = [
    ("running", timedelta(minutes=1), "first:None"),  # still running
    ("running", timedelta(minutes=6), None),  # its process died: given up
    ("completed", timedelta(hours=23), "first:201"),  # replayed
    ("completed", timedelta(hours=25), None),  # expired
    ("released", timedelta(seconds=1), None),  # failed on the service's side
]


@pytest.mark.parametrize(("first", "later", "second"), CASES)
async def test_a_second_claim_of_a_key(services: Services, first: str, later: timedelta, second: str | None) -> None:
    token_id = await _token(services)
    assert await _claim(services, token_id, "first", NOW) is None
    async with services.sessions() as session, session.begin():
        keys = IdempotencyRepository(session)
        if first == "completed":
            await keys.complete(token_id, "key-1", status=201, body="{}")
        elif first == "released":
            await keys.release(token_id, "key-1")
    assert await _claim(services, token_id, "second", NOW + later) == second


async def test_expired_keys_are_purged_in_bounded_batches(services: Services) -> None:
    token_id = await _token(services)
    async with services.sessions() as session, session.begin():
        keys = IdempotencyRepository(session)
        for number in range(5):
            await keys.claim(token_id, f"k{number}", "f", now=NOW, expires_at=NOW + DAY, stale_before=NOW)
    async with services.sessions() as session, session.begin():
        keys = IdempotencyRepository(session)
        assert await keys.purge_expired(now=NOW + DAY, limit=3) == 3
        assert await keys.purge_expired(now=NOW + DAY, limit=3) == 2
