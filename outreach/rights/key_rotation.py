"""`outreach keys rotate`: every address moved to the current encryption key (the first of
OUTREACH_ENCRYPTION_KEYS, which the operator put there first), in bounded batches while the service
runs, each batch its own short transaction; audit-logged as a key rotation. The blind-index and
pseudonym keys are not rotated (docs/PRIVACY.md says why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from outreach.audit import KEY_ROTATE, Actor, DetailValue, record
from outreach.clock import Clock
from storage.db import SessionFactory
from storage.key_rotation import (
    messages_by_key,
    reseal_batch,
    reseal_messages_batch,
    reseal_queued_batch,
    rows_by_key,
)
from storage.keyring import Keyring

DEFAULT_BATCH = 1000


@dataclass(frozen=True)
class Rotation:
    current: str
    resealed: int
    left: dict[str, int]  # addresses per key id afterwards (the current key's: all of them, when done)
    messages: dict[str, int]  # residents' messages per key id afterwards (those waiting in the queue too)


async def rotate(
    sessions: SessionFactory,
    keyring: Keyring,
    *,
    clock: Clock,
    actor: Actor,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[int], None] = lambda _done: None,
) -> Rotation:
    """Re-encrypt every address and message not under the current key; `progress` hears the count."""
    done = 0
    # Addresses, then residents' messages, then those waiting in the inbound queue (after the old key
    # leaves the ring a waiting one would be unreadable: set aside, never handled).
    for reseal in (reseal_batch, reseal_messages_batch, reseal_queued_batch):
        after = 0
        while True:
            async with sessions() as session, session.begin():
                step = await reseal(session, after_id=after, limit=batch)
            if step.last_id is None:
                break
            after, done = step.last_id, done + step.resealed
            progress(done)
    async with sessions() as session, session.begin():
        left = await rows_by_key(session)
        messages = await messages_by_key(session)
        details: dict[str, DetailValue] = {"resealed": done, "ring": keyring.key_ids}
        await record(session, actor, KEY_ROTATE, "encryption_key", keyring.current_id, details, at=clock())
    return Rotation(keyring.current_id, done, left, messages)
