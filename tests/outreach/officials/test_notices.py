"""Approvers told by e-mail that a launch waits (outreach.officials.notices), against aiosmtpd on
loopback: one mail each through the service's SMTP login; a refused mail is counted in the log without
its address and does not raise; no mail server, no mail."""

from __future__ import annotations

import logging
from email import message_from_bytes
from email.policy import default

import pytest

from outreach.officials.notices import ApprovalWanted, tell_approvers
from outreach.settings import Settings
from tests.providers import EMAIL_FROM, EMAIL_TOKEN_SECRET, REPLY_DOMAIN
from tests.servers.smtp import SmtpServer

WANTED = ApprovalWanted(
    campaign="Tramwaj na Morenę",
    request_id=7,
    audience=1200,
    requester="ewa@gdansk.gda.pl",
    url="https://konsultacje.example/admin/campaigns/tramwaj/launch",
)
APPROVERS = ["adam@gdansk.gda.pl", "zofia@gdansk.gda.pl"]


def mail_settings(server: SmtpServer) -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite:///unused.db",
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_user=server.user,
        smtp_password=server.password,
        smtp_from=EMAIL_FROM,
        smtp_tls="none",
        email_reply_domain=REPLY_DOMAIN,
        email_token_secret=EMAIL_TOKEN_SECRET,
        _env_file=None,
    )


async def test_each_approver_gets_one_mail_naming_the_request_and_the_page() -> None:
    async with SmtpServer() as server:
        assert await tell_approvers(mail_settings(server), WANTED, APPROVERS) == 2
    # Sent at once: in whichever order the server took them.
    assert sorted(received.rcpt_tos for received in server.messages) == [(APPROVERS[0],), (APPROVERS[1],)]
    assert all(received.login == server.user for received in server.messages)
    mail = message_from_bytes(server.messages[0].content, policy=default)
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert mail["Auto-Submitted"] == "auto-generated" and "Tramwaj na Morenę" in mail["Subject"]
    assert "request 7, 1200 residents" in body and WANTED.url in body


async def test_a_refused_mail_is_counted_without_its_address(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="outreach.officials.notices")
    async with SmtpServer() as server:
        server.refuse_rcpt(APPROVERS[0], "550 5.1.1 no such mailbox")
        assert await tell_approvers(mail_settings(server), WANTED, APPROVERS) == 1
    assert [received.rcpt_tos for received in server.messages] == [(APPROVERS[1],)]
    assert "approval notices: 1 of 2 sent" in caplog.text
    assert not any(address in caplog.text for address in APPROVERS)


async def test_without_a_mail_server_nobody_is_mailed() -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", _env_file=None)
    assert await tell_approvers(settings, WANTED, APPROVERS) == 0
