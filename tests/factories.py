"""Small builders for test data, written through the same repositories the service uses."""

from __future__ import annotations

from datetime import UTC, datetime

from outreach.addresses import canonical_address
from outreach.bootstrap import Services
from storage.address_keys import AddressKeys
from storage.consent_ledger import Because, Source
from storage.residents import AddressInput, ResidentRepository
from storage.tables import ContactAddress, Resident

CONSENT_AT = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


async def add_resident(
    services: Services,
    *,
    phone: str | None = None,
    email: str | None = None,
    telegram: str | None = None,
    whatsapp: str | None = None,
    language: str = "pl",
    **attributes: str,
) -> Resident:
    addresses = [
        AddressInput(channel, canonical_address(channel, address), "test-fixture", CONSENT_AT)  # as an import stores it
        for channel, address in (("sms", phone), ("email", email), ("telegram", telegram), ("whatsapp", whatsapp))
        if address
    ]
    async with services.sessions() as session, session.begin():
        resident, _ = await ResidentRepository(session).upsert(
            addresses=addresses,
            language=language,
            attributes=attributes,
            now=services.clock(),
            because=Because(Source.IMPORT),
        )
    return resident


def address_in_the_clear(services: Services, contact: ContactAddress) -> str:
    """A stored address row's address, decrypted with the services' keys."""
    return AddressKeys(services.keyring).open(contact.channel, contact.address_sealed)
