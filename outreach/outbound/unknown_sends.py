"""What becomes of a send whose outcome is unknown (pure): the provider's word first, else the policy.

A send the provider confirms is sent; one it has surely not seen goes back to the queue; while its
records may still lag we wait, up to `patience`; then, and for a channel whose provider keeps no list
to ask (Telegram, SMTP), the campaign's `on_unknown` policy for the message's kind decides."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from channels.base import SentLookup
from flows.unknown_outcomes import OnUnknown

Decision = Literal["confirm", "requeue", "wait", "resend", "give_up"]

_REMINDER = re.compile(r"r\d+")  # a question key's last part: "r1", or "r1via-email" after a fallback


def message_kind(kind: str, idempotency_key: str) -> str:
    """The on_unknown kind of an outbox message: question, reminder, closing, results_back, or its
    outbox kind (system, …) for what no policy names."""
    if kind == "question":
        return "reminder" if _REMINDER.match(idempotency_key.rsplit(":", 1)[-1]) else "question"
    if kind == "say" and idempotency_key.split(":")[3:4] == ["outro"]:
        return "closing"
    if kind == "results":
        return "results_back"
    return kind


def decide(
    lookup: SentLookup | None, kind: str, policy: OnUnknown, *, waited: timedelta, patience: timedelta
) -> Decision:
    """`lookup` None: the channel's provider cannot be asked. `waited`: since the send started."""
    if lookup is not None:
        if lookup.provider_id is not None:
            return "confirm"
        if lookup.settled:
            return "requeue"
        if waited < patience:
            return "wait"
    return policy.action(kind)
