"""Composing a question mail (pure apart from the Date header's clock): headers, text and HTML bodies.

Every message carries its reply token (`email_tokens.reply_token` over the outbox key). It is in

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

The text and HTML parts hold the question, its choices (numbered lines, or values) and a hint in the
mail's language, and a footer naming the organisation with the unsubscribe link.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote

from channels import webhook_paths
from channels.base import Outbound, SendError
from channels.email_tokens import reply_token

SUBJECT_LIMIT = 78
DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")  # a domain name in ASCII (IDNA) form
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
    if not DOMAIN.fullmatch(ascii_domain) or "." not in ascii_domain:
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
LANGUAGES = tuple(_STRINGS)  # the languages a mail can be written in

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


class MailComposer:
    """The question mails of one sender: the reply token's headers and links, the text and HTML parts."""

    def __init__(
        self,
        *,
        sender: str,
        reply_domain: str,
        public_url: str,
        token_secret: bytes,
        organisation: str,
        language: str,
    ) -> None:
        self._sender = sender
        self._reply_domain = reply_domain
        self._public_url = public_url
        self._secret = token_secret
        self._organisation = organisation
        self._language = language

    # --- tokens and links ------------------------------------------------------------------------

    def token(self, outbound_key: str) -> str:
        return reply_token(self._secret, outbound_key)

    def message_id(self, token: str) -> str:
        """The provider id (`Sent.provider_id`) of the message carrying `token`: its Message-ID."""
        return f"{token}@{self._reply_domain}"

    def answer_url(self, token: str, key: str) -> str:
        return self._public_url + webhook_paths.ANSWER_LINK.format(token=token, key=quote(key, safe=""))

    def unsubscribe_url(self, token: str) -> str:
        return self._public_url + webhook_paths.UNSUBSCRIBE_LINK.format(token=token)

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
