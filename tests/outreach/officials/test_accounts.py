"""Officials' accounts (issue 21): one-time password links, throttled logins, sessions that end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.officials.accounts import (
    AccountError,
    AccountPolicy,
    LinkInvalid,
    LoginRefused,
    add_official,
    deactivate,
    log_in,
    log_out,
    reset_link,
    session_official,
    set_password,
)
from storage.official_tables import Official, OfficialSession
from storage.tables import AuditEntry
from tests.conftest import ManualClock

POLICY = AccountPolicy(login_attempts=3, lockout=timedelta(minutes=15))
PASSWORD = "correct horse battery"
EMAIL = "anna.nowak@gdansk.gda.pl"


async def enrolled(services: Services, clock: ManualClock, email: str = "Anna.Nowak@Gdansk.gda.pl") -> str:
    token = await add_official(services.sessions, email, "editor", now=clock(), policy=POLICY)
    await set_password(services.sessions, token, PASSWORD, now=clock())
    return email


async def test_a_new_official_sets_a_password_through_the_link_once(services: Services, clock: ManualClock) -> None:
    token = await add_official(services.sessions, "Anna.Nowak@Gdansk.gda.pl", "editor", now=clock(), policy=POLICY)
    official = await set_password(services.sessions, token, PASSWORD, now=clock())
    assert (official.email, official.role) == ("anna.nowak@gdansk.gda.pl", "editor")
    with pytest.raises(LinkInvalid, match="used already"):
        await set_password(services.sessions, token, "another long password", now=clock())
    async with services.sessions() as session:
        stored = (await session.execute(select(Official))).scalar_one()
    # Only hashes are kept: neither the password nor the link's token is in the row.
    assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in repr(stored) and token not in repr(stored)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12"),
        ("x" * 257, "at most 256"),
        ("anna.nowak@gdansk.gda.pl", "cannot be the e-mail"),
    ],
)
async def test_a_weak_password_is_refused_and_the_link_stays_usable(
    services: Services, clock: ManualClock, password: str, problem: str
) -> None:
    token = await add_official(services.sessions, "anna.nowak@gdansk.gda.pl", "viewer", now=clock(), policy=POLICY)
    with pytest.raises(AccountError, match=problem):
        await set_password(services.sessions, token, password, now=clock())
    await set_password(services.sessions, token, PASSWORD, now=clock())


async def test_a_link_expires(services: Services, clock: ManualClock) -> None:
    token = await add_official(services.sessions, "a@gdansk.gda.pl", "viewer", now=clock(), policy=POLICY)
    clock.advance(hours=24)
    with pytest.raises(LinkInvalid, match="expired"):
        await set_password(services.sessions, token, PASSWORD, now=clock())


async def test_accounts_refuse_a_second_account_and_an_unknown_role(services: Services, clock: ManualClock) -> None:
    await add_official(services.sessions, "a@gdansk.gda.pl", "viewer", now=clock(), policy=POLICY)
    with pytest.raises(AccountError, match="has an account already"):
        await add_official(services.sessions, "A@GDANSK.gda.pl", "admin", now=clock(), policy=POLICY)
    with pytest.raises(AccountError, match="role is one of"):
        await add_official(services.sessions, "b@gdansk.gda.pl", "mayor", now=clock(), policy=POLICY)


async def test_logins_lock_after_consecutive_failures_then_open_again(services: Services, clock: ManualClock) -> None:
    email = await enrolled(services, clock)
    for _ in range(POLICY.login_attempts):
        with pytest.raises(LoginRefused) as refused:
            await log_in(services.sessions, email, "wrong password!!", now=clock(), policy=POLICY)
        assert refused.value.locked_until is None
    # Locked: even the right password is refused until the lockout ends.
    with pytest.raises(LoginRefused) as refused:
        await log_in(services.sessions, email, PASSWORD, now=clock(), policy=POLICY)
    assert refused.value.locked_until == clock() + POLICY.lockout
    clock.advance(minutes=15)
    logged_in = await log_in(services.sessions, email.upper(), PASSWORD, now=clock(), policy=POLICY)
    assert logged_in.official.email == email.lower() and logged_in.official.failed_logins == 0


async def test_an_unknown_email_is_refused_like_a_wrong_password(services: Services, clock: ManualClock) -> None:
    await enrolled(services, clock)
    for email in ("nobody@gdansk.gda.pl", "not an address"):
        with pytest.raises(LoginRefused, match="wrong e-mail or password"):
            await log_in(services.sessions, email, PASSWORD, now=clock(), policy=POLICY)


async def test_a_session_ends_when_idle_and_at_its_absolute_limit(services: Services, clock: ManualClock) -> None:
    email = await enrolled(services, clock)
    first = await log_in(services.sessions, email, PASSWORD, now=clock(), policy=POLICY)
    for _ in range(3):  # kept alive by use, 29 minutes apart ...
        clock.advance(minutes=29)
        assert await session_official(services.sessions, first.session_token, now=clock(), policy=POLICY)
    clock.advance(minutes=30)  # ... until left idle for 30
    assert await session_official(services.sessions, first.session_token, now=clock(), policy=POLICY) is None

    second = await log_in(services.sessions, email, PASSWORD, now=clock(), policy=POLICY)
    for _ in range(int(POLICY.session_absolute / timedelta(minutes=20))):
        clock.advance(minutes=20)
        found = await session_official(services.sessions, second.session_token, now=clock(), policy=POLICY)
    assert found is None  # used every 20 minutes, still over after 12 hours


async def test_logout_reset_and_deactivation_end_sessions(services: Services, clock: ManualClock) -> None:
    email = await enrolled(services, clock)
    one = await log_in(services.sessions, email, PASSWORD, now=clock(), policy=POLICY)
    two = await log_in(services.sessions, email, PASSWORD, now=clock(), policy=POLICY)
    await log_out(services.sessions, one.session_token, now=clock())
    assert await session_official(services.sessions, one.session_token, now=clock(), policy=POLICY) is None
    assert await session_official(services.sessions, two.session_token, now=clock(), policy=POLICY)

    token = await reset_link(services.sessions, email, now=clock(), policy=POLICY)
    await set_password(services.sessions, token, "a brand new passphrase", now=clock())
    assert await session_official(services.sessions, two.session_token, now=clock(), policy=POLICY) is None

    three = await log_in(services.sessions, email, "a brand new passphrase", now=clock(), policy=POLICY)
    assert await deactivate(services.sessions, email, now=clock()) == 1
    assert await session_official(services.sessions, three.session_token, now=clock(), policy=POLICY) is None
    with pytest.raises(LoginRefused):
        await log_in(services.sessions, email, "a brand new passphrase", now=clock(), policy=POLICY)
    async with services.sessions() as session:
        assert (await session.execute(select(OfficialSession))).scalars().all() == []


async def test_account_actions_and_logins_go_to_the_audit_log_without_secrets(
    services: Services, clock: ManualClock
) -> None:
    operator = Actor("cli", "ops", "ops")
    token = await add_official(services.sessions, EMAIL, "editor", now=clock(), policy=POLICY, actor=operator)
    await set_password(services.sessions, token, PASSWORD, now=clock())
    with pytest.raises(LoginRefused):
        await log_in(services.sessions, EMAIL, "wrong password!!", now=clock(), policy=POLICY)
    logged_in = await log_in(services.sessions, EMAIL, PASSWORD, now=clock(), policy=POLICY)
    await log_out(services.sessions, logged_in.session_token, now=clock())
    await reset_link(services.sessions, EMAIL, now=clock(), policy=POLICY, actor=operator)
    await deactivate(services.sessions, EMAIL, now=clock(), actor=operator)
    async with services.sessions() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()  # type: ignore[arg-type]
    assert [(entry.actor_kind, entry.action) for entry in entries] == [
        ("cli", "official.add"),
        ("official", "official.password"),
        ("official", "official.login"),
        ("official", "official.logout"),
        ("cli", "official.reset"),
        ("cli", "official.deactivate"),
    ]
    written = repr([entry.model_dump() for entry in entries])
    assert PASSWORD not in written and token not in written and logged_in.session_token not in written
