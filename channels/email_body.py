"""The text a reader sees in a mail (pure): a text part decoded, HTML turned into text, blank lines tidied.

`decoded_body` takes the plain-text part, else the HTML part (`html_to_text`: block elements end lines,
blockquotes become "> " lines); transfer encodings and any charset Python knows are decoded (Outlook's
windows-1250 labelled ISO-8859-2 included), format=flowed lines joined again (`unflow`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import EmailMessage, Message
from html.parser import HTMLParser


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
        return tidy(self.lines)


def html_to_text(html: str) -> str:
    """The text a reader sees in an HTML mail: tags stripped, line breaks kept, quotes as "> " lines."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()


def tidy(lines: Iterable[str]) -> str:
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
    return tidy(text.split("\n"))
