"""Reading a JSON body (outreach.web.json_bodies.parse_document): what passes, and what is refused where."""

from __future__ import annotations

import json

import pytest

from outreach.web.json_bodies import MAX_DEPTH, RefusedJson, parse_document


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_documents_as_deep_as_the_limit_pass_and_one_level_more_is_refused() -> None:
    assert parse_document(nested(MAX_DEPTH + 1)) is not None  # the outermost array is the body itself
    with pytest.raises(RefusedJson, match=f"deeper than {MAX_DEPTH} levels"):
        parse_document(nested(MAX_DEPTH + 2))


def test_100000_brackets_are_refused_not_a_recursion_error() -> None:
    with pytest.raises(RefusedJson, match="deeper than"):
        parse_document(nested(100_000))
    with pytest.raises(RefusedJson, match="deeper than"):
        parse_document(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)


def test_a_surrogate_pair_is_a_character_and_a_lone_surrogate_is_refused_where_it_is() -> None:
    assert parse_document(b'{"text": "\\ud83d\\ude00"}') == {"text": "\U0001f600"}
    with pytest.raises(RefusedJson) as refused:
        parse_document(json.dumps({"residents": [{"phone": "1"}, {"consent_source": "x\udfff"}]}).encode())
    assert refused.value.at == "residents.1.consent_source"
    with pytest.raises(RefusedJson) as in_a_key:
        parse_document(b'{"ok": {"\\ud800": 1}}')
    assert in_a_key.value.at == "ok (a key)"  # where the key is; the key itself is not shown back


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff{}", "must be UTF-8"),
        (b"{", "must be a JSON document"),
        (b"[NaN]", "NaN is not a JSON number"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b"[1e999]", "too large"),
        (b"[" + b"9" * 5000 + b"]", "must be a JSON document"),
    ],
)
def test_what_is_not_json_we_hold_is_refused_with_a_reason(body: bytes, message: str) -> None:
    with pytest.raises(RefusedJson, match=message):
        parse_document(body)
