"""Early delivery reports: kept per channel, the oldest dropped beyond the cap, the expired dropped
and never handed out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from channels.delivery_status import status_rank
from outreach.bootstrap import Services
from storage.early_reports import EarlyReportRepository
from storage.tables import EarlyDeliveryReport
from tests.conftest import ManualClock


async def _keep(services: Services, channel: str, provider_id: str, *, cap: int = 3) -> None:
    async with services.sessions() as session, session.begin():
        await EarlyReportRepository(session).keep(
            channel,
            provider_id,
            status="delivered",
            error_code=None,
            now=services.clock(),
            rank=status_rank,
            keep_for=timedelta(hours=1),
            cap=cap,
        )


async def _early(services: Services) -> list[tuple[str, str]]:
    async with services.sessions() as session:
        rows = await session.execute(select(EarlyDeliveryReport))
        return sorted((early.channel, early.provider_id) for early in rows.scalars())


async def test_early_reports_are_bounded_per_channel_the_oldest_dropped(services: Services, clock: ManualClock) -> None:
    await _keep(services, "whatsapp", "W0")
    for number in range(5):
        await _keep(services, "email", f"E{number}")
        clock.advance(seconds=1)
    assert await _early(services) == [("email", "E2"), ("email", "E3"), ("email", "E4"), ("whatsapp", "W0")]


async def test_early_reports_older_than_their_time_are_dropped(services: Services, clock: ManualClock) -> None:
    await _keep(services, "sms", "S0")
    await _keep(services, "email", "E0")
    clock.advance(hours=1, seconds=1)
    await _keep(services, "sms", "S1")  # keeping a report sweeps its channel's expired ones
    assert await _early(services) == [("email", "E0"), ("sms", "S1")]
    async with services.sessions() as session, session.begin():
        taken = await EarlyReportRepository(session).take("email", "E0", now=clock(), keep_for=timedelta(hours=1))
    assert taken is None  # expired: never applied
    assert await _early(services) == [("sms", "S1")]
