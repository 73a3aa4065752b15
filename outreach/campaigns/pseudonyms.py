"""Respondent pseudonyms: HMAC(secret, resident, campaign).

Stable within a campaign (one respondent's answers belong together), unlinkable across campaigns
(two campaigns' exports cannot be joined on the respondent), and not computable without the
secret (an outsider who knows a resident's id cannot find their answers).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.keys import installation_key

PSEUDONYM_KEY = "pseudonym"


def respondent_pseudonym(secret: str, resident_id: int, campaign_id: int) -> str:
    # hmac.digest: the one-shot C path (a launch makes half a million), the same bytes as hmac.new.
    digest = hmac.digest(secret.encode(), f"{campaign_id}:{resident_id}".encode(), hashlib.sha256)
    return "p" + digest.hex()[:20]


async def pseudonym_key(session: AsyncSession, secret: str | None, *, now: datetime) -> str:
    """The pseudonym key: the setting (OUTREACH_PSEUDONYM_SECRET) when given, else the installation's
    random one kept in the database. Respondent ids and suppressed addresses' hashes are keyed by it."""
    return secret or await installation_key(session, PSEUDONYM_KEY, now=now)
