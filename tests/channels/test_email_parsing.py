"""Reading replies (pure): real clients' raw replies in, the token, the resident's words and the kind out.

Each fixture under email_fixtures/ is a raw mail as the client sends it (headers, MIME structure,
transfer encoding and charset as that client writes them); the table says what must come out.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.email_parsing import Bounce, _parse_reply, parse_reply
from tests.providers import REPLY_DOMAIN

FIXTURES = Path(__file__).parent / "email_fixtures"

# file → (kind, token, sender, text)
EXPECTED: dict[str, tuple[str, str | None, str, str]] = {
    "01_gmail_en.eml": (
        "reply",
        "hdl5emvmv3cdt2d7njryiq4en3y7uduy",
        "jane.doe.gdansk@gmail.com",
        "Yes, more benches please!",
    ),
    "02_gmail_pl.eml": (
        "reply",
        "plozdzcyiezkn4t3nqp3qcyvfu63xofn",
        "m.zielinska.gda@gmail.com",
        "Tak, zdecydowanie.",
    ),
    "03_outlook_pl.eml": ("reply", "fdk5e62rieuned3pnws6hxmg5rhzut3m", "anna.nowak.gdansk@outlook.com", "2"),
    "04_outlook_en.eml": (  # sent to the From address: the token comes from In-Reply-To
        "reply",
        "lov73g5knkfuiofspae5ttrb7rpqde7f",
        "john.smith.gda@outlook.com",
        "I would rather have more trees than benches.",
    ),
    "05_apple_mail_en.eml": (  # format=flowed joined, "Sent from my iPhone" cut
        "reply",
        "ya4jgsow6p7t66zxjxd52cct3endcd5s",
        "tom.baker.gda@icloud.com",
        "I go to the park every week, mostly with my dog, and the benches are always taken.",
    ),
    "06_apple_mail_pl.eml": (
        "reply",
        "bdae3miloykh5lzqykpa5bll7xe2kvnx",
        "k.lewandowska@icloud.com",
        "Co miesiąc, częściej nie mam czasu.",
    ),
    "07_apple_mail_macos_pl.eml": (
        "reply",
        "doeffzlxcopfzvlxsrc7fkaccrdqm2w4",
        "pawel.kaminski@me.com",
        "Nie mam zdania.",
    ),
    "08_thunderbird_pl.eml": (
        "reply",
        "4ykcr2fbqjoi47lafhkcbsctpposegae",
        "tomasz.wojcik@wp.pl",
        "Nie, wolę drzewa.",
    ),
    "09_thunderbird_bottom.eml": ("reply", "6yjr7say2ce4bhnrcuxs3iqkw2z6ulq7", "piotr.wisniewski@onet.pl", "3"),
    "10_signature.eml": (
        "reply",
        "c4h5tkbtocqefrbnlifsbjqh6pnpg7t2",
        "jan.kowalski@interia.pl",
        "Tak, jestem za.",
    ),
    "11_html_only.eml": (
        "reply",
        "6ezjf2kvk7iot463e57gwh2xiqst5xaa",
        "ewa.dabrowska@gmail.com",
        "Wolę ławki przy stawie,\na nie przy placu zabaw.",
    ),
    "12_outlook_html_pl_1250.eml": (  # labelled ISO-8859-2, written in windows-1250
        "reply",
        "u6bszno4myexdlgvbp66jdkpb6hnoy77",
        "ola.mazur@outlook.com",
        "Więcej ścieżek rowerowych, proszę.",
    ),
    "13_quoted_printable.eml": (
        "reply",
        "bhilf56rrcajatx57lyzxaonccez2bcu",
        "b.szymanska@o2.pl",
        "Uważam, że ławki powinny stać w cieniu drzew, bo latem na słońcu nikt na nich nie siada, "
        "a zimą przydałoby się je odśnieżać.",
    ),
    "14_base64_uk.eml": (
        "reply",
        "3peam3q4cdynyjjvedclxbdx5yvbwje7",
        "oksana.kovalchuk@gmail.com",
        "Так, більше лавок, будь ласка.",
    ),
    "15_iso_8859_2.eml": (
        "reply",
        "ldhmquublvn6vc7kngseqy4dtbpkg7c6",
        "zofia.krawczyk@poczta.onet.pl",
        "Żółte ławki byłyby świetne.",
    ),
    "16_answer_number.eml": ("reply", "h7g5y52bpusrai56bm4twcqnrtoxb53t", "marek.nowicki@wp.pl", "2"),
    "17_auto_submitted.eml": ("auto_reply", "mquugbv6xushs3xkifdfpjzgtq4tthks", "adam.wrobel@gdansk-firma.example", ""),
    "18_automatyczna_odpowiedz.eml": (
        "auto_reply",
        "xv2fxd63t3om4bdw6zvtxakn3s6i5qx5",
        "beata.kaczmarek@urzad.example",
        "",
    ),
    "19_x_autoreply.eml": ("auto_reply", "sykdqumec2ffxo4ewblgx2tbnbapjduz", "g.pawlak@interia.pl", ""),
    "20_dsn_5_1_1.eml": ("bounce", "k7xq2m4n6p3r5s7t2v4w6y3z5a7b2c4d", "mailer-daemon@mx.konsultacje.example", ""),
    "21_dsn_delayed.eml": ("bounce", "q2w3e4r5t6y7u2i3o4p5a6s7d2f3g4h5", "mailer-daemon@mx.konsultacje.example", ""),
    "22_unsubscribe_mailto.eml": ("unsubscribe", "z7y6x5w4v3u2t7s6r5q4p3o2n7m6l5k4", "jane.doe.gdansk@gmail.com", ""),
}

BOUNCES = {
    "20_dsn_5_1_1.eml": Bounce(
        recipient="nie.ma.takiego@gmail.com",
        status="5.1.1",
        action="failed",
        original_message_id=f"k7xq2m4n6p3r5s7t2v4w6y3z5a7b2c4d@{REPLY_DOMAIN}",
    ),
    "21_dsn_delayed.eml": Bounce(
        recipient="someone@slow-server.example",
        status="4.4.1",
        action="delayed",
        original_message_id=f"q2w3e4r5t6y7u2i3o4p5a6s7d2f3g4h5@{REPLY_DOMAIN}",
    ),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.eml")) == sorted(EXPECTED)
    assert len([row for row in EXPECTED.values() if row[0] == "reply"]) >= 12


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_table(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    parsed = parse_reply(raw)
    assert parsed is not None, name
    kind, token, sender, text = EXPECTED[name]
    assert (parsed.kind, parsed.token, parsed.sender, parsed.text) == (kind, token, sender, text), name
    assert parsed.message_id and "<" not in parsed.message_id
    assert parsed.bounce == BOUNCES.get(name)
    if kind == "reply":
        # The whole decoded body stays for the audit: the reply, and the quote under it.
        assert text.split("\n")[0] in parsed.body
        assert len(parsed.body) > len(text) or name == "16_answer_number.eml"


def test_full_body_is_decoded_text_for_the_audit() -> None:
    parsed = parse_reply((FIXTURES / "03_outlook_pl.eml").read_bytes())
    assert parsed is not None
    assert "Wysłane: wtorek, 2 marca 2027 10:00" in parsed.body  # windows-1250 quoted-printable decoded
    assert "Czy chcesz więcej ławek w Parku Oruńskim?" in parsed.body
    assert parsed.language == "pl-PL"
    assert parsed.date == datetime(2027, 3, 2, 9, 41, 7, tzinfo=UTC)
    html_only = parse_reply((FIXTURES / "11_html_only.eml").read_bytes())
    assert html_only is not None
    assert "<" not in html_only.body.replace("<konsultacje@konsultacje.example>", "")
    assert "> Czy chcesz więcej ławek w Parku Oruńskim?" in html_only.body  # the blockquote, as a quote


def test_a_permanent_bounce_and_a_delay_are_told_apart() -> None:
    assert BOUNCES["20_dsn_5_1_1.eml"].permanent
    assert not BOUNCES["21_dsn_delayed.eml"].permanent


# --- small raw mails -------------------------------------------------------------------------------

TOKEN = "abcdefghijklmnopqrstuvwxyz234567"


def mail(*headers: str, body: str = "Tak\r\n", content_type: str = "text/plain; charset=utf-8") -> bytes:
    lines = [
        "From: Jan <jan@example.org>",
        "Message-ID: <m1@example.org>",
        "Subject: Re: pytanie",
        f"Content-Type: {content_type}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


@pytest.mark.parametrize(
    ("label", "raw", "kind", "token"),
    [
        ("To reply+TOKEN", mail(f"To: reply+{TOKEN}@r.example"), "reply", TOKEN),
        ("upper-cased by a mail system", mail(f"To: REPLY+{TOKEN.upper()}@R.EXAMPLE"), "reply", TOKEN),
        (
            "only in Delivered-To",
            mail("To: someone@r.example", f"Delivered-To: reply+{TOKEN}@r.example"),
            "reply",
            TOKEN,
        ),
        ("In-Reply-To", mail("To: konsultacje@example.org", f"In-Reply-To: <{TOKEN}@r.example>"), "reply", TOKEN),
        (
            "the last of our References",
            mail("To: x@example.org", f"References: <other@x.example> <{TOKEN}@r.example> <CAF12@mail.gmail.com>"),
            "reply",
            TOKEN,
        ),
        ("no token anywhere", mail("To: konsultacje@example.org"), "reply", None),
        ("a token too short is none", mail("To: reply+abc@r.example"), "reply", None),
        ("Auto-Submitted: no is a person", mail("To: x@example.org", "Auto-Submitted: no"), "reply", None),
        (
            "Auto-Submitted: auto-generated",
            mail("To: x@example.org", "Auto-Submitted: auto-generated"),
            "auto_reply",
            None,
        ),
        ("X-Autorespond", mail("To: x@example.org", "X-Autorespond: vacation"), "auto_reply", None),
        ("Precedence: bulk", mail("To: x@example.org", "Precedence: bulk"), "auto_reply", None),
        (
            "Automatic reply subject",
            mail("To: x@example.org").replace(b"Subject: Re: pytanie", b"Subject: Automatic reply: pytanie"),
            "auto_reply",
            None,
        ),
        ("unsubscribe mailto", mail(f"To: unsubscribe+{TOKEN}@r.example"), "unsubscribe", TOKEN),
        (
            "a bounce without a report, from MAILER-DAEMON",
            mail("To: konsultacje@example.org", body="550 5.1.1 user unknown\r\n")
            .replace(b"From: Jan <jan@example.org>", b"From: MAILER-DAEMON@mx.example.org")
            .replace(b"Subject: Re: pytanie", b"Subject: Mail delivery failed: returning message to sender"),
            "bounce",
            None,
        ),
    ],
)
def test_kind_and_token_table(label: str, raw: bytes, kind: str, token: str | None) -> None:
    parsed = parse_reply(raw)
    assert parsed is not None, label
    assert (parsed.kind, parsed.token) == (kind, token), label


def test_a_bounce_without_a_report_keeps_its_status_code() -> None:
    raw = (
        mail(body="550 5.1.1 user unknown\r\n")
        .replace(b"From: Jan <jan@example.org>", b"From: MAILER-DAEMON@mx.example.org")
        .replace(b"Subject: Re: pytanie", b"Subject: Undeliverable: pytanie")
    )
    parsed = parse_reply(raw)
    assert parsed is not None and parsed.bounce == Bounce(None, "5.1.1", "failed", None)


@pytest.mark.parametrize(
    ("label", "raw"),
    [
        ("no headers at all", b""),
        ("no From", b"Subject: x\r\n\r\nTak\r\n"),
    ],
)
def test_unanswerable_mail_is_none(label: str, raw: bytes) -> None:
    assert parse_reply(raw) is None, label


def test_message_without_message_id_gets_a_stable_digest() -> None:
    raw = mail().replace(b"Message-ID: <m1@example.org>\r\n", b"")
    first, second = parse_reply(raw), parse_reply(raw)
    assert first is not None and second is not None
    assert first.message_id == second.message_id and first.message_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("charset", "encoded"),
    [
        ("iso-8859-2", "Zażółć gęślą jaźń".encode("iso-8859-2")),
        ("windows-1250", "Zażółć gęślą jaźń".encode("windows-1250")),
        ("utf-8", "Zażółć gęślą jaźń".encode()),
        ("x-unknown-charset", "Zażółć gęślą jaźń".encode()),  # unknown label: read as UTF-8
    ],
)
def test_charsets(charset: str, encoded: bytes) -> None:
    raw = (
        b"From: jan@example.org\r\nContent-Type: text/plain; charset="
        + charset.encode()
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + encoded
        + b"\r\n"
    )
    parsed = parse_reply(raw)
    assert parsed is not None and parsed.text == "Zażółć gęślą jaźń"


def test_damaged_mail_never_breaks_the_reader() -> None:
    """Seeded mutations of every fixture (cut, bytes flipped, pieces copied, header syntax thrown in):
    the reader itself, without parse_reply's last-resort guard, must not raise."""
    rng = random.Random(20270302)
    originals = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]
    noise = b'<>@:;,"()\\=?\r\n\t '
    for _ in range(400):
        raw = bytearray(rng.choice(originals))
        for _ in range(rng.randrange(1, 4)):
            if not raw:
                break
            at = rng.randrange(len(raw))
            operation = rng.randrange(4)
            if operation == 0:
                raw = raw[:at]
            elif operation == 1:
                for _ in range(rng.randrange(1, 20)):
                    raw[rng.randrange(len(raw))] = rng.randrange(256)
            elif operation == 2:
                start = rng.randrange(len(raw))
                raw[at:at] = raw[start : start + rng.randrange(200)]
            else:
                raw[at:at] = bytes(rng.choice(noise) for _ in range(rng.randrange(1, 12)))
        _parse_reply(bytes(raw))  # raises on a reader bug
