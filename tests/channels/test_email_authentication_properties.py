"""Property-based tests of the `Authentication-Results` reader (issue 20: every parser of outside input):
any header values a mail can carry (the forger writes all but the topmost) and any From address give
True or False, never an exception; what lies below the topmost header never counts, another server's
stamp never passes, and a fail for the From domain beside a pass always wins."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email_authentication import dmarc_pass

OURS = "mx.gdansk.example"
DOMAIN = "example.org"
SENDER = "ola@example.org"
PASS = f"{OURS}; dmarc=pass header.from={DOMAIN}"

# The grammar's own characters, weighted in: comments, quotes, escapes, separators and versions.
PIECES = st.sampled_from(
    ["(", ")", '"', "\\", ";", "=", " ", "\t", "dmarc", "pass", "fail", "header.from", DOMAIN, OURS, "/", "@", "1"]
)
HOSTILE = st.one_of(
    st.text(max_size=60),
    st.lists(PIECES | st.text(max_size=4), max_size=25).map("".join),
)
VALUES = st.lists(HOSTILE, max_size=4)
SENDERS = st.one_of(
    st.just(SENDER), st.text(max_size=30), st.builds(lambda local, host: f"{local}@{host}", st.text(), st.text())
)


@settings(max_examples=200)
@given(VALUES, HOSTILE, SENDERS)
def test_any_headers_and_sender_give_a_verdict(results: list[str], authserv_id: str, sender: str) -> None:
    assert dmarc_pass(results, authserv_id, sender) in (True, False)


@settings(max_examples=200)
@given(HOSTILE, VALUES)
def test_only_the_topmost_header_counts(top: str, below: list[str]) -> None:
    assert dmarc_pass([top, *below], OURS, SENDER) == dmarc_pass([top], OURS, SENDER)
    assert dmarc_pass([top, PASS, *below], OURS, SENDER) == dmarc_pass([top], OURS, SENDER)


# A server name as a header carries it: no space, comment, quote or separator in it.
SERVERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzMXĄŻ0123456789.-_", min_size=1, max_size=30)


@settings(max_examples=200)
@given(SERVERS.filter(lambda server: server.lower() != OURS), HOSTILE)
def test_another_servers_stamp_never_passes(server: str, rest: str) -> None:
    assert dmarc_pass([f"{server}; dmarc=pass header.from={DOMAIN}; {rest}"], OURS, SENDER) is False
    assert dmarc_pass([f"{server} ({OURS}); dmarc=pass header.from={DOMAIN}"], OURS, SENDER) is False


@settings(max_examples=200)
@given(HOSTILE)
def test_a_fail_for_the_domain_beside_a_pass_wins(noise: str) -> None:
    header = f"{PASS}; dmarc=fail header.from={DOMAIN}"
    # Whatever a statement of noise after them holds (a comment or quote it opens swallows only itself).
    assert dmarc_pass([f"{header}; {noise}"], OURS, SENDER) is False
