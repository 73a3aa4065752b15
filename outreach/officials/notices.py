"""Telling approvers that a launch waits for them (issue 21): one plain e-mail to each, sent through the
service's SMTP server (OUTREACH_SMTP_*) when one is configured. Without one, or when the server
refuses, the pages' notices and the audit log still say it: a failed notice never undoes the request.
The log names how many mails went and failed, never an address."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from outreach.settings import Settings

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 10.0  # seconds


@dataclass(frozen=True)
class ApprovalWanted:
    campaign: str  # its name
    request_id: int
    audience: int
    requester: str  # the requester's e-mail (an official's, not a resident's)
    url: str  # the campaign's launch page


def approval_mail(settings: Settings, wanted: ApprovalWanted, to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from or ""
    message["To"] = to
    message["Subject"] = f"Launch waits for your approval / Uruchomienie czeka na zatwierdzenie: {wanted.campaign}"
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office answers back
    message.set_content(
        f"{wanted.requester} prosi o zatwierdzenie uruchomienia kampanii „{wanted.campaign}” "
        f"(wniosek {wanted.request_id}, {wanted.audience} mieszkańców).\n"
        f"{wanted.requester} asks you to approve launching the campaign “{wanted.campaign}” "
        f"(request {wanted.request_id}, {wanted.audience} residents).\n\n{wanted.url}\n"
    )
    return message


async def tell_approvers(settings: Settings, wanted: ApprovalWanted, approvers: Sequence[str]) -> int:
    """Mail each approver, all at once (the page that asked waits at most one SMTP timeout); how many
    mails the server took (0 without a mail server)."""
    if not settings.smtp_host or not settings.smtp_from or not approvers:
        return 0
    results = await asyncio.gather(*(_send(settings, approval_mail(settings, wanted, to)) for to in approvers))
    sent = sum(results)
    if sent < len(approvers):
        log.warning("approval notices: %d of %d sent", sent, len(approvers))
    return sent


async def _send(settings: Settings, message: EmailMessage) -> bool:
    import aiosmtplib  # here: `outreach campaign` starts without it (tests/outreach/cli/test_lazy.py)

    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            timeout=SMTP_TIMEOUT,
        )
    except (aiosmtplib.SMTPException, OSError) as error:
        log.warning("approval notice not sent (%s); the pages still show the request", type(error).__name__)
        return False
    return True
