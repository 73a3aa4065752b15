"""GET /api/v1/campaigns/{id}/launch-requests: a campaign's launch requests, latest first, with their
state, whether each is for the current version, and officials as `official:ID` (never an e-mail)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.campaigns.commands import find_campaign
from outreach.campaigns.launch_approval import decide, request_launch, version_hash
from outreach.officials.accounts import acting
from storage.official_tables import Official
from storage.tables import CampaignRecord
from tests.conftest import ManualClock
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, draft
from tests.outreach.web.api.test_launch_approval import account

EDITOR, APPROVER = "ewa@gdansk.gda.pl", "adam@gdansk.gda.pl"


@dataclass
class Team:
    services: Services
    clock: ManualClock
    campaign_id: int
    editor: Official
    approver: Official

    async def ask(self) -> int:
        record = await find_campaign(self.services.sessions, str(self.campaign_id))
        requested = await request_launch(
            self.services.sessions,
            record,
            self.editor,
            audience=5,
            threshold=1,
            clock=self.clock,
            actor=acting(self.editor),
        )
        self.clock.advance(minutes=10)
        assert requested.request.id is not None
        return requested.request.id

    async def decide(self, request_id: int, *, approve: bool, comment: str | None = None) -> None:
        await decide(
            self.services.sessions,
            request_id,
            self.approver,
            approve=approve,
            comment=comment,
            clock=self.clock,
            actor=acting(self.approver),
        )
        self.clock.advance(minutes=10)

    async def edit(self) -> None:
        """The draft changed: a request asked before is for an older version."""
        record = await find_campaign(self.services.sessions, str(self.campaign_id))
        edited = dict(record.definition) | {"name": "Park Oruński (poprawiony)"}
        async with self.services.sessions() as session, session.begin():
            await session.execute(
                update(CampaignRecord).where(col(CampaignRecord.id) == self.campaign_id).values(definition=edited)
            )


async def nothing(team: Team) -> None:
    pass


async def waiting(team: Team) -> None:
    await team.ask()


async def approved_with_words(team: Team) -> None:
    await team.decide(await team.ask(), approve=True, comment="  Zgoda, po konsultacji z radą.  ")


async def asked_twice(team: Team) -> None:
    await team.ask()
    await team.ask()


async def rejected_then_edited_and_asked_again(team: Team) -> None:
    await team.decide(await team.ask(), approve=False)
    await team.edit()
    await team.ask()


async def approved_then_edited(team: Team) -> None:
    await team.decide(await team.ask(), approve=True)
    await team.edit()


# Each history and the list it reads as, latest first: (state, current, decided, comment).
Row = tuple[str, bool, bool, str | None]
HISTORIES: dict[str, tuple[Callable[[Team], Awaitable[None]], list[Row]]] = {
    "none asked": (nothing, []),
    "one waiting": (waiting, [("waiting", True, False, None)]),
    "approved with a comment": (approved_with_words, [("approved", True, True, "Zgoda, po konsultacji z radą.")]),
    "asked again: the first withdrawn": (
        asked_twice,
        [("waiting", True, False, None), ("withdrawn", True, False, None)],
    ),
    "rejected, edited, asked again": (
        rejected_then_edited_and_asked_again,
        [("waiting", True, False, None), ("rejected", False, True, None)],
    ),
    "approved, then edited": (approved_then_edited, [("approved", False, True, None)]),
}


@pytest.mark.parametrize("history", HISTORIES, ids=list(HISTORIES))
async def test_a_campaigns_launch_requests_read_latest_first(
    services: Services, api: AppClient, clock: ManualClock, history: str
) -> None:
    campaign_id = await draft(services)
    editor, approver = await account(services, EDITOR, "editor"), await account(services, APPROVER, "approver")
    team = Team(services, clock, campaign_id, editor, approver)
    make, expected = HISTORIES[history]
    await make(team)

    listed = await api.get(
        f"/api/v1/campaigns/{campaign_id}/launch-requests", headers=await auth(services, "campaigns:read")
    )
    assert listed.status == 200, await listed.text()
    body = await listed.text()
    assert EDITOR not in body and APPROVER not in body  # officials by account id only
    rows: list[dict[str, Any]] = (await listed.json())["data"]
    assert [(r["state"], r["current"], r["decided_at"] is not None, r["comment"]) for r in rows] == expected
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert [r["requested_at"] for r in rows] == sorted((r["requested_at"] for r in rows), reverse=True)
    current = version_hash((await find_campaign(services.sessions, str(campaign_id))).definition)
    for row in rows:
        assert (row["version_hash"] == current) is row["current"]
        assert (row["requested_by"], row["audience"]) == (f"official:{editor.id}", 5)
        assert row["decided_by"] == (f"official:{approver.id}" if row["decided_at"] else None)
