"""Property-based tests of the mail reader (issue 20): any mail built from hostile parts — headers
with encoded words and odd charsets, any Content-Type and transfer encoding, nested multiparts, bodies
of any bytes — is read by `_parse_reply` itself (without parse_reply's last-resort guard) into a reply
or None, never an exception, and a reply's sender is the From address, lowercased.

The seeded byte-level mutations of real mails stay in test_email_parsing.py; these build mails from
their grammar, so that every branch of the reader (bounces, auto-replies, tokens) is reached."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email_parsing import ParsedReply, _parse_reply

HEADER_TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=30),
    st.sampled_from(
        ["=?utf-8?q?Za=C5=BC=C3=B3=C5=82=C4=87?=", "=?iso-8859-2?b?sWI=?=", "=?bogus?x?abc?=", "=?utf-8?b?"]
    ),
)
CONTENT_TYPES = st.sampled_from(
    [
        "text/plain",
        "text/html",
        "multipart/alternative",
        "multipart/mixed",
        "multipart/report; report-type=delivery-status",
        "message/delivery-status",
        "message/rfc822",
        "text/rfc822-headers",
        "application/octet-stream",
        "text/plain; format=flowed; delsp=yes",
    ]
)
CHARSETS = st.sampled_from(["utf-8", "iso-8859-2", "windows-1250", "us-ascii", "x-unknown", "utf-7", ""])
ENCODINGS = st.sampled_from(["7bit", "8bit", "quoted-printable", "base64", "x-uuencode", "binary"])
SENDERS = st.sampled_from(["Ala <ALA@Example.org>", "ala@example.org", "<>", "MAILER-DAEMON@mx.example.org", ""])
TOKENS = st.sampled_from(["", "<r-abc123@outreach.example.org>", "<broken", "<a@b> <c@d>"])
BODIES = st.binary(max_size=120) | st.text(max_size=80).map(lambda text: text.encode("utf-8", "surrogatepass"))


@st.composite
def parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    content_type = draw(CONTENT_TYPES)
    charset = draw(CHARSETS)
    headers = [f"Content-Type: {content_type}" + (f"; charset={charset}" if charset else "")]
    headers.append(f"Content-Transfer-Encoding: {draw(ENCODINGS)}")
    if content_type.startswith("multipart/") and depth < 2:
        boundary = "b" + str(depth)
        headers[0] += f'; boundary="{boundary}"'
        children = draw(st.lists(parts(depth + 1), max_size=3))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
        body += b"--" + boundary.encode() + (b"--\r\n" if draw(st.booleans()) else b"\r\n")
    else:
        body = draw(BODIES)
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + body


@st.composite
def mails(draw: st.DrawFn) -> tuple[bytes, str]:
    sender = draw(SENDERS)
    headers = [
        f"From: {sender}",
        f"Subject: {draw(HEADER_TEXT)}",
        f"In-Reply-To: {draw(TOKENS)}",
        f"References: {draw(TOKENS)}",
        f"Message-ID: {draw(TOKENS)}",
        f"Date: {draw(st.sampled_from(['Thu, 3 Dec 2026 10:00:00 +0100', 'not a date', '']))}",
        f"Auto-Submitted: {draw(st.sampled_from(['no', 'auto-replied', '']))}",
        "Content-Language: " + draw(st.sampled_from(["pl", "en, uk", "", "\x00"])),
        "MIME-Version: 1.0",
    ]
    kept = draw(st.lists(st.sampled_from(headers), unique=True, max_size=len(headers)))
    return "\r\n".join(kept).encode("utf-8", "surrogatepass") + b"\r\n" + draw(parts()), sender


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mails())
def test_any_mail_built_from_hostile_parts_is_read_or_passed_over(mail: tuple[bytes, str]) -> None:
    raw, _sender = mail
    reply = _parse_reply(raw)  # raises on a reader bug
    if reply is not None:
        assert isinstance(reply, ParsedReply)
        assert reply.sender == reply.sender.lower() and isinstance(reply.text, str) and isinstance(reply.body, str)


def test_a_plain_reply_is_read() -> None:
    """The positive control: the grammar above makes mails the reader accepts."""
    raw = (
        b"From: Ala <ALA@Example.org>\r\nSubject: Re: pytanie\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ntak\r\n"
    )
    reply = _parse_reply(raw)
    assert reply is not None and reply.sender == "ala@example.org" and reply.text == "tak"
