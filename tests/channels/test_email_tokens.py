"""The reply token: 160 bits of case-proof base32, the same for a resend, different for any other key or secret."""

from __future__ import annotations

import re

from channels.email_tokens import is_token, reply_token

SECRET = b"test-token-secret-0123456789"


def test_reply_token_is_160_bits_of_case_proof_base32() -> None:
    token = reply_token(SECRET, "q:1:7:park:1")
    assert re.fullmatch(r"[a-z2-7]{32}", token) and is_token(token)
    assert len(token) * 5 >= 128  # 32 base32 characters: 160 bits
    assert token == reply_token(SECRET, "q:1:7:park:1")  # a resend carries the same token
    assert token != reply_token(SECRET, "q:1:7:park:2")
    assert token != reply_token(b"another-secret-0123456789", "q:1:7:park:1")
    tokens = {reply_token(SECRET, f"q:1:{n}:park:1") for n in range(2000)}
    assert len(tokens) == 2000
    assert not is_token(token.upper()) and not is_token(token[:-1])
