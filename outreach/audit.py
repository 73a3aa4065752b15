"""The one audit log of officials', operators' and API tokens' actions: who did what, when, to what,
never the data itself. Every room records here, in the transaction of the action it records, so an
action and its entry commit (or roll back) together. Read back by `outreach audit` and
`GET /api/v1/audit` (admin)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import AuditRepository
from storage.db import SessionFactory
from storage.tables import ApiToken, AuditEntry

# service: a scheduled job of `serve`; visitor: nobody signed in (a refused SSO login naming no account)
ActorKind = Literal["token", "cli", "official", "service", "visitor"]
# A detail is a plain value or a list of them: ids, counts, names of settings or options. Never an
# address, an answer's text or a token.
DetailValue = str | int | float | bool | list[str] | list[int] | None

# The actions recorded today; other rooms add theirs in the same dotted form (noun.verb).
CAMPAIGN_CREATE = "campaign.create"
CAMPAIGN_EDIT = "campaign.edit"  # a draft's definition changed (outreach.campaigns.drafts)
CAMPAIGN_TEST_SEND = "campaign.test_send"  # its first messages sent to an official's own address
CAMPAIGN_LAUNCH = "campaign.launch"
CAMPAIGN_PAUSE = "campaign.pause"
CAMPAIGN_RESUME = "campaign.resume"
CAMPAIGN_CLOSE = "campaign.close"
RESIDENTS_IMPORT = "residents.import"
EXPORT = "export"
TOKEN_CREATE = "token.create"
TOKEN_REVOKE = "token.revoke"
WEBHOOK_SUBSCRIBE = "webhook.subscribe"
WEBHOOK_UNSUBSCRIBE = "webhook.unsubscribe"
WEBHOOK_ROTATE = "webhook.rotate"
WEBHOOK_RESUME = "webhook.resume"
WEBHOOK_REPLAY = "webhook.replay"
RESIDENT_FIND = "resident.find"  # a resident's access and erasure requests (outreach.rights)
RESIDENT_EXPORT = "resident.export"
RESIDENT_ERASE = "resident.erase"
RETENTION_RUN = "retention.run"
KEY_ROTATE = "keys.rotate"  # addresses re-encrypted under the current key (outreach.rights.key_rotation)


@dataclass(frozen=True)
class Actor:
    """Who acts: an API token (its id and label), an operator at the CLI (the OS user), or an official
    signed in some other way (a name the caller vouches for)."""

    kind: ActorKind
    id: str
    label: str

    @classmethod
    def token(cls, token: ApiToken) -> Actor:
        assert token.id is not None
        return cls("token", str(token.id), token.label)

    @classmethod
    def cli(cls) -> Actor:
        """The operator running the command, by the name the OS gives them (a uid when it has none)."""
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
            name = f"uid {os.getuid()}"
        return cls("cli", name[:64], name[:120])


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_kind: str | None = None,
    target_id: int | str | None = None,
    details: dict[str, DetailValue] | None = None,
    *,
    at: datetime,
) -> AuditEntry:
    """Add an entry to `session`'s transaction (the caller commits it with the action itself)."""
    return await AuditRepository(session).add(
        at=at,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_kind=target_kind,
        target_id=None if target_id is None else str(target_id),
        details=dict(details or {}),
    )


async def record_apart(
    sessions: SessionFactory,
    actor: Actor,
    action: str,
    target_kind: str | None = None,
    target_id: int | str | None = None,
    details: dict[str, DetailValue] | None = None,
    *,
    at: datetime,
) -> None:
    """An entry in a transaction of its own, for an action that writes nothing else (an export) or
    commits in many transactions (an import): recorded before a read starts, after a write ends."""
    async with sessions() as session, session.begin():
        await record(session, actor, action, target_kind, target_id, details, at=at)
