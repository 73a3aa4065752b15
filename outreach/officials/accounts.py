"""Officials' accounts: made by the operator, a password set through a one-time link, logins throttled,
sessions that end when idle and at an absolute limit (issue 21).

Only hashes are stored: the password's argon2id hash (argon2-cffi's defaults, RFC 9106), and the sha256
of a password link's token and of a session's token, so a copy of the database opens no account. The
argon2 work runs in a thread, so a login does not stall the event loop that answers webhooks.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email

from outreach import audit
from outreach.audit import Actor
from outreach.errors import CommandError
from outreach.officials.roles import ROLES
from outreach.settings import Settings
from storage.db import SessionFactory
from storage.official_tables import Official, OfficialSession
from storage.officials import OfficialRepository

PASSWORD_MIN = 12
PASSWORD_MAX = 256  # argon2 takes any length; a cap keeps one login from costing much more than another
# A session's last_seen_at is written at most this often: a page view must not always be a write.
TOUCH_EVERY = timedelta(minutes=1)

_hasher = PasswordHasher()


# Audit actions of accounts (outreach.audit): who made, reset or closed an account, and each login.
OFFICIAL_ADD = "official.add"
OFFICIAL_RESET = "official.reset"
OFFICIAL_DEACTIVATE = "official.deactivate"
OFFICIAL_PASSWORD = "official.password"
OFFICIAL_LOGIN = "official.login"
OFFICIAL_LOGOUT = "official.logout"


def acting(official: Official) -> Actor:
    """An official as the actor of what they do on the pages: their account id and e-mail."""
    return Actor("official", str(official.id), official.email)


class AccountError(CommandError):
    """An account operation refused, in words an official can act on."""


class LinkInvalid(AccountError):
    pass


class LastAdmin(AccountError):
    """The change would leave no active admin, and so nobody to manage accounts on the pages."""


async def keep_an_admin(officials: OfficialRepository, leaving: Official) -> None:
    """LastAdmin when `leaving` (to be demoted or deactivated) is the last active admin: the one rule of
    the pages and of `outreach official deactivate`. Call it in the transaction that makes the change:
    the admins' rows stay locked until it ends."""
    if leaving.role != "admin" or leaving.deactivated_at is not None:
        return
    if not [admin for admin in await officials.active_admins() if admin.id != leaving.id]:
        raise LastAdmin("this is the last active admin: make another official admin first")


class LoginRefused(Exception):
    """Wrong e-mail or password (never which), or the account locked for a while."""

    def __init__(self, *, locked_until: datetime | None = None) -> None:
        super().__init__("locked" if locked_until else "wrong e-mail or password")
        self.locked_until = locked_until


@dataclass(frozen=True)
class AccountPolicy:
    password_link_lifetime: timedelta = timedelta(hours=24)
    login_attempts: int = 5  # consecutive failures before the account is locked
    lockout: timedelta = timedelta(minutes=15)
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)


def account_policy(settings: Settings) -> AccountPolicy:
    return AccountPolicy(
        password_link_lifetime=timedelta(hours=settings.admin_password_link_hours),
        login_attempts=settings.admin_login_attempts,
        lockout=timedelta(minutes=settings.admin_lockout_minutes),
        session_idle=timedelta(minutes=settings.admin_session_idle_minutes),
        session_absolute=timedelta(hours=settings.admin_session_hours),
    )


@dataclass(frozen=True)
class LoggedIn:
    official: Official
    session_token: str  # for the cookie; only its hash is stored
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    officials: OfficialRepository, official_id: int, session_token: str, csrf_token: str, *, now: datetime
) -> None:
    """A signed-in session (password or SSO), stored by its token's hash, never the token."""
    await officials.open_session(
        OfficialSession(
            token_hash=token_hash(session_token),
            official_id=official_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
        )
    )


def login_email(text: str) -> str:
    """The e-mail as accounts are keyed: normalised and lower-cased; AccountError when it is none."""
    try:
        return str(validate_email(text.strip(), check_deliverability=False).normalized).lower()
    except EmailNotValidError:
        raise AccountError("that is not an e-mail address") from None


def password_problem(password: str, email: str) -> str | None:
    if len(password) < PASSWORD_MIN:
        return f"the password needs at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return f"the password may have at most {PASSWORD_MAX} characters"
    if password.strip().lower() == email.lower():
        return "the password cannot be the e-mail address"
    return None


async def add_official(
    sessions: SessionFactory,
    email: str,
    role: str,
    *,
    now: datetime,
    policy: AccountPolicy,
    actor: Actor | None = None,
) -> str:
    """Make an account without a password; the token of its one-time link to set one."""
    if role not in ROLES:
        raise AccountError(f"the role is one of {', '.join(ROLES)}")
    address = login_email(email)
    token = secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        if await officials.by_email(address) is not None:
            raise AccountError(f"{address} has an account already (outreach official reset sends a new link)")
        added = await officials.add(
            Official(
                email=address,
                role=role,
                password_link_hash=token_hash(token),
                password_link_expires_at=now + policy.password_link_lifetime,
                created_at=now,
            )
        )
        if actor is not None:
            await audit.record(session, actor, OFFICIAL_ADD, "official", added.id, {"role": role}, at=now)
    return token


async def reset_link(
    sessions: SessionFactory, email: str, *, now: datetime, policy: AccountPolicy, actor: Actor | None = None
) -> str:
    """A new one-time link for an active account (the old password works until the link is used)."""
    address = login_email(email)
    token = secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        official = await OfficialRepository(session).by_email(address)
        if official is None or official.deactivated_at is not None:
            raise AccountError(f"no active account for {address}")
        official.password_link_hash = token_hash(token)
        official.password_link_expires_at = now + policy.password_link_lifetime
        if actor is not None:
            await audit.record(session, actor, OFFICIAL_RESET, "official", official.id, at=now)
    return token


async def deactivate(sessions: SessionFactory, email: str, *, now: datetime, actor: Actor | None = None) -> int:
    """Close the account and every session of it; the number of sessions ended. LastAdmin for the last
    active admin, as on the pages."""
    address = login_email(email)
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        official = await officials.by_email(address)
        if official is None or official.id is None:
            raise AccountError(f"no account for {address}")
        await keep_an_admin(officials, official)
        official.deactivated_at = official.deactivated_at or now
        official.password_link_hash = None
        if actor is not None:
            await audit.record(session, actor, OFFICIAL_DEACTIVATE, "official", official.id, at=now)
        return await officials.close_sessions_of(official.id)


async def link_holder(sessions: SessionFactory, token: str, *, now: datetime) -> Official:
    """The account a password link is for; LinkInvalid when it is unknown, used or out of date."""
    async with sessions() as session:
        official = await OfficialRepository(session).by_password_link(token_hash(token))
    if official is None or official.deactivated_at is not None:
        raise LinkInvalid("this link is not valid: it was used already, or replaced by a newer one")
    if official.password_link_expires_at is None or official.password_link_expires_at <= now:
        raise LinkInvalid("this link has expired: ask an administrator for a new one")
    return official


async def set_password(sessions: SessionFactory, token: str, password: str, *, now: datetime) -> Official:
    """Set the password a one-time link allows; the link is spent and every older session ends."""
    official = await link_holder(sessions, token, now=now)
    problem = password_problem(password, official.email)
    if problem:
        raise AccountError(problem)
    hashed = await asyncio.to_thread(_hasher.hash, password)
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        current = await officials.by_password_link(token_hash(token))
        if current is None or current.id is None or current.id != official.id:  # spent by a racing request
            raise LinkInvalid("this link is not valid: it was used already, or replaced by a newer one")
        current.password_hash = hashed
        current.password_link_hash = None
        current.password_link_expires_at = None
        current.failed_logins = 0
        current.locked_until = None
        await officials.close_sessions_of(current.id)
        await audit.record(session, acting(current), OFFICIAL_PASSWORD, "official", current.id, at=now)
    return current


async def log_in(
    sessions: SessionFactory, email: str, password: str, *, now: datetime, policy: AccountPolicy
) -> LoggedIn:
    """A new session for the right e-mail and password; LoginRefused otherwise, or while locked.
    `policy.login_attempts` consecutive failures lock the account for `policy.lockout`."""
    try:
        address = login_email(email)
    except AccountError:
        address = ""
    async with sessions() as session:
        official = await OfficialRepository(session).by_email(address) if address else None
    usable = official is not None and official.deactivated_at is None and official.password_hash is not None
    if official is not None and official.locked_until is not None and official.locked_until > now:
        raise LoginRefused(locked_until=official.locked_until)
    stored = official.password_hash if usable and official is not None else None
    matches = await asyncio.to_thread(_verify, stored or _dummy_hash(), password)
    session_token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        current = await officials.get(official.id) if official is not None and official.id is not None else None
        if current is None or not usable or stored is None or not matches:
            if current is not None:
                current.failed_logins += 1
                if current.failed_logins >= policy.login_attempts:
                    current.locked_until = now + policy.lockout
                    current.failed_logins = 0
            refused = True  # raised after the commit, which keeps the count
        else:
            refused = False
            current.failed_logins = 0
            current.locked_until = None
            if _hasher.check_needs_rehash(stored):
                current.password_hash = await asyncio.to_thread(_hasher.hash, password)
            assert current.id is not None
            await audit.record(session, acting(current), OFFICIAL_LOGIN, "official", current.id, at=now)
            await open_session(officials, current.id, session_token, csrf_token, now=now)
    if refused or current is None:
        raise LoginRefused()
    return LoggedIn(official=current, session_token=session_token, csrf_token=csrf_token)


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail has no usable account, so that a wrong e-mail costs what a
    wrong password does (made on first use, not at import)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def session_official(
    sessions: SessionFactory, session_token: str, *, now: datetime, policy: AccountPolicy
) -> tuple[Official, OfficialSession] | None:
    """The official a session cookie stands for, None when it is unknown, idle too long, past its
    absolute limit, or its account closed (an ended session is removed)."""
    key = token_hash(session_token)
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        found = await officials.session_with_official(key)
        if found is None:
            return None
        login, official = found
        if (
            official.deactivated_at is not None
            or now - login.last_seen_at >= policy.session_idle
            or now - login.created_at >= policy.session_absolute
        ):
            await officials.close_session(key)
            return None
        if now - login.last_seen_at >= TOUCH_EVERY:
            await officials.touch_session(key, now=now)
    return official, login


async def log_out(sessions: SessionFactory, session_token: str, *, now: datetime) -> None:
    async with sessions() as session, session.begin():
        officials = OfficialRepository(session)
        found = await officials.session_with_official(token_hash(session_token))
        await officials.close_session(token_hash(session_token))
        if found is not None:
            await audit.record(session, acting(found[1]), OFFICIAL_LOGOUT, "official", found[1].id, at=now)
