"""Input the store refused (a value it cannot hold): acknowledged to the provider, since the same input
fails forever, and kept as a failed inbound event with the store's reason. `handle_or_keep_failed` is
how webhooks and Telegram polling hand a message to the pipeline: an outage is raised (the provider
retries, the poller waits), two colliding transactions are run again first.

The failed event is kept in a storable form: the text without the characters stores refuse (NUL, lone
surrogates), the provider's id as its digest when it is not storable itself, no contact (finding it
means reading by the refused address). Logs say the channel and the error's class and SQLSTATE, never
the text.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable

from channels.base import Inbound
from outreach.clock import Clock
from outreach.inbound.pipeline import Outcome
from outreach.inbound.services import InboundServices
from storage.db import SessionFactory
from storage.failures import STORE_ERRORS, StoreFailure, classify, describe, reason, retrying_collisions
from storage.inbound import InboundRepository
from storage.tables import INBOUND_REASON_LENGTH, PROVIDER_ID_LENGTH, InboundEvent

log = logging.getLogger(__name__)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` with what no store keeps (NUL, a lone surrogate) replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def storable_provider_id(provider_id: str) -> str:
    """The id as it came when a store keeps it, else its digest (still one per id)."""
    if storable_text(provider_id) == provider_id and len(provider_id.encode("utf-8")) <= PROVIDER_ID_LENGTH:
        return provider_id
    return "sha256:" + hashlib.sha256(provider_id.encode("utf-8", "surrogatepass")).hexdigest()


async def handle_or_keep_failed(
    services: InboundServices,
    inbound: Inbound,
    handle: Callable[[Inbound], Awaitable[Outcome]] | None = None,
    *,
    clock: Clock | None = None,
) -> Outcome:
    """The outcome of `handle` (the pipeline's, unless told) for `inbound`; FAILED when the store
    refused it (kept as a failed event, received as `clock` says: the services' unless told). An
    outage, or a collision still there after the retries, is raised: one of STORE_ERRORS."""
    try:
        return await retrying_collisions(functools.partial(handle or services.pipeline.handle, inbound))
    except STORE_ERRORS as error:
        if classify(error) is StoreFailure.OUTAGE:
            raise
        refused = error
    return await record_refused(services.sessions, inbound, refused, clock=clock or services.clock)


async def record_refused(sessions: SessionFactory, inbound: Inbound, error: BaseException, *, clock: Clock) -> Outcome:
    """Keep `inbound`, which the store refused with `error`, as a failed event; FAILED. An outage while
    keeping it is raised (the provider retries the whole input later)."""
    why = reason(error)[:INBOUND_REASON_LENGTH]
    log.warning("inbound %s: the store refused it (%s); acknowledged, kept as failed", inbound.channel, describe(error))
    event = InboundEvent(
        channel=inbound.channel,
        provider_id=storable_provider_id(inbound.provider_id),
        contact_id=None,
        text=storable_text(inbound.text),
        outcome=Outcome.FAILED.value,
        reason=why,
        received_at=clock(),
    )
    try:
        async with sessions() as session, session.begin():
            await InboundRepository(session).record_new(event)  # a repeat of it is stored already
    except STORE_ERRORS as again:
        if classify(again) is StoreFailure.OUTAGE:
            raise
        log.error("inbound %s: not even its failure could be kept (%s)", inbound.channel, describe(again))
    return Outcome.FAILED
