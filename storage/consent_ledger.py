"""The consent ledger: an append-only record, per address, of every opt-in and opt-out.

Written only by the repository methods that change consent (storage.residents), in the same
transaction, so the ledger and the address's columns never disagree. There is no update and no
delete here; erasure (another room) deletes an erased address's rows or detaches them
(`contact_id` NULL), the one UPDATE the trigger of revision 0024 lets through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.bulk import insert_rows
from storage.tables import CONSENT_DETAIL_LENGTH, ConsentRecord, ContactAddress

TABLE = ConsentRecord.__table__  # type: ignore[attr-defined]


class Change(StrEnum):
    OPT_IN = "opt_in"  # consent given or renewed, or writing resumed (START)
    OPT_OUT = "opt_out"  # STOP, an unsubscribe link, a "no", a provider's opt-out


class Source(StrEnum):
    """How a change came: who said it, through what."""

    IMPORT = "import"  # `outreach residents import`: the file states the consent
    API = "api"  # POST /api/v1/residents: the calling system states it
    SELF_ENROLMENT = "self_enrolment"  # the resident's answer in the /start conversation
    KEYWORD = "keyword"  # a whole-message STOP or START
    COMMAND = "command"  # Telegram's /stop or /start
    UNSUBSCRIBE_LINK = "unsubscribe_link"  # the one-click link of an email
    PROVIDER = "provider"  # the provider opted the address out (Twilio's STOP handling, a 21610 refusal)
    BEFORE_LEDGER = "before_ledger"  # what an address's columns said when the ledger began (revision 0024)


@dataclass(frozen=True)
class Because:
    """Why consent changes: recorded with each address the change touches."""

    source: Source
    detail: str | None = None
    channel: str | None = None
    notice: str | None = None
    inbound_event_id: int | None = None


class Stated(Protocol):
    """A consent as a source states it (storage.residents.AddressInput)."""

    @property
    def consent_source(self) -> str | None: ...

    @property
    def consent_at(self) -> datetime | None: ...


class ConsentLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self,
        contact_ids: Iterable[int | None],
        change: Change,
        because: Because,
        *,
        now: datetime,
        stated_at: datetime | None = None,
        notice: str | None = None,
    ) -> None:
        """One row per address (the ids an UPDATE … RETURNING changed: never None, typed so for the ORM's
        default); `notice` and `stated_at` (an import's statement) override `because`'s."""
        rows = [row(contact_id, change, because, now, stated_at, notice) for contact_id in contact_ids if contact_id]
        await self.record_rows(rows)

    async def record_stated(
        self, written: Iterable[tuple[ContactAddress, Stated]], because: Because, *, now: datetime
    ) -> None:
        """Consents as a source states them, per address just written (flushed: it has its id): an
        opt-in, or an opt-out where a stated consent was taken away (no consent_at)."""
        await self.record_rows(
            [
                row(contact.id, Change.OPT_OUT if given.consent_at is None else Change.OPT_IN, because, now)
                | {"stated_at": given.consent_at, "notice": given.consent_source}
                for contact, given in written
                if contact.id is not None
            ]
        )

    async def record_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rows made by `row`, set-based (an import's batch)."""
        await insert_rows(self._session, TABLE, rows)

    async def history(self, resident_id: int) -> list[tuple[ConsentRecord, str]]:
        """Every change of the resident's addresses, oldest first, each with the address's channel
        (for an access request's export: it holds no address)."""
        result = await self._session.execute(
            select(ConsentRecord, col(ContactAddress.channel))
            .join(ContactAddress, col(ContactAddress.id) == col(ConsentRecord.contact_id))
            .where(col(ContactAddress.resident_id) == resident_id)
            .order_by(col(ConsentRecord.at), col(ConsentRecord.id))
        )
        return [(record, channel) for record, channel in result.all()]


def row(
    contact_id: int,
    change: Change,
    because: Because,
    now: datetime,
    stated_at: datetime | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """A ledger row as insert_rows takes it."""
    return {
        "contact_id": contact_id,
        "change": change.value,
        "source": because.source.value,
        "detail": None if because.detail is None else because.detail[:CONSENT_DETAIL_LENGTH],
        "channel": because.channel,
        "notice": notice if notice is not None else because.notice,
        "stated_at": stated_at,
        "inbound_event_id": because.inbound_event_id,
        "at": now,
    }
