"""Reading email replies (pure): the reply token, what the resident wrote, auto-replies and bounces.

`parse_reply(raw)` turns the raw bytes of one received mail into a `ParsedReply`:

- the reply token, from the address the mail was sent to (`reply+TOKEN@…`, `unsubscribe+TOKEN@…`),
  else from In-Reply-To / References (`<TOKEN@…>`, our Message-ID);
- the body decoded (quoted-printable, base64; any charset Python knows, ISO-8859-2 and windows-1250
  included; HTML-only mails turned into text), kept whole in `body` for the audit;
- `text`: only what the resident wrote, with quoted text and signatures cut (`cut_reply`) for Gmail,
  Outlook, Apple Mail and Thunderbird in English, Polish and Ukrainian;
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
from html.parser import HTMLParser
from typing import Literal

Kind = Literal["reply", "auto_reply", "bounce", "unsubscribe"]

# The reply token: lowercase base32 (RFC 4648 alphabet, no padding) of 160 bits, 32 characters. Base32
# survives anything that folds the case of an address's local part, which some mail systems do.
TOKEN_PATTERN = r"[a-z2-7]{32}"
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


# ---------------------------------------------------------------------------------------------
# Decoding.


def _charset_decode(payload: bytes, charset: str | None) -> str:
    label = (charset or "utf-8").lower()
    try:
        text = payload.decode(label, errors="strict")
    except UnicodeDecodeError:
        text = payload.decode(label, errors="replace")
    except (LookupError, ValueError):  # an unknown (or nonsensical) charset label: read it as UTF-8
        label = "utf-8"
        text = payload.decode("utf-8", errors="replace")
    if label in ("iso-8859-2", "iso8859-2", "latin2", "l2") and re.search("[\x80-\x9f]", text):
        # Outlook labels windows-1250 text as ISO-8859-2: its ś ź Ś Ź (0x9C, 0x9F, 0x8C, 0x8F) are C1
        # control characters there, which no real text contains.
        text = payload.decode("windows-1250", errors="replace")
    return text


def _part_text(part: Message) -> str:
    """A text part's content, transfer encoding and charset decoded, line ends normalised."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = _charset_decode(payload, part.get_content_charset())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "plain" and str(part.get_param("format", "")).lower() == "flowed":
        text = unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join the soft line breaks of a format=flowed (RFC 3676) text: a line ending with a space goes on."""
    out: list[str] = []
    pending = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            pending += line[:-1] if delsp else line
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return "\n".join(out)


class _TextExtractor(HTMLParser):
    """HTML to plain text: block elements and <br> end lines, blockquotes become "> " lines."""

    _BLOCKS = frozenset(
        {
            *("address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figure"),
            *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav"),
            *("ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "ul"),
        }
    )
    _SKIPPED = frozenset({"head", "script", "style", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._quote_depth = 0
        self._skip_depth = 0
        self._pre_depth = 0

    def _end_line(self, *, force: bool = False) -> None:
        line = "".join(self._current).strip()
        self._current = []
        if line or force:
            self.lines.append("> " * self._quote_depth + line if line else ">" * self._quote_depth)

    def _blank_line(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(">" * self._quote_depth)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skip_depth += 1
        elif tag == "br":
            self._end_line(force=True)
        elif tag in self._BLOCKS:
            self._end_line()
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre_depth += 1
            elif tag == "li":
                self._current.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr") and tag in self._BLOCKS | self._SKIPPED:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skip_depth = max(self._skip_depth - 1, 0)
        elif tag in self._BLOCKS:
            if tag == "p":
                self._blank_line()
            else:
                self._end_line()
            if tag == "blockquote":
                self._quote_depth = max(self._quote_depth - 1, 0)
            elif tag == "pre":
                self._pre_depth = max(self._pre_depth - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            first, *rest = data.split("\n")
            self._current.append(first)
            for line in rest:
                self._end_line(force=True)
                self._current.append(line)
            return
        self._current.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        self._end_line()
        return _tidy(self.lines)


def html_to_text(html: str) -> str:
    """The text a reader sees in an HTML mail: tags stripped, line breaks kept, quotes as "> " lines."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()


def _tidy(lines: Iterable[str]) -> str:
    """Trailing spaces off, runs of blank lines folded to one, no blank lines at either end."""
    out: list[str] = []
    for line in lines:
        line = line.replace("\u00a0", " ").rstrip()
        if not line.strip("> ") and out and not out[-1].strip("> "):
            continue
        out.append(line)
    while out and not out[-1].strip("> "):
        out.pop()
    while out and not out[0].strip("> "):
        out.pop(0)
    return "\n".join(out).strip()


def decoded_body(message: EmailMessage) -> str:
    """The body a reader sees: the plain-text part, else the HTML part as text; empty when neither."""
    part: Message | None = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        # A mail whose only text parts are attachments (or none at all).
        for candidate in message.walk():
            if candidate.get_content_maintype() == "text":
                part = candidate
                break
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return _tidy(text.split("\n"))


# ---------------------------------------------------------------------------------------------
# Cutting quotes and signatures.

_QUOTE_VERBS = (
    r"wrote|napisał\(a\)|napisał\(-a\)|napisała|napisał|pisze|написав\(ла\)|написала|написав|пише|schrieb|a écrit"
)
# The line that ends a reply header ("… wrote:"); the header may be wrapped over up to three lines.
_HEADER_END = re.compile(rf"(?:{_QUOTE_VERBS})\s*:\s*$", re.IGNORECASE)
# How a wrapped reply header begins: "On …", "W dniu …", "Dnia …", a date, a weekday.
_HEADER_START = re.compile(
    r"^(on|w dniu|dnia|am|le|el|op|\d|"
    r"pon|wt|śr|czw|pt|sob|niedz|mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|нд)\b",
    re.IGNORECASE,
)
# macOS Mail in Polish: "Wiadomość napisana przez Jan Kowalski <…> w dniu 02.03.2027, o godz. 10:00:"
_APPLE_PL_HEADER = re.compile(r"^wiadomość napisana przez\b.*\bw dniu\b.*:\s*$", re.IGNORECASE)
# Outlook's header block: "From: … / Sent: … / To: … / Subject: …" and its translations.
_OUTLOOK_FROM = re.compile(r"^\*?(from|od|від|von|de)\s*:\*?\s*\S", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"^\*?(sent|date|wysłane|wysłano|data|надіслано|дата|gesendet|envoyé)\s*:", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^(_{10,}|-{3,}\s*(original message|wiadomość oryginalna|oryginalna wiadomość|"
    r"оригінальне повідомлення|forwarded message|przekazana wiadomość)\s*-{3,})\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE_SIGNATURE = re.compile(
    r"^(sent from my \w+|sent from (mail|outlook|yahoo)\b|get outlook for \w+|"
    r"(wysłane|wysłano) z (mojego |mojej |aplikacji )?(iphone|ipad|telefonu|smartfona|urządzenia|samsung|"
    r"huawei|xiaomi|outlook|poczty|aplikacji)|pobierz (aplikację )?outlook|"
    r"надіслано з (мого )?\w+)",
    re.IGNORECASE,
)


# A closing line ("Pozdrawiam," / "Regards,") followed by at most a name and a line or two.
_VALEDICTION = re.compile(
    r"^(pozdrawiam|pozdrowienia|serdecznie pozdrawiam|serdeczne pozdrowienia|z poważaniem|z wyrazami szacunku|"
    r"łączę pozdrowienia|dziękuję|dzięki|regards|best regards|kind regards|best wishes|best|cheers|thanks|"
    r"thank you|many thanks|з повагою|дякую|щиро дякую)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_VALEDICTION_TAIL = 5  # lines after the closing: a name, an address, a phone
_VALEDICTION_TAIL_WIDTH = 60


def _cut_valediction(text: str) -> str:
    """The text without a closing formula and the name under it, when something stands above it."""
    lines = text.split("\n")
    for index in range(len(lines) - 1, 0, -1):
        if not _VALEDICTION.match(lines[index].strip()):
            continue
        tail = [line for line in lines[index + 1 :] if line.strip()]
        above = _tidy(lines[:index])
        if above and len(tail) <= _VALEDICTION_TAIL and all(len(line) <= _VALEDICTION_TAIL_WIDTH for line in tail):
            return above
        break
    return text


def _unquoted(line: str) -> str:
    return line.lstrip().lstrip(">").strip() if line.lstrip().startswith(">") else line.strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _reply_header_at(lines: list[str], index: int) -> int | None:
    """When line `index` ends a reply header ("… wrote:"), the index of the header's first line."""
    line = _unquoted(lines[index])
    if not line.endswith(":"):
        return None
    ends_with_verb = bool(_HEADER_END.search(line))
    for start in (index, index - 1, index - 2):
        if start < 0:
            break
        first = _unquoted(lines[start])
        if not first or (start < index and re.search(r"[.!?]$", first)):
            break  # a blank line or the end of a sentence: the header does not reach further up
        if _APPLE_PL_HEADER.match(" ".join(_unquoted(part) for part in lines[start : index + 1])):
            return start
        if ends_with_verb and _HEADER_START.match(first):
            return start
    # "Jan Kowalski <jan@example.org> napisał:" with no known opening: an address or a digit marks it.
    if ends_with_verb and re.search(r"@|\d", line):
        return index
    return None


def _outlook_header_at(lines: list[str], index: int) -> bool:
    if not _OUTLOOK_FROM.match(_unquoted(lines[index])):
        return False
    following = [_unquoted(line) for line in lines[index + 1 : index + 5]]
    return any(_OUTLOOK_SENT.match(line) for line in following)


CutKind = Literal["signature", "outlook", "header"]


def _find_cut(lines: list[str]) -> tuple[int, int, CutKind] | None:
    """(first line cut, first line after it, what it is) of the earliest cut point."""
    for index, line in enumerate(lines):
        plain = _unquoted(line)
        if not _is_quoted(line) and (_SIGNATURE.match(line) or _MOBILE_SIGNATURE.match(plain)):
            return index, index + 1, "signature"
        if _SEPARATOR.match(plain):
            return index, index + 1, "outlook"
        if _outlook_header_at(lines, index):
            start = index
            # A separator line (Outlook's underscores) just above the header goes too.
            previous = index - 1
            while previous >= 0 and not lines[previous].strip():
                previous -= 1
            if previous >= 0 and _SEPARATOR.match(_unquoted(lines[previous])):
                start = previous
            return start, index + 1, "outlook"
        start_of_header = _reply_header_at(lines, index)
        if start_of_header is not None:
            return start_of_header, index + 1, "header"
    return None


def cut_reply(text: str) -> str:
    """Only what the resident wrote: quoted text, reply headers and signatures removed.

    A top-posted reply is the text above the first reply header, separator or signature. When nothing
    stands above a "… wrote:" header, the reply is bottom-posted: the unquoted lines under the header,
    cut again. Under an Outlook header the original follows unquoted, so nothing there is taken.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").split("\n")
    cut = _find_cut(lines)
    head = lines if cut is None else lines[: cut[0]]
    kept = _cut_valediction(_tidy(line for line in head if not _is_quoted(line)))
    if kept or cut is None or cut[2] != "header":
        return kept
    tail = [line for line in lines[cut[1] :] if not _is_quoted(line)]
    return cut_reply("\n".join(tail))


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
