"""A launch page's questions about thousands of dense ids are asked as one range (storage.id_sets):
the answers still name only the ids asked about, never a neighbour the range went past."""

from __future__ import annotations

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from storage.id_sets import DENSE_FROM, among
from storage.launches import LaunchRepository
from storage.tables import Resident
from tests.conftest import ManualClock
from tests.outreach.helpers import CAMPAIGN_YAML


async def test_a_range_read_answers_only_for_the_ids_asked_about(services: Services, clock: ManualClock) -> None:
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=clock)
    assert record.id is not None
    async with services.sessions() as session, session.begin():
        now = clock()
        residents = [
            Resident(pseudonym=f"r{number}", language="pl", created_at=now, updated_at=now)
            for number in range(2 * DENSE_FROM + 2)
        ]
        session.add_all(residents)
        await session.flush()
        launches = LaunchRepository(session)
        for resident in residents:  # every one of them skipped: the range holds rows of ids not asked about
            assert resident.id is not None
            await launches.skip(record.id, resident.id, reason="test", now=clock())
        every_other = [resident.id for resident in residents[::2] if resident.id is not None]
        # Dense enough to be read as a range (its span is under twice their number): the others come along.
        assert "BETWEEN" in str(among(Resident.__table__.c.id, every_other))  # type: ignore[attr-defined]
        assert await launches.skipped_among(record.id, every_other) == set(every_other)
        # A few ids, or ids far apart, are an IN list.
        assert "IN" in str(among(Resident.__table__.c.id, every_other[:3]))  # type: ignore[attr-defined]
        far_apart = [resident.id for resident in residents[:: len(residents) // 2] if resident.id is not None]
        assert await launches.skipped_among(record.id, far_apart) == set(far_apart)
