"""The email channel: questions sent with aiosmtplib, replies read from an IMAP mailbox (`imap_poller`).

Every message carries a reply token, `reply_token(token_secret, outbound.key)`: 160 bits of
HMAC-SHA256 over the outbox idempotency key, as 32 characters of lowercase base32. It is in

- `Reply-To: reply+TOKEN@{reply_domain}`: a reply goes there, and the token comes back in To;
- `Message-ID: <TOKEN@{reply_domain}>`: clients answer with `In-Reply-To`/`References` naming it, which
  finds the question when a resident replies to the From address instead; it is also the provider id
  `send` returns (`TOKEN@{reply_domain}`, no brackets), so token → outbox row is one lookup by
  provider id, and a bounce's original Message-ID is that same provider id;
- the answer links `{public_url}/answer/{TOKEN}/{choice key}` (one per choice: the email's buttons; the
  service's page shows a confirmation form on GET and records on POST only, since mail scanners fetch
  every link);
- `List-Unsubscribe: <{public_url}/unsubscribe/{TOKEN}>, <mailto:unsubscribe+TOKEN@{reply_domain}>` with
  `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058: the mail client POSTs
  "List-Unsubscribe=One-Click" to the URL; the same URL on GET only shows a form).

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

import base64
import hashlib
import hmac
import html
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from io import BytesIO
from typing import ClassVar, Literal
from urllib.parse import quote

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
from channels.email_parsing import TOKEN_PATTERN, ParsedReply, parse_reply

EMAIL = "email"
TOKEN_BYTES = 20  # 160 bits; base32 without padding: 32 characters
TLS_MODES = ("starttls", "tls", "none")
SUBJECT_LIMIT = 78
_TOKEN = re.compile(TOKEN_PATTERN)
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# Headers longer than 78 characters are not folded: the policy would otherwise turn a long URL in
# List-Unsubscribe into RFC 2047 encoded words, which no client reads as a URL (lines stay under 998).
_WIRE = policy.SMTP.clone(max_line_length=0)

TlsMode = Literal["starttls", "tls", "none"]


def reply_token(secret: bytes, outbound_key: str) -> str:
    """The reply token of an outbox message: lowercase base32 of HMAC-SHA256(secret, key)[:20].

    Deterministic, so a resend of the same outbox row carries the same token and Message-ID, and the
    service never stores a secret in a mail; 160 bits, so nobody guesses another resident's token.
    """
    digest = hmac.new(secret, outbound_key.encode("utf-8"), hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.b32encode(digest).decode("ascii").lower().rstrip("=")


def is_token(value: str) -> bool:
    """A string shaped like a reply token (routes check this before any lookup)."""
    return bool(_TOKEN.fullmatch(value))


# ---------------------------------------------------------------------------------------------
# Composing (pure).

_LOCAL_PART = re.compile(r"[^\s@<>()\[\],;:\\\"]+")


def normalise_address(address: str) -> str:
    """The address as it goes on the envelope: the domain in IDNA (ASCII) form, the local part as given.

    SendError(address_invalid) when it is not local@domain. A non-ASCII local part stays: it needs a
    server that offers SMTPUTF8.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise SendError("email: the address is not a valid email address", retryable=False, address_invalid=True)
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise SendError("email: the address's domain is not valid", retryable=False, address_invalid=True) from None
    if not _DOMAIN.fullmatch(ascii_domain) or "." not in ascii_domain:
        raise SendError("email: the address's domain is not valid", retryable=False, address_invalid=True)
    return f"{local}@{ascii_domain}"


_STRINGS: dict[str, dict[str, str]] = {
    "pl": {
        "numbered": "Kliknij odpowiedź albo odpisz na tę wiadomość jej numerem.",
        "values": "Kliknij odpowiedź albo odpisz na tę wiadomość wybraną wartością.",
        "multi": "Odpisz na tę wiadomość numerami wybranych odpowiedzi, np. 1,3.",
        "from": "Wiadomość od: {organisation}",
        "unsubscribe": "Nie chcesz dostawać takich pytań? Wypisz się",
    },
    "en": {
        "numbered": "Click an answer, or reply to this message with its number.",
        "values": "Click an answer, or reply to this message with the value you choose.",
        "multi": "Reply to this message with the numbers of your answers, e.g. 1,3.",
        "from": "A message from: {organisation}",
        "unsubscribe": "Don't want these questions? Unsubscribe",
    },
    "uk": {
        "numbered": "Натисніть відповідь або надішліть у відповідь на цей лист її номер.",
        "values": "Натисніть відповідь або надішліть у відповідь на цей лист обране значення.",
        "multi": "Надішліть у відповідь на цей лист номери обраних відповідей, напр. 1,3.",
        "from": "Повідомлення від: {organisation}",
        "unsubscribe": "Не хочете отримувати такі запитання? Відпишіться",
    },
}

_BODY_STYLE = (
    "margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;"
    "color:#1a1a1a;background-color:#ffffff"
)
_BUTTON_STYLE = (
    "display:inline-block;padding:10px 18px;border:2px solid #0b4f9c;border-radius:6px;"
    "background-color:#0b4f9c;color:#ffffff;font-weight:bold;text-decoration:underline"
)
_FOOTER_STYLE = "margin-top:32px;padding-top:8px;border-top:1px solid #b3b3b3;font-size:14px;color:#4d4d4d"


def subject_of(text: str) -> str:
    """The first non-empty line of the text, cut at a word to at most 78 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = " ".join(first.split())
    if len(first) <= SUBJECT_LIMIT:
        return first
    cut = first[: SUBJECT_LIMIT - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–") + "…"


@dataclass(frozen=True)
class _Link:
    number: int
    label: str
    url: str | None  # None where a click cannot answer (several answers at once)


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
        if not _DOMAIN.fullmatch(reply_domain) or "." not in reply_domain:
            raise ValueError("email: reply_domain must be a domain name")
        if not public_url.startswith(("http://", "https://")):
            raise ValueError("email: public_url must be an http(s) URL")
        if len(token_secret) < 16:
            raise ValueError("email: token_secret must have at least 16 bytes")
        if not organisation.strip():
            raise ValueError("email: organisation is required (it names the sender)")
        if timeout <= 0:
            raise ValueError("email: timeout must be positive")
        if language not in _STRINGS:
            raise ValueError(f"email: language must be one of {tuple(_STRINGS)}")
        self._host = smtp_host
        self._port = smtp_port
        self._user = smtp_user
        self._password = smtp_password
        self._sender = sender
        self._reply_domain = reply_domain.lower()
        self._public_url = public_url.rstrip("/")
        self._secret = token_secret
        self._organisation = organisation.strip()
        self._tls: TlsMode = tls
        self._timeout = timeout
        self._language = language
        self._tls_context = tls_context
        self._helo_name = helo_name or self._reply_domain  # spares aiosmtplib a getfqdn() per send

    # --- tokens and links ------------------------------------------------------------------------

    def token(self, outbound_key: str) -> str:
        return reply_token(self._secret, outbound_key)

    def message_id(self, token: str) -> str:
        """The provider id (`Sent.provider_id`) of the message carrying `token`: its Message-ID."""
        return f"{token}@{self._reply_domain}"

    def answer_url(self, token: str, key: str) -> str:
        return f"{self._public_url}/answer/{token}/{quote(key, safe='')}"

    def unsubscribe_url(self, token: str) -> str:
        return f"{self._public_url}/unsubscribe/{token}"

    # --- composing ---------------------------------------------------------------------------------

    def _links(self, outbound: Outbound, token: str) -> list[_Link]:
        clickable = outbound.choice_style != "multi"
        return [
            _Link(number, choice.label, self.answer_url(token, choice.key) if clickable else None)
            for number, choice in enumerate(outbound.choices, start=1)
        ]

    def _hint(self, outbound: Outbound) -> str:
        strings = _STRINGS[self._language]
        return strings.get(outbound.choice_style, strings["numbered"])

    def plain_text(self, outbound: Outbound, token: str) -> str:
        strings = _STRINGS[self._language]
        lines = [outbound.text.strip(), ""]
        if outbound.choices:
            values = outbound.choice_style == "values"
            for link in self._links(outbound, token):
                lines.append(link.label if values else f"{link.number}) {link.label}")
                if link.url:
                    lines.append(f"   {link.url}")
            lines += ["", self._hint(outbound), ""]
        lines += [
            "-- ",
            strings["from"].format(organisation=self._organisation),
            f"{strings['unsubscribe']}: {self.unsubscribe_url(token)}",
        ]
        return "\n".join(lines) + "\n"

    def html(self, outbound: Outbound, token: str) -> str:
        strings = _STRINGS[self._language]
        escape = html.escape
        paragraphs = [p for p in re.split(r"\n\s*\n", outbound.text.strip()) if p.strip()]
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{self._language}">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(subject_of(outbound.text))}</title></head>",
            f'<body style="{_BODY_STYLE}">',
            "<main>",
        ]
        for paragraph in paragraphs:
            body = "<br>\n".join(escape(line.strip()) for line in paragraph.strip().splitlines())
            parts.append(f'<p style="margin:0 0 16px 0">{body}</p>')
        if outbound.choices:
            values = outbound.choice_style == "values"
            tag = "ul" if values else "ol"
            list_style = "list-style:none;padding-left:0" if values else "padding-left:24px"
            parts.append(f'<{tag} style="margin:0 0 16px 0;{list_style}">')
            for link in self._links(outbound, token):
                label = escape(link.label)
                if link.url is None:
                    parts.append(f'<li style="margin:8px 0">{label}</li>')
                else:
                    url = escape(link.url, quote=True)
                    parts.append(f'<li style="margin:12px 0"><a href="{url}" style="{_BUTTON_STYLE}">{label}</a></li>')
            parts.append(f"</{tag}>")
            parts.append(f'<p style="margin:0 0 16px 0">{escape(self._hint(outbound))}</p>')
        unsubscribe = escape(self.unsubscribe_url(token), quote=True)
        parts += [
            "</main>",
            f'<footer style="{_FOOTER_STYLE}">',
            f'<p style="margin:0">{escape(strings["from"].format(organisation=self._organisation))}<br>',
            f'<a href="{unsubscribe}" style="color:#0b4f9c">{escape(strings["unsubscribe"])}</a></p>',
            "</footer>",
            "</body>",
            "</html>",
        ]
        return "\n".join(parts) + "\n"

    def compose(self, outbound: Outbound, *, now: datetime | None = None) -> EmailMessage:
        """The message `send` hands to the server (pure apart from the Date header's clock)."""
        recipient = normalise_address(outbound.address)
        token = self.token(outbound.key)
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = Address(display_name=self._organisation, addr_spec=self._sender)
        # A non-ASCII local part cannot go through Address(); the header is written raw (SMTPUTF8).
        message["To"] = Address(addr_spec=recipient) if recipient.isascii() else recipient
        message["Subject"] = subject_of(outbound.text) or self._organisation
        message["Date"] = format_datetime(now or datetime.now(UTC))
        message["Message-ID"] = f"<{self.message_id(token)}>"
        message["Reply-To"] = f"reply+{token}@{self._reply_domain}"
        message["List-Unsubscribe"] = (
            f"<{self.unsubscribe_url(token)}>, <mailto:unsubscribe+{token}@{self._reply_domain}>"
        )
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(self.plain_text(outbound, token), cte="quoted-printable")
        message.add_alternative(self.html(outbound, token), subtype="html", cte="quoted-printable")
        # After add_alternative, which moves every Content-* header of the top into the first part.
        message["Content-Language"] = self._language
        return message

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
        return EmailEvent(parsed, *_events(parsed, self._reply_domain, now or datetime.now(UTC)))

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
    `parsed` keeps everything (token, full body) for the audit."""

    parsed: ParsedReply | None
    inbound: Inbound | None
    status: DeliveryStatus | None


def _events(
    parsed: ParsedReply | None, reply_domain: str, now: datetime
) -> tuple[Inbound | None, DeliveryStatus | None]:
    if parsed is None or parsed.kind == "auto_reply":
        return None, None
    if parsed.kind == "bounce":
        bounce = parsed.bounce
        if bounce is None:
            return None, None
        original = bounce.original_message_id or (f"{parsed.token}@{reply_domain}" if parsed.token else None)
        if original is None:
            return None, None  # not about a message we can name
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
