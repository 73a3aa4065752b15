"""Who an SSO login lets in: the active account whose e-mail the provider verified (no account is ever
made here), with the same session as a password login (its idle and absolute expiry) and the same
audit entry, marked as SSO. A refused attempt is in the audit log too (`official.login_failed`): under
the account when the provider named an existing one, else under no one (the e-mail of someone without
an account is not kept)."""

from __future__ import annotations

import secrets
from datetime import datetime

from outreach import audit
from outreach.audit import Actor
from outreach.officials.accounts import OFFICIAL_LOGIN, AccountError, LoggedIn, acting, login_email, open_session
from outreach.officials.oidc import VerifiedIdentity
from storage.db import SessionFactory
from storage.official_tables import Official
from storage.officials import OfficialRepository

OFFICIAL_LOGIN_FAILED = "official.login_failed"  # audit action: a refused SSO login
# The actor of a refused login that names no account: nobody signed in, and nothing of who tried.
SSO_VISITOR = Actor("visitor", "sso", "an SSO login naming no account")


class SsoRefused(Exception):
    """The provider vouched for someone this service does not let in; `reason` is a key the page words,
    `account` the deactivated account the e-mail names (for the audit log, never the page)."""

    def __init__(self, reason: str, account: Official | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.account = account


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
        # tell a stranger which addresses once had accounts. (Refused after the transaction ends, whose
        # rollback would expire the account the audit entry names.)
        refused = official is None or official.id is None or official.deactivated_at is not None
        if official is not None and official.id is not None and not refused:
            await audit.record(
                session, acting(official), OFFICIAL_LOGIN, "official", official.id, {"by": "sso"}, at=now
            )
            await open_session(officials, official.id, session_token, csrf_token, now=now)
    if refused or official is None:
        raise SsoRefused("unknown", account=official)
    return LoggedIn(official=official, session_token=session_token, csrf_token=csrf_token)


async def record_failed_sso(
    sessions: SessionFactory, reason: str, *, now: datetime, official: Official | None = None, why: str | None = None
) -> None:
    """The audit entry of a refused SSO login: `reason` a key (cancelled, failed, unverified, unknown,
    deactivated), `why` the check that refused it (the provider's answer or the token's, never who)."""
    details: dict[str, audit.DetailValue] = {"by": "sso", "reason": reason}
    if why is not None:
        details["why"] = why[:200]
    if official is not None and official.id is not None:
        actor, target = acting(official), official.id
    else:
        actor, target = SSO_VISITOR, None
    kind = None if target is None else "official"
    await audit.record_apart(sessions, actor, OFFICIAL_LOGIN_FAILED, kind, target, details, at=now)
