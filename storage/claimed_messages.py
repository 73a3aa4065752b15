"""A claimed outbox row as a sender takes it: the message, its channel and the address it goes to
(decrypted by the claim: the sender is where an address is needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.tables import OutboxMessage


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    idempotency_key: str
    channel: str
    address: str
    contact_id: int
    text: str
    choices: list[dict[str, str]]
    choice_style: str
    template: dict[str, Any] | None
    attempts: int
    quiet_hours: str | None
    timezone: str | None
    campaign_id: int | None = None
    resident_id: int | None = None
    kind: str = "question"
    submit_label: str | None = None


def claimed_from_row(message: OutboxMessage, channel: str, address: str) -> ClaimedMessage:
    assert message.id is not None
    return ClaimedMessage(
        id=message.id,
        idempotency_key=message.idempotency_key,
        channel=channel,
        address=address,
        contact_id=message.contact_id,
        text=message.text,
        choices=list(message.choices),
        choice_style=message.choice_style,
        template=message.template,
        attempts=message.attempts,
        quiet_hours=message.quiet_hours,
        timezone=message.timezone,
        campaign_id=message.campaign_id,
        resident_id=message.resident_id,
        kind=message.kind,
        submit_label=message.submit_label,
    )
