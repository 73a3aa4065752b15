"""DMARC from our own receiving server's `Authentication-Results`: only the topmost header, only with our
authserv-id, only a pass for the From domain; a forger's header lower down counts for nothing."""

from __future__ import annotations

import pytest

from channels.email_authentication import dmarc_pass

OURS = "mx.gdansk.example"
SENDER = "ola@example.org"
PASS = f"{OURS}; dmarc=pass (p=reject dis=none) header.from=example.org"

CASES = [
    ("our server says pass", [PASS], True),
    ("authserv-id compared without case", [PASS.replace(OURS, OURS.upper())], True),
    (
        "with a version and other methods",
        [f"{OURS} 1; spf=pass smtp.mailfrom=example.org; dmarc=pass header.from=example.org"],
        True,
    ),
    ("a quoted reason and a trailing dot", [f'{OURS}; dmarc=pass reason="aligned; ok" header.from=Example.ORG.'], True),
    ("another server's id", [PASS.replace(OURS, "mx.attacker.example")], False),
    ("an id that only starts like ours", [PASS.replace(OURS, OURS + ".evil")], False),
    ("dmarc failed", [PASS.replace("dmarc=pass", "dmarc=fail")], False),
    ("dmarc none", [PASS.replace("dmarc=pass", "dmarc=none")], False),
    ("a pass for another domain", [PASS.replace("header.from=example.org", "header.from=attacker.example")], False),
    ("no header.from", [f"{OURS}; dmarc=pass"], False),
    ("no dmarc at all", [f"{OURS}; spf=pass smtp.mailfrom=example.org"], False),
    ("nothing checked", [f"{OURS}; none"], False),
    (
        "pass only inside a comment",
        [f"{OURS}; dmarc=fail (dmarc=pass header.from=example.org) header.from=example.org"],
        False,
    ),
    (
        "a pass and a fail for the domain",
        [f"{OURS}; dmarc=pass header.from=example.org; dmarc=fail header.from=example.org"],
        False,
    ),
    # What a forger writes into the mail sits below the header our server put on top.
    ("a forged pass below our fail", [PASS.replace("dmarc=pass", "dmarc=fail"), PASS], False),
    (
        "a forged pass below another server's header",
        ["mx.relay.example; dmarc=fail header.from=example.org", PASS],
        False,
    ),
    ("our pass above anything", [PASS, PASS.replace("dmarc=pass", "dmarc=fail")], True),
    ("no header", [], False),
    ("an empty header", [""], False),
    ("unbalanced comment and quote", [f'{OURS}; dmarc=pass ((( header.from="example.org'], False),
]


@pytest.mark.parametrize(("label", "results", "accepted"), CASES, ids=[case[0] for case in CASES])
def test_dmarc_pass_table(label: str, results: list[str], accepted: bool) -> None:
    assert dmarc_pass(results, OURS, SENDER) is accepted, label


def test_a_sender_without_a_domain_is_never_vouched_for() -> None:
    assert not dmarc_pass([PASS], OURS, "ola")
    assert not dmarc_pass([PASS], OURS, "")
