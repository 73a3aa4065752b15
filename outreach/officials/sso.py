"""Who an SSO login lets in: the active account whose e-mail the provider verified (no account is ever
made here), with the same session as a password login (its idle and absolute expiry) and the same
audit entry, marked as SSO."""

from __future__ import annotations

import secrets
from datetime import datetime

from outreach import audit
from outreach.officials.accounts import OFFICIAL_LOGIN, AccountError, LoggedIn, acting, login_email, token_hash
from outreach.officials.oidc import VerifiedIdentity
from storage.db import SessionFactory
from storage.official_tables import OfficialSession
from storage.officials import OfficialRepository


class SsoRefused(Exception):
    """The provider vouched for someone this service does not let in; `reason` is a key the page words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def sso_log_in(sessions: SessionFactory, identity: VerifiedIdentity, *, now: datetime) -> LoggedIn:
    """A new session for the official the identity names; SsoRefused("unverified" | "unknown")."""
    if identity.email is None or not identity.email_verified:
        raise SsoRefused("unverified")
    try:
        address = login_email(identity.email)
    except AccountError:
        raise SsoRefused("unverified") from None
    session_token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        official = await officials.by_email(address)
        # A deactivated account is refused with the same words as an unknown one: the page does not
        # tell a stranger which addresses once had accounts.
        if official is None or official.id is None or official.deactivated_at is not None:
            raise SsoRefused("unknown")
        await audit.record(session, acting(official), OFFICIAL_LOGIN, "official", official.id, {"by": "sso"}, at=now)
        await officials.open_session(
            OfficialSession(
                token_hash=token_hash(session_token),
                official_id=official.id,
                csrf_token=csrf_token,
                created_at=now,
                last_seen_at=now,
            )
        )
    return LoggedIn(official=official, session_token=session_token, csrf_token=csrf_token)
