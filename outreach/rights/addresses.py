"""An address as an official types it from a resident's request, turned into the forms it is
stored in: E.164 or a national number (an SMS and a WhatsApp address), an email in any case, a
Telegram chat id. The import's own normaliser decides (outreach.campaigns.resident_rows), and an
address it cannot parse is still put in its canonical form (outreach.addresses), so a request finds
exactly what an import or an inbound message stored."""

from __future__ import annotations

from outreach.addresses import EMAIL, canonical_address
from outreach.campaigns.resident_rows import normalised_address


def address_forms(raw: str, region: str) -> list[tuple[str, str]]:
    """The (channel, address) pairs `raw` may be stored as; an email in any case finds its resident."""
    given = raw.strip()
    if "@" in given:
        return [(EMAIL, normalised_address("email", given, region) or canonical_address(EMAIL, given))]
    forms: list[tuple[str, str]] = []
    phone = normalised_address("phone", given, region)
    if phone is not None:
        forms += [("sms", phone), ("whatsapp", phone)]
    chat = normalised_address("telegram_chat_id", given, region)
    if chat is not None:
        forms.append(("telegram", chat))
    return forms
