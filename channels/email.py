"""The email channel: questions sent with aiosmtplib, replies read from an IMAP mailbox (`imap_poller`).

Every message carries a reply token (`email_tokens`); `email_composition.MailComposer` writes the mail
(its headers, text and HTML with the answer links), `email_parsing` reads what comes back. The token is
in the Message-ID, which is also the provider id `send` returns (`TOKEN@{reply_domain}`, no brackets),
so token → outbox row is one lookup by provider id, and a bounce's original Message-ID is that same
provider id.

Send errors are classified here, once:

- `SendError(retryable=False, address_invalid=True)`: the server refused the recipient for good (5xx on
  RCPT: 550 no such user, 551, 553 bad address; not 5.7.x, which is a policy refusal of our sending);
- `SendError(retryable=False)`: wrong credentials (535), a policy refusal (5.7.x), the sender refused
  (5xx on MAIL), the message refused (5xx after DATA), no STARTTLS or no AUTH where one was asked for,
  a certificate that does not verify;
- `SendError(retryable=True)`: 4xx anywhere (421, 450, 451, 452, 454), a connection refused or timed
  out while opening, a failed TLS handshake (other than an unverifiable certificate), a timeout or a
  dropped connection before DATA (nothing was handed over);
- anything else propagates as it is: a timeout or a dropped connection once DATA was sent
  (aiosmtplib's SMTPReadTimeoutError, SMTPServerDisconnected) is an unknown outcome (the server may
  have queued the message), and the caller must not send it again.

Messages never name the address nor the text: the server's own words (which often quote the address)
stay out, only its codes go in. One SMTP connection per send: simple, and no state to repair after a
broken connection; it costs a TCP (and TLS) handshake per message.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from io import BytesIO
from typing import ClassVar, Literal

import aiosmtplib

from channels.base import (
    Capabilities,
    DeliveryStatus,
    Inbound,
    InvalidRequest,
    Outbound,
    Request,
    SendError,
    Sent,
)
from channels.email_authentication import dmarc_pass
from channels.email_composition import DOMAIN, LANGUAGES, MailComposer, normalise_address
from channels.email_parsing import ParsedReply, parse_reply
from channels.email_tokens import is_token

EMAIL = "email"
TLS_MODES = ("starttls", "tls", "none")
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# Headers longer than 78 characters are not folded: the policy would otherwise turn a long URL in
# List-Unsubscribe into RFC 2047 encoded words, which no client reads as a URL (lines stay under 998).
_WIRE = policy.SMTP.clone(max_line_length=0)

TlsMode = Literal["starttls", "tls", "none"]


class EmailChannel:
    """Questions by email: SMTP out, answer links and replies back (`read`, `parse_inbound`)."""

    name = EMAIL
    capabilities: ClassVar[Capabilities] = Capabilities(max_length=100_000, buttons=True, signed_webhooks=False)

    def __init__(
        self,
        *,
        smtp_host: str,
        smtp_port: int,
        smtp_user: str | None,
        smtp_password: str | None,
        sender: str,
        reply_domain: str,
        public_url: str,
        token_secret: bytes,
        organisation: str,
        tls: TlsMode = "starttls",
        timeout: float = 10.0,
        language: str = "pl",
        tls_context: ssl.SSLContext | None = None,
        helo_name: str | None = None,
        authserv_id: str | None = None,
    ) -> None:
        if not smtp_host:
            raise ValueError("email: smtp_host is required")
        if not 0 < smtp_port < 65536:
            raise ValueError("email: smtp_port must be 1-65535")
        if (smtp_user is None) != (smtp_password is None):
            raise ValueError("email: give both smtp_user and smtp_password, or neither")
        if tls not in TLS_MODES:
            raise ValueError(f"email: tls must be one of {TLS_MODES}")
        if "@" not in sender or sender.startswith("@") or sender.endswith("@") or any(c.isspace() for c in sender):
            raise ValueError("email: sender must be a bare address (local@domain)")
        if not DOMAIN.fullmatch(reply_domain) or "." not in reply_domain:
            raise ValueError("email: reply_domain must be a domain name")
        if not public_url.startswith(("http://", "https://")):
            raise ValueError("email: public_url must be an http(s) URL")
        if len(token_secret) < 16:
            raise ValueError("email: token_secret must have at least 16 bytes")
        if not organisation.strip():
            raise ValueError("email: organisation is required (it names the sender)")
        if timeout <= 0:
            raise ValueError("email: timeout must be positive")
        if language not in LANGUAGES:
            raise ValueError(f"email: language must be one of {LANGUAGES}")
        self._host = smtp_host
        self._port = smtp_port
        self._user = smtp_user
        self._password = smtp_password
        self._sender = sender
        self._reply_domain = reply_domain.lower()
        self._tls: TlsMode = tls
        self._timeout = timeout
        self._tls_context = tls_context
        self._helo_name = helo_name or self._reply_domain  # spares aiosmtplib a getfqdn() per send
        self._authserv_id = authserv_id or None  # our receiving server's name in Authentication-Results
        self._composer = MailComposer(
            sender=sender,
            reply_domain=self._reply_domain,
            public_url=public_url.rstrip("/"),
            token_secret=token_secret,
            organisation=organisation.strip(),
            language=language,
        )

    # --- tokens, links and the message (`MailComposer`) ----------------------------------------

    def token(self, outbound_key: str) -> str:
        return self._composer.token(outbound_key)

    def message_id(self, token: str) -> str:
        """The provider id (`Sent.provider_id`) of the message carrying `token`: its Message-ID."""
        return self._composer.message_id(token)

    def answer_url(self, token: str, key: str) -> str:
        return self._composer.answer_url(token, key)

    def unsubscribe_url(self, token: str) -> str:
        return self._composer.unsubscribe_url(token)

    def plain_text(self, outbound: Outbound, token: str) -> str:
        return self._composer.plain_text(outbound, token)

    def html(self, outbound: Outbound, token: str) -> str:
        return self._composer.html(outbound, token)

    def compose(self, outbound: Outbound, *, now: datetime | None = None) -> EmailMessage:
        """The message `send` hands to the server (pure apart from the Date header's clock)."""
        return self._composer.compose(outbound, now=now)

    # --- sending ---------------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> Sent:
        message = self.compose(outbound)
        recipient = normalise_address(outbound.address)
        wire = BytesIO()
        BytesGenerator(wire, policy=_WIRE if recipient.isascii() else _WIRE.clone(utf8=True)).flatten(message)
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            use_tls=self._tls == "tls",
            start_tls=self._tls == "starttls",
            tls_context=self._tls_context,
            local_hostname=self._helo_name,
        )
        phase = "connect"
        try:
            await smtp.connect()
            if self._user is not None and self._password is not None:
                phase = "login"
                await smtp.login(self._user, self._password)
            phase = "mail"
            options: list[str] = []
            if not recipient.isascii():
                if not smtp.supports_extension("smtputf8"):
                    raise SendError(
                        "email: the address needs SMTPUTF8, which the server does not offer",
                        retryable=False,
                        address_invalid=True,
                    )
                options.append("SMTPUTF8")
            await smtp.mail(self._sender, options=options, encoding="utf-8")
            phase = "rcpt"
            await smtp.rcpt(recipient, encoding="utf-8")
            phase = "data"
            await smtp.data(wire.getvalue())
        except aiosmtplib.SMTPException as error:
            classified = _classify(error, phase)
            if classified is None:
                raise  # DATA was under way: the server may have the message (unknown outcome)
            raise classified from None  # the server's words may quote the address
        except OSError as error:  # not wrapped by aiosmtplib: a failed STARTTLS handshake, a reset
            if phase == "data":
                raise
            raise _classify_os_error(error, phase) from None
        finally:
            await _close(smtp)
        return Sent(provider_id=self.message_id(self.token(outbound.key)))

    # --- reading replies -------------------------------------------------------------------------

    def read(self, raw: bytes, *, now: datetime | None = None) -> EmailEvent:
        """One mail from the replies mailbox: an answer (`inbound`), a bounce (`status`) or neither."""
        parsed = parse_reply(raw)
        authenticated = bool(
            parsed is not None
            and self._authserv_id is not None
            and dmarc_pass(parsed.authentication_results, self._authserv_id, parsed.sender)
        )
        return EmailEvent(parsed, *_events(parsed, self._reply_domain, now or datetime.now(UTC)), authenticated)

    def verify(self, request: Request) -> bool:
        """Email has no webhook: replies come from the mailbox the poller reads, never over HTTP."""
        return False

    def parse_inbound(self, request: Request) -> list[Inbound]:
        """The reply in a raw mail (`request.body`); empty for auto-replies, bounces and unreadable mail."""
        if not request.body:
            raise InvalidRequest("email: no raw message in the request body")
        event = self.read(request.body)
        return [event.inbound] if event.inbound is not None else []

    def parse_status(self, request: Request) -> list[DeliveryStatus]:
        """The delivery status a bounce (DSN) in `request.body` reports; empty for anything else."""
        if not request.body:
            raise InvalidRequest("email: no raw message in the request body")
        event = self.read(request.body)
        return [event.status] if event.status is not None else []


@dataclass(frozen=True)
class EmailEvent:
    """What one received mail means: `inbound` for a reply or an unsubscribe mail (command "stop"),
    `status` for a bounce of one of our messages, neither for an auto-reply or an unreadable mail.
    `parsed` keeps everything (token, full body) for the audit. `sender_authenticated`: our receiving
    server vouches for the From address (DMARC pass, `email_authentication`; only with an authserv-id)."""

    parsed: ParsedReply | None
    inbound: Inbound | None
    status: DeliveryStatus | None
    sender_authenticated: bool = False


def _events(
    parsed: ParsedReply | None, reply_domain: str, now: datetime
) -> tuple[Inbound | None, DeliveryStatus | None]:
    if parsed is None or parsed.kind == "auto_reply":
        return None, None
    if parsed.kind == "bounce":
        bounce = parsed.bounce
        if bounce is None:
            return None, None
        # Anyone can mail a report to the mailbox: it speaks only of our own sends, by the Message-ID we
        # made (TOKEN@reply_domain), never of an id in any other form (`<1>` is some Telegram message's).
        if bounce.original_message_id is not None:
            original = our_message_id(bounce.original_message_id, reply_domain)
        else:
            original = f"{parsed.token}@{reply_domain}" if parsed.token else None
        if original is None:
            return None, None  # not about a message of ours
        if bounce.action == "failed":
            status = "failed"
        elif bounce.action in ("delivered", "relayed", "expanded"):
            status = "delivered"
        else:
            return None, None  # "delayed": the server keeps trying, nothing is decided
        return None, DeliveryStatus(
            channel=EMAIL, provider_id=original, status=status, error_code=bounce.status, reported_at=now
        )
    inbound = Inbound(
        channel=EMAIL,
        provider_id=parsed.message_id,
        address=parsed.sender,
        text=parsed.text,
        received_at=now,
        command="stop" if parsed.kind == "unsubscribe" else None,
        language_hint=parsed.language,
    )
    return inbound, None


def our_message_id(message_id: str, reply_domain: str) -> str | None:
    """`message_id` as our provider id when it is one we generate (TOKEN@reply_domain), else None."""
    local, at, domain = message_id.strip().rpartition("@")
    if not at or domain.lower() != reply_domain or not is_token(local.lower()):
        return None
    return f"{local.lower()}@{reply_domain}"


# ---------------------------------------------------------------------------------------------
# Errors (pure) and the connection.


def _enhanced(message: str) -> str | None:
    found = _ENHANCED.match(message)
    return ".".join(found.groups()) if found else None


def _label(code: int, enhanced: str | None) -> str:
    return f"smtp {code} {enhanced}" if enhanced else f"smtp {code}"


def _classify(error: aiosmtplib.SMTPException, phase: str) -> SendError | None:
    """The SendError for a failed send; None when the outcome is unknown (DATA was under way)."""
    if isinstance(error, aiosmtplib.SMTPResponseException):
        code = error.code
        enhanced = _enhanced(error.message)
        label = _label(code, enhanced)
        if 400 <= code < 500:
            return SendError(f"{label}: temporary refusal during {phase}; try later", retryable=True)
        if isinstance(error, aiosmtplib.SMTPAuthenticationError) or code in (530, 534, 535, 538):
            return SendError(f"{label}: authentication failed, the SMTP credentials are wrong", retryable=False)
        if 500 <= code < 600:
            if enhanced is not None and enhanced.startswith("5.7."):
                return SendError(f"{label}: refused by the server's policy during {phase}", retryable=False)
            if isinstance(error, aiosmtplib.SMTPRecipientRefused) or phase == "rcpt":
                return SendError(f"{label}: the recipient address was refused", retryable=False, address_invalid=True)
            return SendError(f"{label}: refused during {phase}", retryable=False)
        if phase == "data":
            return None  # an answer that is neither success nor refusal, after the content went out
        return SendError(f"{label}: unexpected answer during {phase}", retryable=True)
    if isinstance(error, aiosmtplib.SMTPTimeoutError | aiosmtplib.SMTPServerDisconnected):
        if phase == "data":
            return None
        what = "timed out" if isinstance(error, aiosmtplib.SMTPTimeoutError) else "lost the connection"
        return SendError(f"smtp: {what} during {phase}; nothing was sent", retryable=True)
    if isinstance(error, aiosmtplib.SMTPConnectError):
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ssl.SSLError):
            return _classify_os_error(cause, phase)
        return SendError("smtp: could not connect; nothing was sent", retryable=True)
    if phase == "data":
        return None
    lowered = str(error).lower()
    if "auth extension" in lowered:
        return SendError("smtp: the server does not offer AUTH; check the port and TLS mode", retryable=False)
    if "starttls" in lowered:
        return SendError("smtp: the server does not offer STARTTLS", retryable=False)
    return SendError(f"smtp: {type(error).__name__} during {phase}", retryable=False)


def _classify_os_error(error: OSError, phase: str) -> SendError:
    if isinstance(error, ssl.SSLCertVerificationError):
        return SendError("smtp: the server's TLS certificate did not verify", retryable=False)
    if isinstance(error, ssl.SSLError):
        return SendError(f"smtp: the TLS handshake failed during {phase}; nothing was sent", retryable=True)
    return SendError(f"smtp: {type(error).__name__} during {phase}; nothing was sent", retryable=True)


async def _close(smtp: aiosmtplib.SMTP) -> None:
    """QUIT politely when the connection is still up; a failing QUIT changes nothing."""
    if smtp.is_connected:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
