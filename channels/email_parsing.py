"""Reading email replies (pure): the reply token, what the resident wrote, auto-replies and bounces.

`parse_reply(raw)` turns the raw bytes of one received mail into a `ParsedReply`:

- the reply token, from the address the mail was sent to (`reply+TOKEN@…`, `unsubscribe+TOKEN@…`),
  else from In-Reply-To / References (`<TOKEN@…>`, our Message-ID);
- the body decoded (quoted-printable, base64; any charset Python knows, ISO-8859-2 and windows-1250
  included; HTML-only mails turned into text), kept whole in `body` for the audit (`email_body`);
- `text`: only what the resident wrote, with quoted text and signatures cut for Gmail, Outlook, Apple
  Mail and Thunderbird in English, Polish and Ukrainian (`email_quotes.cut_reply`);
- `kind`: "reply", "auto_reply" (Auto-Submitted, X-Autoreply, "Automatyczna odpowiedź" …, never an
  answer), "bounce" (a delivery status notification, with the failed recipient, its status code and the
  original Message-ID) or "unsubscribe" (a mail to the List-Unsubscribe mailto address).

Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Literal

from channels.email_body import decoded_body
from channels.email_quotes import cut_reply
from channels.email_tokens import TOKEN_PATTERN

Kind = Literal["reply", "auto_reply", "bounce", "unsubscribe"]

_TOKEN = re.compile(TOKEN_PATTERN)
_TAGGED_ADDRESS = re.compile(rf"(reply|unsubscribe)\+({TOKEN_PATTERN})", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_ENHANCED_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")

# Addresses a mail is delivered to; the MTA adds the last three when the header To does not hold ours.
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification says about the one recipient it reports on."""

    recipient: str | None  # the Final-Recipient (lowercased), when the report names it
    status: str | None  # the enhanced status code, "5.1.1"
    action: str  # failed, delayed, delivered, relayed, expanded
    original_message_id: str | None  # of the message that bounced, without angle brackets

    @property
    def permanent(self) -> bool:
        """A permanent failure (5.x.x): the address must not be written to again."""
        return self.action == "failed" and (self.status is None or self.status.startswith("5"))


@dataclass(frozen=True)
class ParsedReply:
    kind: Kind
    message_id: str  # without angle brackets; a digest of the raw mail when it has none
    sender: str  # the From address, lowercased
    token: str | None  # the reply token the mail answers, when it carries one
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    text: str  # only what the resident wrote (empty for auto-replies and bounces)
    body: str  # the whole decoded body as text, for the audit
    date: datetime | None  # the Date header (the sender's clock: for the audit only)
    language: str | None = None  # Content-Language, when the sender's client set it
    bounce: Bounce | None = None
    authentication_results: tuple[str, ...] = ()  # the Authentication-Results values, topmost first


# ---------------------------------------------------------------------------------------------
# Auto-replies and bounces.

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatyczna odpowiedź|odpowiedź automatyczna|automatic reply|auto[- ]?reply|autoreply|"
    r"auto:|out of (the )?office|poza biurem|nieobecność|jestem poza|urlop:|"
    r"автоматична відповідь|автовідповідь)",
    re.IGNORECASE,
)
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered|delivery status notification|delivery failure|failure notice|returned mail|"
    r"mail delivery failed|niedostarcz|nie dostarczono|nie można dostarczyć|zwrot)",
    re.IGNORECASE,
)


def _is_auto_reply(message: Message, subject: str) -> bool:
    submitted = _header_text(message, "Auto-Submitted").lower()
    if submitted and not submitted.startswith("no"):
        return True
    if any(_raw_values(message, name) for name in _AUTO_HEADERS):
        return True
    if _header_text(message, "Precedence").lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(_AUTO_SUBJECT.match(subject))


def _message_id(value: str) -> str | None:
    text = value.strip()
    found = _MESSAGE_ID.search(text)
    if found:
        return found.group(1)
    return text or None


def _token_of_message_id(message_id: str | None) -> str | None:
    if not message_id:
        return None
    local = message_id.partition("@")[0].lower()
    return local if _TOKEN.fullmatch(local) else None


def _headers_of_original(report: Message) -> Message | None:
    """The returned message's headers: a message/rfc822 or text/rfc822-headers part of the report."""
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if content_type == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return BytesHeaderParser(policy=policy.default).parsebytes(payload)
    return None


def _recipient_blocks(report: Message) -> list[Message]:
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list):
                # The first block is about the message, the others each about one recipient.
                return [block for block in blocks[1:] if isinstance(block, Message)]
    return []


def _typed_address(value: object) -> str | None:
    """ "rfc822; jan@example.org" → "jan@example.org"."""
    if value is None:
        return None
    address = str(value).partition(";")[2].strip() or str(value).strip()
    return address.lower() or None


def _bounce(message: Message, body: str) -> Bounce:
    original = _headers_of_original(message)
    original_id = _message_id(_header_text(original, "Message-ID")) if original is not None else None
    if message.get_content_type() == "multipart/report" and str(message.get_param("report-type", "")).lower() == (
        "delivery-status"
    ):
        blocks = _recipient_blocks(message)
        chosen = next((b for b in blocks if _header_text(b, "Action").lower() == "failed"), None)
        chosen = chosen or (blocks[0] if blocks else None)
        if chosen is None:
            return Bounce(None, None, "failed", original_id)
        status = _ENHANCED_STATUS.search(_header_text(chosen, "Status"))
        return Bounce(
            recipient=_typed_address(chosen.get("Final-Recipient") or chosen.get("Original-Recipient")),
            status=status.group(1) if status else None,
            action=str(chosen.get("Action", "failed")).strip().lower() or "failed",
            original_message_id=original_id,
        )
    # A bounce without a report (old qmail, some webmails): a status code in the text, if any.
    status = _ENHANCED_STATUS.search(body)
    return Bounce(None, status.group(1) if status else None, "failed", original_id)


def _is_bounce(message: Message, sender: str, subject: str) -> bool:
    if message.get_content_type() == "multipart/report":
        return str(message.get_param("report-type", "")).lower() == "delivery-status"
    local = sender.partition("@")[0]
    return local in _BOUNCE_SENDERS and bool(_BOUNCE_SUBJECT.search(subject))


# ---------------------------------------------------------------------------------------------
# The whole reading.


def _addresses(message: Message, names: Iterable[str]) -> list[str]:
    values = [value for name in names for value in _raw_values(message, name)]
    return [address for _, address in getaddresses(values) if address]


def _tagged_token(message: Message) -> tuple[str, str] | None:
    """("reply" | "unsubscribe", token) from the address the mail was sent to."""
    for address in _addresses(message, _RECIPIENT_HEADERS):
        local = address.rpartition("@")[0]
        found = _TAGGED_ADDRESS.fullmatch(local)
        if found:
            return found.group(1).lower(), found.group(2).lower()
    return None


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _raw_values(message: Message, name: str) -> list[str]:
    """Every value of a header, RFC 2047 words decoded, without the policy's structured parsing: that
    parser raises on some malformed headers (IndexError, AttributeError …), and a reply must still read."""
    wanted = name.lower()
    items = message.raw_items() if isinstance(message, EmailMessage) else message.items()
    values = []
    for key, value in items:
        if key.lower() != wanted:
            continue
        # 8-bit bytes in a header (raw UTF-8, RFC 6532) arrive as surrogate escapes.
        text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        with contextlib.suppress(ValueError, LookupError, UnicodeError, MessageError):
            text = str(make_header(decode_header(text)))  # else the raw text stays
        values.append(" ".join(text.split()))
    return values


def _header_text(message: Message, name: str) -> str:
    values = _raw_values(message, name)
    return values[0].strip() if values else ""


def parse_reply(raw: bytes) -> ParsedReply | None:
    """One received mail, read; None when it has no sender at all (nothing to answer to) or cannot be
    read at all. Never raises: a mail that breaks the reader must not hold up the mailbox."""
    try:
        return _parse_reply(raw)
    except Exception:  # the stdlib's parser on hostile input (tests fuzz `_parse_reply` to keep this rare)
        return None


def _parse_reply(raw: bytes) -> ParsedReply | None:
    message = email.message_from_bytes(raw, policy=policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        return None
    sender = parseaddr(_header_text(message, "From"))[1].lower()
    subject = " ".join(_header_text(message, "Subject").split())
    message_id = _message_id(_header_text(message, "Message-ID")) or "sha256:" + hashlib.sha256(raw).hexdigest()
    in_reply_to = _message_id(_header_text(message, "In-Reply-To"))
    references = tuple(_MESSAGE_ID.findall(_header_text(message, "References")))
    language = _header_text(message, "Content-Language").split(",")[0].strip() or None
    body = decoded_body(message)

    tagged = _tagged_token(message)
    token = tagged[1] if tagged else None
    if token is None:
        for candidate in (in_reply_to, *reversed(references)):
            token = _token_of_message_id(candidate)
            if token:
                break

    base = ParsedReply(
        kind="reply",
        message_id=message_id,
        sender=sender,
        token=token,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        text="",
        body=body,
        date=_date(_header_text(message, "Date")),
        language=language,
        authentication_results=tuple(_raw_values(message, "Authentication-Results")),
    )
    if _is_bounce(message, sender, subject):
        bounce = _bounce(message, body)
        original_token = _token_of_message_id(bounce.original_message_id)
        return replace(base, kind="bounce", token=original_token or token, bounce=bounce)
    if not sender:
        return None
    if tagged and tagged[0] == "unsubscribe":
        return replace(base, kind="unsubscribe")
    if _is_auto_reply(message, subject):
        return replace(base, kind="auto_reply")
    return replace(base, text=cut_reply(body))
