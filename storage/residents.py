"""Residents and their contact addresses (the one table that holds personal data)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Select, String, Table, bindparam, cast, func, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from storage import dialect
from storage.address_keys import address_keys
from storage.bulk import insert_rows, next_ids
from storage.consent_ledger import Because, Change, ConsentLedger
from storage.consent_ledger import row as ledger_row
from storage.on_match import OnMatch as OnMatch  # re-exported: where importers have always found it
from storage.pseudonyms import new_pseudonym, new_pseudonyms
from storage.statements import run
from storage.tables import ContactAddress, Resident

A = TypeVar("A")  # an address as a query reads it (an ORM row or plain columns)
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")  # a query over contact_addresses


@dataclass(frozen=True)
class AddressInput:
    channel: str
    address: str
    consent_source: str | None
    consent_at: datetime | None


@dataclass(frozen=True)
class NewResident:
    """A resident none of whose addresses is stored yet (ResidentRepository.create_many)."""

    addresses: Sequence[AddressInput]
    language: str
    attributes: Mapping[str, Any]


class Member(NamedTuple):
    """A resident of a launch page, as read for it: what opening their conversation needs, without
    the cost of an ORM object (a city's launch reads half a million). Residents with the same
    attributes share one dict: read it, never change it."""

    id: int
    pseudonym: str
    language: str
    attributes: dict[str, Any]


class MemberAddress(NamedTuple):
    """The address a launch page asks a member at (their most preferred reachable one)."""

    id: int
    resident_id: int
    channel: str
    sealed: str | None = None  # the address, sealed (storage.address_keys), when the scan was asked for it


@dataclass(frozen=True)
class MembersScan:
    """A launch's page of its audience (ResidentRepository.audience_members)."""

    page: list[tuple[Member, MemberAddress]]
    after_id: int | None
    scanned: int


class AddressConflict(Exception):
    """The addresses of one import row already belong to different residents."""


class Upserted(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def _shared(shared: dict[Any, dict[str, Any]], attributes: dict[str, Any]) -> dict[str, Any]:
    """The one dict of these attributes among `shared` (a register's residents have a few hundred
    combinations of district, age band and source); unshared when a value is not hashable."""
    try:
        return shared.setdefault(tuple(attributes.items()), attributes)
    except TypeError:
        return attributes


_CONTACTS: Table = ContactAddress.__table__  # type: ignore[attr-defined]
_NOTE_INBOUND = (
    update(_CONTACTS)
    .where(_CONTACTS.c.id == bindparam("contact_id"))
    .values(last_inbound_at=bindparam("now", type_=_CONTACTS.c.last_inbound_at.type), unreachable_at=None)
)


class ResidentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._keys = address_keys(session)
        # Each address's blind index computed once: an import's batch asks who owns its addresses, and an
        # upsert looks its addresses up, then each writes them (a repository lives for one transaction,
        # so this holds one batch's addresses).
        self._indexes: dict[tuple[str, str], str] = {}

    def _index(self, channel: str, address: str) -> str:
        key = (channel, address)
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = self._keys.index(channel, address)
        return index

    async def upsert(
        self,
        *,
        addresses: Sequence[AddressInput],
        language: str,
        attributes: Mapping[str, Any],
        now: datetime,
        because: Because,
        on_match: OnMatch = OnMatch.MERGE,
        set_once: Mapping[str, Any] | None = None,
    ) -> tuple[Resident, Upserted]:
        """Create the resident, or do `on_match` to the one who already owns any of these addresses.

        `set_once` are attributes written when they are missing and never overwritten (where a resident
        was recruited). Every consent set or changed is recorded in the consent ledger, `because`.
        Returns the resident and what was done.
        """
        consented: list[tuple[ContactAddress, AddressInput]] = []
        existing = await self._contacts_by_addresses(addresses)
        owners = {contact.resident_id for contact in existing.values()}
        if not owners:
            resident = Resident(
                pseudonym=new_pseudonym(),
                language=language,
                attributes={**attributes, **(set_once or {})},
                created_at=now,
                updated_at=now,
            )
            self._session.add(resident)
            await self._session.flush()
            assert resident.id is not None
            for given in addresses:
                created = ContactAddress(
                    resident_id=resident.id,
                    channel=given.channel,
                    address_index=self._index(given.channel, given.address),
                    address_sealed=self._keys.seal(given.channel, given.address),
                    consent_source=given.consent_source,
                    consent_at=given.consent_at,
                    created_at=now,
                )
                self._session.add(created)
                if given.consent_at is not None:  # a stranger's /start is stored before any consent
                    consented.append((created, given))
            await self._session.flush()
            await ConsentLedger(self._session).record_stated(consented, because, now=now)
            return resident, Upserted.CREATED
        if on_match is OnMatch.SKIP:  # decided before anything about the owners is looked at
            return await self._session.get_one(Resident, min(owners)), Upserted.UNCHANGED
        if len(owners) > 1:
            raise AddressConflict("these addresses belong to different residents already")
        resident = await self._session.get_one(Resident, owners.pop())
        assert resident.id is not None
        changed = False
        merged = {**resident.attributes, **attributes}
        for key, value in (set_once or {}).items():
            merged[key] = resident.attributes.get(key, value)
        if (resident.language, resident.attributes) != (language, merged):
            resident.language, resident.attributes, resident.updated_at = language, merged, now
            self._session.add(resident)
            changed = True
        for given in addresses:
            contact = existing.get((given.channel, given.address))
            if contact is None and on_match is not OnMatch.MERGE:
                continue  # an address new to this resident is attached only when the official chose to merge
            if contact is None:
                contact = ContactAddress(
                    resident_id=resident.id,
                    channel=given.channel,
                    address_index=self._index(given.channel, given.address),
                    address_sealed=self._keys.seal(given.channel, given.address),
                    created_at=now,
                )
            elif (contact.consent_source, contact.consent_at) == (given.consent_source, given.consent_at):
                continue
            contact.consent_source = given.consent_source
            contact.consent_at = given.consent_at
            self._session.add(contact)
            if given.consent_at is not None or contact.id is not None:  # a new address stated no consent
                consented.append((contact, given))
            changed = True
        await self._session.flush()
        await ConsentLedger(self._session).record_stated(consented, because, now=now)
        return resident, Upserted.UPDATED if changed else Upserted.UNCHANGED

    async def owners_of(self, addresses: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The resident owning each of these (channel, address) pairs that is stored: one query per
        channel, by the (channel, address_index) unique index (each index computed once)."""
        by_channel: dict[str, dict[str, str]] = {}
        for channel, address in addresses:
            by_channel.setdefault(channel, {}).setdefault(self._index(channel, address), address)
        owners: dict[tuple[str, str], int] = {}
        for channel, wanted in by_channel.items():
            result = await self._session.execute(
                select(col(ContactAddress.address_index), col(ContactAddress.resident_id))
                .where(col(ContactAddress.channel) == channel)
                .where(dialect.one_of(self._session, col(ContactAddress.address_index), sorted(wanted)))
            )
            owners.update(((channel, wanted[index]), resident_id) for index, resident_id in result.all())
        return owners

    async def create_many(
        self,
        residents: Sequence[NewResident],
        *,
        now: datetime,
        because: Because,
        set_once: Mapping[str, Any] | None = None,
    ) -> None:
        """Create residents whose addresses nobody owns (the caller checked, in this transaction), in
        three set-based writes: as `upsert` would create each of them (their consents in the ledger
        too), without a statement per row."""
        ids = await next_ids(self._session, Resident.__table__, len(residents))  # type: ignore[attr-defined]
        contact_ids = iter(
            await next_ids(
                self._session,
                ContactAddress.__table__,  # type: ignore[attr-defined]
                sum(len(new.addresses) for new in residents),
            )
        )
        resident_rows: list[dict[str, Any]] = []
        contact_rows: list[dict[str, Any]] = []
        consent_rows: list[dict[str, Any]] = []
        pseudonyms = new_pseudonyms(len(residents))
        shared: dict[Any, dict[str, Any]] = {}  # equal attributes, one dict: stored as JSON once a batch
        for resident_id, pseudonym, new in zip(ids, pseudonyms, residents, strict=True):
            resident_rows.append(
                {
                    "id": resident_id,
                    "pseudonym": pseudonym,
                    "language": new.language,
                    "attributes": _shared(shared, {**new.attributes, **(set_once or {})}),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for given in new.addresses:
                contact_id = next(contact_ids)
                contact_rows.append(
                    {
                        "id": contact_id,
                        "resident_id": resident_id,
                        "channel": given.channel,
                        "address_index": self._index(given.channel, given.address),
                        "address_sealed": self._keys.seal(given.channel, given.address),
                        "consent_source": given.consent_source,
                        "consent_at": given.consent_at,
                        "created_at": now,
                    }
                )
                if given.consent_at is not None:
                    consent_rows.append(
                        ledger_row(contact_id, Change.OPT_IN, because, now, given.consent_at, given.consent_source)
                    )
        await insert_rows(self._session, Resident.__table__, resident_rows)  # type: ignore[attr-defined]
        await insert_rows(self._session, ContactAddress.__table__, contact_rows)  # type: ignore[attr-defined]
        await ConsentLedger(self._session).record_rows(consent_rows)

    async def _contacts_by_addresses(self, addresses: Sequence[AddressInput]) -> dict[tuple[str, str], ContactAddress]:
        found: dict[tuple[str, str], ContactAddress] = {}
        for given in addresses:
            contact = await self.contact_by_address(given.channel, given.address)
            if contact is not None:
                found[(given.channel, given.address)] = contact
        return found

    async def contact_by_address(self, channel: str, address: str) -> ContactAddress | None:
        result = await self._session.execute(
            select(ContactAddress)
            .where(col(ContactAddress.channel) == channel)
            .where(col(ContactAddress.address_index) == self._index(channel, address))
        )
        contact: ContactAddress | None = result.scalar_one_or_none()
        return contact

    async def contact(self, contact_id: int) -> ContactAddress:
        return await self._session.get_one(ContactAddress, contact_id)

    async def get(self, resident_id: int) -> Resident:
        return await self._session.get_one(Resident, resident_id)

    async def opt_out_everywhere(self, resident_id: int, *, now: datetime, because: Because) -> None:
        """STOP on any address silences every address of that resident (each in the ledger)."""
        result = await self._session.execute(
            update(ContactAddress)
            .where(col(ContactAddress.resident_id) == resident_id)
            .where(col(ContactAddress.opted_out_at).is_(None))
            .values(opted_out_at=now)
            .returning(col(ContactAddress.id))
        )
        await ConsentLedger(self._session).record(result.scalars(), Change.OPT_OUT, because, now=now)

    async def opt_out_contact(self, contact_id: int, *, now: datetime, because: Because) -> None:
        result = await self._session.execute(
            update(ContactAddress)
            .where(col(ContactAddress.id) == contact_id)
            .where(col(ContactAddress.opted_out_at).is_(None))
            .values(opted_out_at=now)
            .returning(col(ContactAddress.id))
        )
        await ConsentLedger(self._session).record(result.scalars(), Change.OPT_OUT, because, now=now)

    async def consent(self, contact: ContactAddress, *, source: str, now: datetime, because: Because) -> None:
        """The resident's own yes on this address (self-enrolment): consented now, opted in again
        after an earlier no; the ledger keeps what they were shown (`because.notice`)."""
        assert contact.id is not None
        contact.consent_source, contact.consent_at, contact.opted_out_at = source, now, None
        self._session.add(contact)
        await ConsentLedger(self._session).record([contact.id], Change.OPT_IN, because, now=now)

    async def reachable_contacts(self, resident_id: int, channels: Sequence[str]) -> list[ContactAddress]:
        """The resident's consented, working addresses on these channels, in the channels' order."""
        result = await self._session.execute(
            select(ContactAddress)
            .where(col(ContactAddress.resident_id) == resident_id)
            .where(col(ContactAddress.channel).in_(channels))
            .where(col(ContactAddress.opted_out_at).is_(None))
            .where(col(ContactAddress.unreachable_at).is_(None))
            .where(col(ContactAddress.consent_at).is_not(None))
        )
        order = {channel: rank for rank, channel in enumerate(channels)}
        return sorted(result.scalars(), key=lambda contact: order[contact.channel])

    async def mark_unreachable(self, contact_id: int, *, now: datetime) -> None:
        await self._session.execute(
            update(ContactAddress)
            .where(col(ContactAddress.id) == contact_id)
            .where(col(ContactAddress.unreachable_at).is_(None))
            .values(unreachable_at=now)
        )

    async def note_inbound(self, contact: ContactAddress, *, now: datetime) -> None:
        """The resident just wrote from this address (it works, and it opens reply windows). One
        statement built once (a reply's path); the loaded row is told too, without making it dirty."""
        await run(self._session, _NOTE_INBOUND, {"contact_id": contact.id, "now": now})
        set_committed_value(contact, "last_inbound_at", now)
        set_committed_value(contact, "unreachable_at", None)

    async def opt_in_contact(self, contact_id: int, *, now: datetime, because: Because) -> None:
        """START: writing resumes on an address that had opted out (in the ledger; nothing when it had not)."""
        result = await self._session.execute(
            update(ContactAddress)
            .where(col(ContactAddress.id) == contact_id)
            .where(col(ContactAddress.opted_out_at).is_not(None))
            .values(opted_out_at=None)
            .returning(col(ContactAddress.id))
        )
        await ConsentLedger(self._session).record(result.scalars(), Change.OPT_IN, because, now=now)

    async def audience_members(
        self,
        *,
        where: Mapping[str, Sequence[str]],
        channels: Sequence[str],
        after_id: int,
        limit: int,
        sealed: bool = False,
    ) -> MembersScan:
        """One page of residents (in id order, `limit` scanned) who match `where`, each with their most
        preferred reachable address (`sealed`: with the address, sealed), as plain rows: a launch, a
        preview and a status read half a million, so no ORM objects.

        `where` compares attributes (and `language`) for equality with any listed value; the match runs
        in Python so that JSON attributes behave the same on SQLite and PostgreSQL."""
        # The attributes as their JSON text, decoded once per distinct text: a register's residents
        # share a few hundred combinations of district, age band and the like. Run on the connection
        # (Core rows, not the ORM's result machinery). Ids: primary keys, never None.
        connection = await self._session.connection()
        rows: Sequence[Any] = (
            await connection.execute(
                select(
                    col(Resident.id),
                    col(Resident.pseudonym),
                    col(Resident.language),
                    cast(col(Resident.attributes), String),
                )
                .where(col(Resident.id) > after_id)
                .order_by(col(Resident.id))
                .limit(limit)
            )
        ).all()
        if not rows:
            return MembersScan([], None, 0)
        last_id = rows[-1][0]
        decoded: dict[str, dict[str, Any]] = {}
        members = []
        for resident_id, pseudonym, language, attributes in rows:
            if attributes not in decoded:
                decoded[attributes] = json.loads(attributes)
            members.append(Member(resident_id, pseudonym, language, decoded[attributes]))
        matching = {member.id: member for member in members if _matches(member, where)}
        columns = select(
            col(ContactAddress.id),
            col(ContactAddress.resident_id),
            col(ContactAddress.channel),
            col(ContactAddress.address_sealed) if sealed else null(),
        )
        reachable = _reachable(columns, channels, matching, after_id, last_id, len(members))
        contacts: Sequence[Any] = (await connection.execute(reachable)).all()
        addresses = [
            (resident_id, channel, MemberAddress(contact_id, resident_id, channel, address))
            for contact_id, resident_id, channel, address in contacts
        ]
        best = _most_preferred(addresses, matching, channels)
        page = [(matching[resident_id], best[resident_id]) for resident_id in sorted(best)]
        return MembersScan(page, last_id, len(members))

    async def with_contacts(self, pairs: Sequence[tuple[int, int]]) -> list[tuple[Resident, ContactAddress]]:
        """The residents and addresses of (resident id, contact id) pairs, as ORM objects, in that order."""
        residents = {
            resident.id: resident
            for resident in (
                await self._session.execute(select(Resident).where(col(Resident.id).in_([r for r, _ in pairs])))
            ).scalars()
        }
        contacts = {
            contact.id: contact
            for contact in (
                await self._session.execute(
                    select(ContactAddress).where(col(ContactAddress.id).in_([c for _, c in pairs]))
                )
            ).scalars()
        }
        return [(residents[resident_id], contacts[contact_id]) for resident_id, contact_id in pairs]

    async def count(self, *, after_id: int = 0) -> int:
        """Residents in the register (those past `after_id`: what a launch's cursor has still to go through)."""
        statement = select(func.count()).select_from(Resident).where(col(Resident.id) > after_id)
        return int((await self._session.execute(statement)).scalar_one())


def _matches(resident: Resident | Member, where: Mapping[str, Sequence[str]]) -> bool:
    for attribute, allowed in where.items():
        value = resident.language if attribute == "language" else resident.attributes.get(attribute)
        if value not in allowed:
            return False
    return True


def _reachable(
    statement: S,
    channels: Sequence[str],
    matching: Collection[Any],
    after_id: int,
    last_id: int,
    scanned: int,
) -> S:
    """`statement` (over contact_addresses) narrowed to the addresses a page's matching residents may be
    asked on: a listed channel, not opted out, reachable, consented."""
    statement = (
        # By the resident_id index, never the (channel, address_index) one: `channel || ''` keeps the
        # planner off an index on channel. SQLite without statistics, or with sampled ones (ANALYZE
        # under an analysis_limit, as loads before 2026-12 left them), took a channel to match a few
        # hundred rows and walked every address of the channel for each page: a preview of 500,000
        # residents ran over 5 minutes.
        statement.where(col(ContactAddress.channel).concat("").in_(channels))
        .where(col(ContactAddress.opted_out_at).is_(None))
        .where(col(ContactAddress.unreachable_at).is_(None))
        .where(col(ContactAddress.consent_at).is_not(None))  # nobody is asked without consent
    )
    if 2 * len(matching) >= scanned:  # most of the page: its range of ids, not a list of them
        return statement.where(col(ContactAddress.resident_id) > after_id).where(
            col(ContactAddress.resident_id) <= last_id
        )
    return statement.where(col(ContactAddress.resident_id).in_(list(matching)))


def _most_preferred(
    addresses: Iterable[tuple[int, str, A]], matching: Collection[Any], channels: Sequence[str]
) -> dict[int, A]:
    """Of (resident id, channel, address) triples, each matching resident's address on the channel
    listed first."""
    preference = {channel: rank for rank, channel in enumerate(channels)}
    best: dict[int, tuple[int, A]] = {}
    for resident_id, channel, address in addresses:
        rank = preference[channel]
        if resident_id in matching and (resident_id not in best or rank < best[resident_id][0]):
            best[resident_id] = (rank, address)
    return {resident_id: address for resident_id, (_, address) in best.items()}
