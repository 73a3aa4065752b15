"""Campaigns and the conversations they hold with residents."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from storage import dialect
from storage.bulk import insert_records
from storage.id_sets import among
from storage.statements import bound, run
from storage.tables import CampaignRecord, Conversation
from storage.webhook_events import CAMPAIGN_STATUS_CHANGED, record_event


class NewConversation(NamedTuple):
    """A conversation a launch opens (ConversationRepository.start_many), with its first question's
    timers: a tuple, since a city's launch makes half a million of them."""

    resident_id: int
    contact_id: int
    respondent: str
    state: dict[str, Any]
    status: str  # active, or waiting while another campaign holds the address
    asked_at: datetime | None = None
    expires_at: datetime | None = None
    next_reminder_at: datetime | None = None


_NEW_CONVERSATION_COLUMNS = ("campaign_id", *NewConversation._fields, "started_at", "updated_at", "reminders_sent")
CONVERSATIONS: Table = Conversation.__table__  # type: ignore[attr-defined]
# What a reply changes in a conversation: written whole by one statement built once (every answer runs it).
ADVANCED_COLUMNS = ("state", "status", "asked_at", "last_reply_at", "reminders_sent", "next_reminder_at", "expires_at")
_ADVANCE = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values({name: bound(CONVERSATIONS, name) for name in (*ADVANCED_COLUMNS, "updated_at")})
)


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: CampaignRecord) -> CampaignRecord:
        self._session.add(record)
        await self._session.flush()
        return record

    async def by_reference(self, reference: str) -> CampaignRecord | None:
        """A campaign by numeric id or by slug, as officials type it on the command line."""
        if reference.isdigit():
            return await self._session.get(CampaignRecord, int(reference))
        result = await self._session.execute(select(CampaignRecord).where(col(CampaignRecord.slug) == reference))
        record: CampaignRecord | None = result.scalar_one_or_none()
        return record

    async def get(self, campaign_id: int) -> CampaignRecord:
        return await self._session.get_one(CampaignRecord, campaign_id)

    async def slug_taken(self, slug: str) -> bool:
        return await self.by_reference(slug) is not None

    async def due_to_start(self, now: datetime) -> list[CampaignRecord]:
        result = await self._session.execute(
            select(CampaignRecord)
            .where(col(CampaignRecord.status) == "scheduled")
            .where(col(CampaignRecord.starts_at) <= now)
            .order_by(col(CampaignRecord.id))
        )
        return list(result.scalars())

    async def due_to_close(self, now: datetime) -> list[CampaignRecord]:
        result = await self._session.execute(
            select(CampaignRecord)
            .where(col(CampaignRecord.status).in_(("scheduled", "active", "paused")))
            .where(col(CampaignRecord.closes_at) <= now)
            .order_by(col(CampaignRecord.id))
        )
        return list(result.scalars())

    async def set_status(self, campaign_id: int, status: str, *, now: datetime) -> CampaignRecord:
        record = await self.get(campaign_id)
        if record.status != status:  # told to webhook subscribers with the change, in its transaction
            facts = {"from": record.status, "to": status}
            await record_event(self._session, CAMPAIGN_STATUS_CHANGED, campaign_id=campaign_id, facts=facts, now=now)
        record.status = status
        if status == "active" and record.launched_at is None:
            record.launched_at = now
        if status == "closed":
            record.closed_at = now
        record.paused_at = now if status == "paused" else None
        if status != "paused":
            record.paused_because = None
        self._session.add(record)
        await self._session.flush()
        return record

    async def add_spent(self, campaign_id: int, amount: float) -> None:
        """One UPDATE, so workers sending at once never lose each other's costs."""
        await self._session.execute(
            update(CampaignRecord)
            .where(col(CampaignRecord.id) == campaign_id)
            .values(spent=CampaignRecord.spent + amount)
        )

    async def all(self) -> list[CampaignRecord]:
        result = await self._session.execute(select(CampaignRecord).order_by(col(CampaignRecord.id)))
        return list(result.scalars())


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def start_once(
        self,
        *,
        campaign_id: int,
        resident_id: int,
        contact_id: int,
        respondent: str,
        state: dict[str, Any],
        status: str,
        now: datetime,
    ) -> int | None:
        """Open the conversation; None when this resident already has one in this campaign."""
        statement = (
            dialect.insert(self._session, Conversation)
            .values(
                campaign_id=campaign_id,
                resident_id=resident_id,
                contact_id=contact_id,
                respondent=respondent,
                state=state,
                status=status,
                started_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["campaign_id", "resident_id"])
            .returning(Conversation.id)
        )
        inserted: int | None = (await self._session.execute(statement)).scalar_one_or_none()
        return inserted

    async def start_many(self, campaign_id: int, conversations: Sequence[NewConversation], *, now: datetime) -> None:
        """Open these conversations set-based (storage.bulk). None of the residents may have one in the
        campaign yet (the caller checked, in this transaction): a clash is refused, not skipped."""
        records = [(campaign_id, *new, now, now, 0) for new in conversations]
        await insert_records(self._session, Conversation.__table__, _NEW_CONVERSATION_COLUMNS, records)  # type: ignore[attr-defined]

    async def contacts_with_active(self, contact_ids: Collection[int]) -> set[int]:
        """Those of `contact_ids` held by an active conversation (of any campaign)."""
        result = await self._session.execute(
            select(col(Conversation.contact_id))
            .where(among(col(Conversation.contact_id), contact_ids))
            .where(col(Conversation.status) == "active")
        )
        return set(result.scalars()).intersection(contact_ids)

    async def active_for_contact(self, contact_id: int) -> Conversation | None:
        """The open conversation on this address, locked until the transaction ends (PostgreSQL;
        SQLite's transactions are already serialised)."""
        result = await self._session.execute(
            select(Conversation)
            .where(col(Conversation.contact_id) == contact_id)
            .where(col(Conversation.status) == "active")
            .order_by(col(Conversation.started_at))
            .limit(1)
            .with_for_update()
        )
        conversation: Conversation | None = result.scalar_one_or_none()
        return conversation

    async def get(self, conversation_id: int) -> Conversation:
        return await self._session.get_one(Conversation, conversation_id)

    async def save(self, conversation: Conversation, *, now: datetime) -> None:
        conversation.updated_at = now
        self._session.add(conversation)
        await self._session.flush()

    async def advance(self, conversation: Conversation, changes: Mapping[str, Any], *, now: datetime) -> None:
        """Write `changes` (of ADVANCED_COLUMNS) to a conversation loaded and locked in this transaction,
        by one prebuilt UPDATE instead of the ORM's flush; the loaded object is told, without being made
        dirty (nothing writes it twice). Columns not in `changes` are written as loaded."""
        assert conversation.id is not None and set(changes) <= set(ADVANCED_COLUMNS)
        values = {name: changes[name] if name in changes else getattr(conversation, name) for name in ADVANCED_COLUMNS}
        await run(self._session, _ADVANCE, {**values, "updated_at": now, "conversation_id": conversation.id})
        for name, value in (*values.items(), ("updated_at", now)):
            set_committed_value(conversation, name, value)

    async def of_resident(self, campaign_id: int, resident_id: int) -> Conversation | None:
        result = await self._session.execute(
            select(Conversation)
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(col(Conversation.resident_id) == resident_id)
            .with_for_update()
        )
        conversation: Conversation | None = result.scalar_one_or_none()
        return conversation

    async def residents_among(self, campaign_id: int, resident_ids: Collection[int]) -> set[int]:
        """Those of `resident_ids` with a conversation in the campaign (whatever its status)."""
        result = await self._session.execute(
            select(col(Conversation.resident_id))
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(among(col(Conversation.resident_id), resident_ids))
        )
        return set(result.scalars()).intersection(resident_ids)

    async def has_active_on_contact(self, contact_id: int) -> bool:
        result = await self._session.execute(
            select(col(Conversation.id))
            .where(col(Conversation.contact_id) == contact_id)
            .where(col(Conversation.status) == "active")
            .limit(1)
        )
        return result.first() is not None

    async def oldest_waiting_on_contact(self, contact_id: int) -> Conversation | None:
        """The next conversation an address owes, among campaigns still running."""
        result = await self._session.execute(
            select(Conversation)
            .join(CampaignRecord, col(CampaignRecord.id) == col(Conversation.campaign_id))
            .where(col(Conversation.contact_id) == contact_id)
            .where(col(Conversation.status) == "waiting")
            .where(col(CampaignRecord.status).in_(("active", "paused")))
            .order_by(col(Conversation.started_at), col(Conversation.id))
            .limit(1)
            .with_for_update(of=Conversation)
        )
        conversation: Conversation | None = result.scalar_one_or_none()
        return conversation

    async def latest_ended_on_contact(self, contact_id: int) -> Conversation | None:
        """The last conversation on this address that ended without the resident finishing it."""
        result = await self._session.execute(
            select(Conversation)
            .where(col(Conversation.contact_id) == contact_id)
            .where(col(Conversation.status).in_(("closed", "expired")))
            .order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
            .limit(1)
        )
        conversation: Conversation | None = result.scalar_one_or_none()
        return conversation

    async def due_for_reminder(self, now: datetime, *, limit: int) -> list[Conversation]:
        return await self._due(col(Conversation.next_reminder_at), now, limit)

    async def due_to_expire(self, now: datetime, *, limit: int) -> list[Conversation]:
        return await self._due(col(Conversation.expires_at), now, limit)

    async def _due(self, moment: Any, now: datetime, limit: int) -> list[Conversation]:
        """Active conversations of running campaigns whose `moment` has come, locked for the caller
        (SKIP LOCKED: two workers share the work instead of doing it twice)."""
        result = await self._session.execute(
            select(Conversation)
            .join(CampaignRecord, col(CampaignRecord.id) == col(Conversation.campaign_id))
            .where(col(Conversation.status) == "active")
            .where(col(CampaignRecord.status) == "active")
            .where(moment <= now)
            .order_by(moment)
            .limit(limit)
            .with_for_update(of=Conversation, skip_locked=True)
        )
        return list(result.scalars())

    async def postpone_timers(self, campaign_id: int, by: timedelta) -> None:
        """A pause does not eat into residents' time to answer: move their deadlines on."""
        result = await self._session.execute(
            select(Conversation)
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(col(Conversation.status) == "active")
        )
        for conversation in result.scalars():
            if conversation.expires_at is not None:
                conversation.expires_at += by
            if conversation.next_reminder_at is not None:
                conversation.next_reminder_at += by
            if conversation.asked_at is not None:
                conversation.asked_at += by  # later reminders count from here
            self._session.add(conversation)
        await self._session.flush()

    async def close_campaign(self, campaign_id: int, *, now: datetime) -> list[int]:
        """End every open conversation of a closed campaign; the contacts they held."""
        result = await self._session.execute(
            select(Conversation)
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(col(Conversation.status).in_(("active", "waiting")))
        )
        contacts = []
        for conversation in result.scalars():
            if conversation.status == "active":
                contacts.append(conversation.contact_id)
            conversation.status = "closed"
            conversation.updated_at = now
            self._session.add(conversation)
        await self._session.flush()
        return contacts

    async def stop_all_for_resident(self, resident_id: int, *, now: datetime) -> int:
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(Conversation)
            .where(col(Conversation.resident_id) == resident_id)
            .where(col(Conversation.status).in_(("active", "waiting")))
            .values(status="stopped", updated_at=now)
        )
        return int(result.rowcount)

    async def count_by_status(self, campaign_id: int) -> dict[str, int]:
        result = await self._session.execute(
            select(col(Conversation.status), func.count())
            .where(col(Conversation.campaign_id) == campaign_id)
            .group_by(Conversation.status)
        )
        return {status: count for status, count in result.all()}
