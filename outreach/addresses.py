"""The one form an address is stored, looked up and compared in (import, inbound, find, erasure,
suppression, and any index built over addresses, such as a blind index): `canonical_address`.

An email is compared whole in lower case. Mail servers treat the local part without regard to case
(RFC 5321 allows otherwise; no provider residents use does), and a resident imported as
`Anna.Nowak@x.pl` who writes from `anna.nowak@x.pl` is the same person. Phone numbers are E.164 and
Telegram chat ids digits already (the import's parsers and the providers give them so), so they pass
unchanged.
"""

from __future__ import annotations

EMAIL = "email"


def canonical_address(channel: str, address: str) -> str:
    """`address` of `channel` (sms, whatsapp, telegram, email) as it is stored and looked up."""
    written = address.strip()
    return written.lower() if channel == EMAIL else written
