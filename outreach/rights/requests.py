"""A resident's access and erasure requests, as an official makes them for the resident (the CLI's
`outreach resident find | export | erase`, the API's /residents/find, /export, /erase).

The address is read in any form (outreach.rights.addresses) and never logged: log lines name the
resident's pseudonym and counts only. An erasure runs in one transaction (storage.erasure)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from outreach import audit
from outreach.addresses import canonical_address
from outreach.audit import Actor
from outreach.campaigns.pseudonyms import pseudonym_key
from outreach.campaigns.recruitment import RECRUITED_VIA, RECRUITMENT_SOURCE
from outreach.clock import Clock
from outreach.errors import CommandError
from outreach.privacy.scrubber import scrub
from outreach.rights.addresses import address_forms
from outreach.settings import Settings
from storage import inbound_queue
from storage.address_keys import address_keys, address_of
from storage.db import SessionFactory, read_session
from storage.erasure import Erased, erase_resident
from storage.resident_records import resident_record, residents_with
from storage.suppression import address_digest
from storage.tables import ContactAddress, Conversation, Resident, Response

log = logging.getLogger(__name__)


class NotOneResident(CommandError):
    """An erasure must name exactly one resident: none has the address, or its forms name several."""

    def __init__(self, found: int) -> None:
        self.found = found
        super().__init__(
            "no resident has this address"
            if not found
            else f"this address names {found} residents: give it in a form that names one"
            " (a phone number with its + prefix, or the email)"
        )


@dataclass(frozen=True)
class FoundResident:
    """A resident an address names, as an official may see them: no address, only what they hold."""

    resident: str  # the resident's pseudonym
    channels: list[str]  # the kinds of address they have
    campaigns: int  # campaigns that opened a conversation with them
    answers: int


@dataclass(frozen=True)
class Erasure:
    resident: str
    erased: Erased
    spooled: int | None = 0  # their messages removed from the spool; None: the spool stayed busy
    queued: int = 0  # their messages removed from the inbound queue (stored, not yet handled)


class Spool(Protocol):
    """The inbound spool (outreach.inbound.spool.InboundSpool), as an erasure reaches it."""

    async def forget(self, addresses: Collection[tuple[str, str]]) -> int | None: ...


def erasure_details(erased: Erased) -> dict[str, audit.DetailValue]:
    """What the audit log keeps of an erasure: counts only."""
    return {
        "addresses": erased.addresses,
        "campaigns": erased.campaigns,
        "answers": erased.answers,
        "messages_received": erased.messages_received,
        "messages_sent": erased.messages_sent,
        "suppressed": erased.suppressed,
        "webhook_events": erased.webhook_events,
    }


class ResidentRequests:
    def __init__(
        self, sessions: SessionFactory, settings: Settings, *, clock: Clock, spool: Spool | None = None
    ) -> None:
        """`spool`: the inbound spool an erasure removes the resident's waiting messages from (the
        services' own; None where there is none to reach, as for retention's inactive residents)."""
        self._sessions, self._settings, self._clock, self._spool = sessions, settings, clock, spool

    @property
    def kept_attributes(self) -> Collection[str]:
        """What anonymised answers keep: the attributes allowed out, and how residents were recruited."""
        return {*self._settings.export_attributes, RECRUITED_VIA, RECRUITMENT_SOURCE}

    async def _residents(self, address: str) -> list[int]:
        forms = address_forms(address, self._settings.default_region)
        async with read_session(self._sessions) as session:
            return await residents_with(session, forms)

    async def find(self, address: str, *, actor: Actor) -> list[FoundResident]:
        found = []
        for resident_id in await self._residents(address):
            async with read_session(self._sessions) as session:
                resident = await session.get_one(Resident, resident_id)
                channels = await session.execute(
                    select(col(ContactAddress.channel)).where(col(ContactAddress.resident_id) == resident_id)
                )
                campaigns = await session.execute(
                    select(func.count()).select_from(Conversation).where(col(Conversation.resident_id) == resident_id)
                )
                answers = await session.execute(
                    select(func.count()).select_from(Response).where(col(Response.resident_id) == resident_id)
                )
                found.append(
                    FoundResident(
                        resident.pseudonym,
                        sorted(set(channels.scalars())),
                        int(campaigns.scalar_one()),
                        int(answers.scalar_one()),
                    )
                )
        log.info("access request: find matched %d resident(s)", len(found))
        await self._audit(actor, audit.RESIDENT_FIND, [resident.resident for resident in found])
        return found

    async def _audit(self, actor: Actor, action: str, pseudonyms: list[str]) -> None:
        """A read, recorded by the pseudonyms it named (never the address asked for)."""
        target = pseudonyms[0] if len(pseudonyms) == 1 else None
        details: dict[str, audit.DetailValue] = {"residents": len(pseudonyms), "pseudonyms": pseudonyms}
        await audit.record_apart(self._sessions, actor, action, "resident", target, details, at=self._clock())

    async def export(self, address: str, *, actor: Actor) -> list[dict[str, Any]]:
        """Everything held about each resident the address names (normally one)."""
        records = []
        for resident_id in await self._residents(address):
            async with read_session(self._sessions) as session:
                records.append(await resident_record(session, resident_id))
        pseudonyms = [str(record["resident"]) for record in records]
        log.info("access request: exported %d resident(s): %s", len(records), pseudonyms)
        await self._audit(actor, audit.RESIDENT_EXPORT, pseudonyms)
        return records

    async def erase(self, address: str, *, actor: Actor) -> Erasure:
        """Erase the one resident the address names; NotOneResident when it names none or several."""
        forms = address_forms(address, self._settings.default_region)
        async with self._sessions() as session, session.begin():
            residents = await residents_with(session, forms)
            if len(residents) != 1:
                raise NotOneResident(len(residents))
            contacts = await session.execute(
                select(ContactAddress).where(col(ContactAddress.resident_id) == residents[0])
            )
            # The addresses themselves, decrypted: the spool's waiting messages name them in the clear.
            held = [
                (contact.channel, canonical_address(contact.channel, address_of(session, contact)))
                for contact in contacts.scalars()
            ]
            pseudonym, erased = await self.erase_in(session, residents[0])
            # Removed with the erasure: handled after it, they would come back as a stranger's messages.
            keys = address_keys(session)
            queued = await inbound_queue.forget(session, {keys.index(channel, address) for channel, address in held})
            await audit.record(
                session, actor, audit.RESIDENT_ERASE, "resident", pseudonym, erasure_details(erased), at=self._clock()
            )
        # After the commit: a message removed for an erasure that then failed would be lost.
        spooled = await self._spool.forget(held) if self._spool is not None else 0
        if spooled is None:
            log.warning(
                "erasure: resident %s: the spool stayed busy; its waiting messages arrive as a stranger's", pseudonym
            )
        log.info(
            "erasure: resident %s erased: %d address(es), %d answer(s) anonymised in %d campaign(s),"
            " %d message(s) received and %d sent cleared, %d address(es) kept suppressed,"
            " %d webhook event(s) about them deleted, %s waiting message(s) removed from the spool and %d from"
            " the inbound queue",
            pseudonym,
            erased.addresses,
            erased.answers,
            erased.campaigns,
            erased.messages_received,
            erased.messages_sent,
            erased.suppressed,
            erased.webhook_events,
            spooled,
            queued,
        )
        return Erasure(pseudonym, erased, spooled, queued)

    async def erase_in(self, session: AsyncSession, resident_id: int) -> tuple[str, Erased]:
        """Erase the resident in the caller's transaction (an erasure request, or retention's inactive
        residents): their pseudonym, and what was done."""
        region = self._settings.default_region
        pseudonym = (await session.get_one(Resident, resident_id)).pseudonym
        key = await pseudonym_key(session, self._settings.pseudonym_key(), now=self._clock())
        erased = await erase_resident(
            session,
            resident_id,
            now=self._clock(),
            kept=self.kept_attributes,
            scrub=lambda text: scrub(text, region=region).text,
            suppression_digest=lambda channel, written: address_digest(key, channel, written),
        )
        return pseudonym, erased
