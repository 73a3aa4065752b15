"""The outbox: messages waiting to be sent, claimed atomically by dispatchers."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, func, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from storage import dialect, sms_spend
from storage.address_keys import address_keys, address_of
from storage.claimed_messages import ClaimedMessage as ClaimedMessage
from storage.claimed_messages import claimed_from_row
from storage.statements import bound, per_dialect, run
from storage.tables import ContactAddress, OutboxMessage
from storage.types import UtcDateTime


@dataclass(frozen=True)
class NewMessage:
    idempotency_key: str
    resident_id: int
    contact_id: int
    kind: str
    text: str
    campaign_id: int | None = None
    choices: Sequence[dict[str, str]] = ()
    choice_style: str = "numbered"
    submit_label: str | None = None
    template: Mapping[str, Any] | None = None
    status: str = "queued"  # or "held" while the campaign is paused
    not_before: datetime | None = None  # e.g. the end of the resident's quiet hours
    quiet_hours: str | None = None
    timezone: str | None = None


def queued_row(message: NewMessage, *, now: datetime) -> dict[str, Any]:
    """The outbox row of a new message, all but its channel (its address's, copied when it is written)."""
    return {
        "idempotency_key": message.idempotency_key,
        "campaign_id": message.campaign_id,
        "resident_id": message.resident_id,
        "contact_id": message.contact_id,
        "kind": message.kind,
        "text": message.text,
        "choices": list(message.choices),
        "choice_style": message.choice_style,
        "submit_label": message.submit_label,
        "template": dict(message.template) if message.template else None,
        "status": message.status,
        "attempts": 0,
        "next_attempt_at": message.not_before or now,
        "quiet_hours": message.quiet_hours,
        "timezone": message.timezone,
        "created_at": now,
    }


@per_dialect
def _enqueue(dialect_name: str) -> Any:
    """One message, once per idempotency key, built once (a reply's path queues one or two)."""
    outbox: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
    contacts: Table = ContactAddress.__table__  # type: ignore[attr-defined]
    names = queued_row(NewMessage("", 0, 0, "", ""), now=datetime.now(UTC))
    # The address's channel, in the same statement: a lane claims by it without a join.
    channel = select(contacts.c.channel).where(contacts.c.id == bindparam("contact_id")).scalar_subquery()
    return (
        dialect.insert_for(dialect_name, outbox)
        .values({**{name: bound(outbox, name) for name in names}, "channel": channel})
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(outbox.c.id)
    )


@dataclass(frozen=True)
class SentMessage:
    idempotency_key: str
    text: str
    choices: list[dict[str, str]]
    choice_style: str
    submit_label: str | None


@dataclass(frozen=True)
class DeliveryChange:
    """A status report that moved a message on: its address, and the status and code it replaced."""

    contact_id: int
    previous_status: str | None
    previous_error: str | None


@dataclass(frozen=True)
class HeldMessage:
    id: int
    idempotency_key: str
    quiet_hours: str | None
    timezone: str | None


def _claim_statement(postgres: bool, channels: str) -> TextClause:
    """The claim, for every channel ("any"), only the named ones ("only") or all but them ("excluding").

    PostgreSQL: a MATERIALIZED CTE takes the due rows with FOR UPDATE SKIP LOCKED before the UPDATE;
    `id IN (SELECT … LIMIT)` could be re-evaluated and claim more or other rows than it locked.
    SQLite: one statement is atomic and the transaction began IMMEDIATE (storage.db), so no two
    processes can claim the same row."""
    return _CLAIMS[(postgres, channels)]


def _build_claim(postgres: bool, channels: str) -> TextClause:
    where = {
        "any": "",
        "only": "AND outbox.channel IN :channels",
        "excluding": "AND outbox.channel NOT IN :channels",
    }[channels]
    due = f"""
        SELECT outbox.id FROM outbox
        WHERE outbox.status = 'queued' AND outbox.next_attempt_at <= :now {where}
        ORDER BY outbox.next_attempt_at, outbox.id
    """
    if postgres:
        sql = f"""
        WITH due AS MATERIALIZED ({due} FOR UPDATE OF outbox SKIP LOCKED LIMIT :limit)
        UPDATE outbox SET status = 'claimed', claimed_by = :worker, claimed_at = :now,
                          attempts = outbox.attempts + 1
        FROM due WHERE outbox.id = due.id
        RETURNING outbox.id
        """
    else:
        sql = f"""
        UPDATE outbox SET status = 'claimed', claimed_by = :worker, claimed_at = :now,
                          attempts = attempts + 1
        WHERE id IN ({due} LIMIT :limit)
        RETURNING id
        """
    statement = text(sql).bindparams(bindparam("now", type_=UtcDateTime()))
    if channels != "any":
        statement = statement.bindparams(bindparam("channels", expanding=True))
    return statement


_CLAIMS = {
    (postgres, channels): _build_claim(postgres, channels)
    for postgres in (True, False)
    for channels in ("any", "only", "excluding")
}


def _sent_as(channel: str, provider_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The message of `channel` its provider knows by `provider_id`: ids are unique only within one
    provider (Telegram's are small integers repeated per chat), never across channels."""
    return col(OutboxMessage.channel) == channel, col(OutboxMessage.provider_id) == provider_id


def _still_claimed(message_id: int, worker: str | None) -> Update:
    """An update of the message; with `worker`, only while that worker still holds its claim (one taken
    over after the lease may be sending elsewhere)."""
    statement = update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
    if worker is None:
        return statement
    return statement.where(col(OutboxMessage.status) == "claimed").where(col(OutboxMessage.claimed_by) == worker)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, message: NewMessage, *, now: datetime) -> bool:
        """Queue a message once per idempotency key; False when that key was queued before."""
        parameters = queued_row(message, now=now)
        result = await run(self._session, _enqueue(self._session), parameters)
        return result.scalar_one_or_none() is not None

    async def claim_due(
        self,
        *,
        worker: str,
        now: datetime,
        limit: int,
        channels: Collection[str] | None = None,
        excluding: Collection[str] = (),
    ) -> list[ClaimedMessage]:
        """Claim up to `limit` due rows, the longest-waiting first; `channels` keeps to those address
        kinds and `excluding` leaves those out (a dispatcher claims for each channel's own pace)."""
        if channels is not None and not channels:
            return []
        is_postgres = dialect.dialect_name(self._session) == "postgresql"
        params: dict[str, Any] = {"worker": worker, "now": now, "limit": limit}
        mode = "any"
        if channels is not None:
            mode, params["channels"] = "only", sorted(channels)
        elif excluding:
            mode, params["channels"] = "excluding", sorted(excluding)
        claim = _claim_statement(is_postgres, mode)
        ids = [row[0] for row in (await self._session.execute(claim, params)).all()]
        if not ids:
            return []
        rows = await self._session.execute(
            select(OutboxMessage, col(ContactAddress.channel), col(ContactAddress.address_sealed))
            .join(ContactAddress, col(ContactAddress.id) == col(OutboxMessage.contact_id))
            .where(col(OutboxMessage.id).in_(ids))
            .order_by(col(OutboxMessage.id))
        )
        keys = address_keys(self._session)  # the sender is where an address is needed: opened here
        return [claimed_from_row(m, channel, keys.open(channel, sealed)) for m, channel, sealed in rows.all()]

    async def mark_sending(self, message_id: int, *, now: datetime, worker: str | None = None) -> bool:
        """The send starts now: from here on, a crash leaves an unknown outcome, never a resend.

        With `worker`, only while that worker still holds the claim: a row taken over after the lease
        (recover_stale) must not be sent by both. False when the claim was lost."""
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            _still_claimed(message_id, worker).values(status="sending", claimed_at=now)
        )
        return int(result.rowcount) == 1

    async def release_claim(self, message_id: int) -> None:
        """Back to the queue untouched: it was claimed, never sent, and the claim was no attempt."""
        await self._session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .where(col(OutboxMessage.status) == "claimed")
            .values(status="queued", claimed_by=None, attempts=OutboxMessage.attempts - 1)
        )

    async def release_claims(self, worker: str) -> int:
        """A worker stopping hands back what it claimed but never started sending."""
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(OutboxMessage)
            .where(col(OutboxMessage.claimed_by) == worker)
            .where(col(OutboxMessage.status) == "claimed")
            .values(status="queued", claimed_by=None, attempts=OutboxMessage.attempts - 1)
        )
        return int(result.rowcount)

    async def recover_stale(self, *, older_than: datetime) -> tuple[int, int]:
        """Take over a crashed worker's rows after its lease: claimed-but-unsent go back to the queue
        (they surely never left); a send that had started has an unknown outcome (never resent)."""
        requeued: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(OutboxMessage)
            .where(col(OutboxMessage.status) == "claimed")
            .where(col(OutboxMessage.claimed_at) < older_than)
            .values(status="queued", claimed_by=None, attempts=OutboxMessage.attempts - 1)
        )
        unknown: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(OutboxMessage)
            .where(col(OutboxMessage.status) == "sending")
            .where(col(OutboxMessage.claimed_at) < older_than)
            .values(status="unknown", error_class="unknown", error_detail="the worker stopped during the send")
        )
        return int(requeued.rowcount), int(unknown.rowcount)

    async def unsend(self, message_id: int, *, worker: str) -> bool:
        """Its start was recorded, but nothing was written to the provider yet: claimed again (to wait
        for a fresh limiter slot out of `sending`, or to be handed back when stopping)."""
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .where(col(OutboxMessage.status) == "sending")
            .where(col(OutboxMessage.claimed_by) == worker)
            .values(status="claimed")
        )
        if int(result.rowcount) != 1:
            return False
        await sms_spend.give_back(self._session, message_id)  # reserved again when its start is recorded again
        return True

    async def mark_sent(self, message_id: int, *, provider_id: str, now: datetime, segments: int | None = None) -> None:
        await self._set(
            message_id, status="sent", provider_id=provider_id, sent_at=now, error_class=None, segments=segments
        )

    async def record_delivery(
        self,
        channel: str,
        provider_id: str,
        *,
        status: str,
        error_code: str | None,
        rank: Callable[[str | None], int],
    ) -> DeliveryChange | None:
        """Apply a provider's status report when it ranks above the stored status (callbacks arrive out of
        order and repeated); the failure code of an earlier report stays unless this one has its own.
        None when no message of `channel` has that provider id, or nothing changed."""
        result = await self._session.execute(
            select(OutboxMessage).where(*_sent_as(channel, provider_id)).with_for_update()
        )
        message = result.scalars().first()
        if message is None or rank(status) <= rank(message.delivery_status):
            return None
        change = DeliveryChange(message.contact_id, message.delivery_status, message.delivery_error)
        message.delivery_status = status
        message.delivery_error = error_code or message.delivery_error
        self._session.add(message)
        await self._session.flush()
        return change

    async def clear_unreachable(self, contact_id: int) -> None:
        """The address is known to work after all (a delivery confirmed after a failure marked it dead)."""
        await self._session.execute(
            update(ContactAddress).where(col(ContactAddress.id) == contact_id).values(unreachable_at=None)
        )

    async def mark_retry(self, message_id: int, *, at: datetime, detail: str) -> None:
        await self._set(message_id, status="queued", next_attempt_at=at, error_class="retryable", error_detail=detail)

    async def mark_failed(self, message_id: int, *, error_class: str, detail: str) -> None:
        await self._set(message_id, status="failed", error_class=error_class, error_detail=detail)

    async def mark_unknown(self, message_id: int, *, detail: str) -> None:
        """The send may or may not have reached the provider: never resent automatically."""
        await self._set(message_id, status="unknown", error_class="unknown", error_detail=detail)

    async def cancel_queued_for_resident(self, resident_id: int) -> int:
        """Drop what has not left yet (after STOP); system replies stay."""
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(OutboxMessage)
            .where(col(OutboxMessage.resident_id) == resident_id)
            .where(col(OutboxMessage.status) == "queued")
            .where(col(OutboxMessage.kind) != "system")
            .values(status="cancelled")
        )
        return int(result.rowcount)

    async def sent_message(self, channel: str, provider_id: str) -> tuple[OutboxMessage, ContactAddress, str] | None:
        """The message of `channel` its provider knows by `provider_id`, its address row and address."""
        result = await self._session.execute(
            select(OutboxMessage, ContactAddress)
            .join(ContactAddress, col(ContactAddress.id) == col(OutboxMessage.contact_id))
            .where(*_sent_as(channel, provider_id))
        )
        row = result.first()
        return None if row is None else (row[0], row[1], address_of(self._session, row[1]))

    async def sent_on_address(self, contact_id: int, provider_id: str | None) -> SentMessage | None:
        """The message a provider knows by `provider_id` on this address (Telegram's message ids are
        per chat, so the address is part of the key): to edit it after a button tap."""
        if provider_id is None:
            return None
        result = await self._session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.contact_id) == contact_id)
            .where(col(OutboxMessage.provider_id) == provider_id)
        )
        row = result.scalars().first()
        if row is None:
            return None
        return SentMessage(
            idempotency_key=row.idempotency_key,
            text=row.text,
            choices=list(row.choices),
            choice_style=row.choice_style,
            submit_label=row.submit_label,
        )

    async def contact_of(self, channel: str, provider_id: str) -> int | None:
        result = await self._session.execute(
            select(col(OutboxMessage.contact_id)).where(*_sent_as(channel, provider_id))
        )
        contact_id: int | None = result.scalars().first()
        return contact_id

    async def defer(self, message_id: int, *, until: datetime, worker: str | None = None) -> None:
        """Put a claimed message back untouched (it fell into quiet hours): the claim was no attempt.

        With `worker`, only while that worker still holds the claim: one taken over after the lease may
        be sending elsewhere, and queued again it would go twice."""
        await self._session.execute(
            _still_claimed(message_id, worker).values(
                status="queued", next_attempt_at=until, attempts=OutboxMessage.attempts - 1, claimed_by=None
            )
        )

    async def sent_to_since(self, contact_id: int, since: datetime) -> tuple[int, datetime | None]:
        """How many campaign messages went to this address after `since`, and the oldest of them
        (system replies, such as a STOP confirmation, do not count)."""
        result = await self._session.execute(
            select(func.count(), func.min(col(OutboxMessage.sent_at)))
            .where(col(OutboxMessage.contact_id) == contact_id)
            .where(col(OutboxMessage.sent_at) > since)  # one sent exactly a day ago no longer counts
            .where(col(OutboxMessage.kind) != "system")
        )
        count, oldest = result.one()
        if isinstance(oldest, str):  # an aggregate skips the column type on SQLite
            oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
        elif oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest

    async def hold(self, message_id: int) -> None:
        """Back to the queue as held (its campaign was paused before it went): not an attempt."""
        await self._session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(status="held", claimed_by=None, attempts=OutboxMessage.attempts - 1)
        )

    async def hold_campaign(self, campaign_id: int) -> int:
        """A paused campaign sends nothing: its queued messages wait as `held`."""
        return await self._move(campaign_id, ("queued",), "held")

    async def cancel_campaign(self, campaign_id: int) -> int:
        """A closed campaign sends nothing more."""
        return await self._move(campaign_id, ("queued", "held"), "cancelled")

    async def held_of_campaign(self, campaign_id: int) -> list[HeldMessage]:
        rows = await self._session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.campaign_id) == campaign_id)
            .where(col(OutboxMessage.status) == "held")
            .order_by(col(OutboxMessage.id))
        )
        return [
            HeldMessage(message.id, message.idempotency_key, message.quiet_hours, message.timezone)
            for message in rows.scalars()
            if message.id is not None
        ]

    async def release(self, message_id: int, *, at: datetime) -> None:
        await self._set(message_id, status="queued", next_attempt_at=at)

    async def _move(self, campaign_id: int, from_statuses: tuple[str, ...], to_status: str) -> int:
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(OutboxMessage)
            .where(col(OutboxMessage.campaign_id) == campaign_id)
            .where(col(OutboxMessage.status).in_(from_statuses))
            .values(status=to_status)
        )
        return int(result.rowcount)

    async def count_waiting_until_later(self, now: datetime) -> int:
        """Queued messages not due yet (held back by quiet hours or waiting for a retry)."""
        result = await self._session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status) == "queued")
            .where(col(OutboxMessage.next_attempt_at) > now)
        )
        return int(result.scalar_one())

    async def count_reminders(self, campaign_id: int) -> int:
        """Reminders the campaign queued (whatever became of them): questions whose key ends in the
        reminder's number, ":r1" to ":r99" (outreach.campaigns.conversations.question_key), so a question
        whose id begins with r is not one; a fallback's copy ("r1via-email") is the same reminder again."""
        key = col(OutboxMessage.idempotency_key)
        result = await self._session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.campaign_id) == campaign_id)
            .where(col(OutboxMessage.kind) == "question")
            .where(key.like("%:r_") | key.like("%:r__"))
        )
        return int(result.scalar_one())

    async def count_by_status(self, campaign_id: int | None = None) -> dict[str, int]:
        statement = select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
        if campaign_id is not None:
            statement = statement.where(col(OutboxMessage.campaign_id) == campaign_id)
        return {status: count for status, count in (await self._session.execute(statement)).all()}

    async def _set(self, message_id: int, **values: Any) -> None:
        await self._session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values))
