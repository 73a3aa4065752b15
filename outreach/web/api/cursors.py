"""The opaque cursors of the answer feed (a campaign's position in it, `storage.answer_feed.Position`)
and of the audit log (the entry a page ends before) as URL-safe text, and back, with a 400 for any
text this API did not give out for that campaign or that list."""

from __future__ import annotations

import base64
import binascii
import json

from outreach.web.api.errors import ApiError
from storage.answer_feed import START, Position


def encode_position(campaign_id: int, position: Position) -> str:
    raw = json.dumps([1, campaign_id, position.txid, position.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(token: str, campaign_id: int, parameter: str) -> Position:
    invalid = ApiError(400, "invalid_cursor", f"'{parameter}' is not a cursor of this API; start without it")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        version, owner, txid, row_id = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise invalid from None
    numbers = (version, owner, txid, row_id)
    if any(isinstance(number, bool) or not isinstance(number, int) for number in numbers) or version != 1:
        raise invalid
    if not (0 <= txid < 2**63 and 0 <= row_id < 2**63):
        raise invalid
    if owner != campaign_id:
        raise ApiError(400, "invalid_cursor", f"'{parameter}' belongs to another campaign")
    return Position(txid, row_id)


def encode_audit_cursor(before_id: int) -> str:
    raw = json.dumps(["audit", before_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_audit_cursor(token: str) -> int:
    """The audit entry id a page ends before; 400 for any text this API did not give out as one."""
    invalid = ApiError(400, "invalid_cursor", "'cursor' is not an audit-log cursor of this API; start without it")
    try:
        kind, before_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise invalid from None
    if kind != "audit" or isinstance(before_id, bool) or not isinstance(before_id, int) or not 0 < before_id < 2**63:
        raise invalid
    return before_id


def feed_start(cursor: str | None, since: str | None, campaign_id: int) -> Position:
    """Where a feed's page starts: after `cursor` (the next page) or `since` (a later sync), else at the
    start; 400 for both at once."""
    if cursor is not None and since is not None:
        raise ApiError(400, "invalid_parameter", "give either cursor or since, not both")
    if cursor is not None:
        return decode_position(cursor, campaign_id, "cursor")
    return decode_position(since, campaign_id, "since") if since is not None else START
