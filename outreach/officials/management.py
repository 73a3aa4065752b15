"""What an admin does to other officials' accounts on the pages (issue 21): list them with their last
login, change a role, and deactivate one, never leaving the service without an active admin.

Adding an account and a new password link are outreach.officials.accounts' own add_official and
reset_link, the same the CLI calls; this module adds what only the pages offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from outreach import audit
from outreach.audit import Actor
from outreach.officials.accounts import OFFICIAL_DEACTIVATE, OFFICIAL_LOGIN, AccountError, LastAdmin, keep_an_admin
from outreach.officials.roles import ROLES
from storage.db import SessionFactory, read_session
from storage.official_tables import Official
from storage.officials import OfficialRepository

__all__ = ["LastAdmin", "account", "account_rows", "change_role", "deactivate_account"]

OFFICIAL_ROLE = "official.role"  # audit action: an admin changed an account's role


@dataclass(frozen=True)
class AccountRow:
    """One account as the officials' page lists it."""

    official: Official
    last_login: datetime | None

    @property
    def state(self) -> str:
        if self.official.deactivated_at is not None:
            return "deactivated"
        return "waiting for a password" if self.official.password_hash is None else "can log in"


async def account_rows(sessions: SessionFactory) -> list[AccountRow]:
    """Every account, by id, with its last login (from the audit log, where every login is)."""
    async with read_session(sessions) as session:
        officials = OfficialRepository(session)
        accounts = await officials.all()
        last = await officials.last_audited(OFFICIAL_LOGIN)
    return [AccountRow(official, last.get(str(official.id))) for official in accounts]


async def account(sessions: SessionFactory, official_id: int) -> Official:
    async with read_session(sessions) as session:
        official = await OfficialRepository(session).get(official_id)
    if official is None:
        raise AccountError("no such account")
    return official


async def change_role(
    sessions: SessionFactory, official_id: int, role: str, *, now: datetime, actor: Actor
) -> Official:
    """Give the account `role`; LastAdmin when it is the last active admin's and the role is another."""
    if role not in ROLES:
        raise AccountError(f"the role is one of {', '.join(ROLES)}")
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        official = await officials.get(official_id)
        if official is None or official.id is None:
            raise AccountError("no such account")
        if official.role == role:
            return official
        if role != "admin":
            await keep_an_admin(officials, official)
        before, official.role = official.role, role
        await audit.record(session, actor, OFFICIAL_ROLE, "official", official.id, {"from": before, "to": role}, at=now)
        return official


async def deactivate_account(sessions: SessionFactory, official_id: int, *, now: datetime, actor: Actor) -> int:
    """Close the account and end its sessions (the number ended); LastAdmin for the last active admin."""
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        official = await officials.get(official_id)
        if official is None or official.id is None:
            raise AccountError("no such account")
        if official.deactivated_at is not None:
            return 0
        await keep_an_admin(officials, official)
        official.deactivated_at = now
        official.password_link_hash = None
        official.password_link_expires_at = None
        await audit.record(session, actor, OFFICIAL_DEACTIVATE, "official", official.id, at=now)
        return await officials.close_sessions_of(official.id)
