"""Getting Telegram updates: registering our webhook, or long polling where there is no public URL.

Polling runs the same pipeline as the webhook, so the same dedupe (by update_id) applies: an update
fetched twice (after a crash, before the offset moved on) is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.exc import DBAPIError

from channels import webhook_paths
from channels.base import Inbound, InvalidRequest
from channels.telegram import TelegramChannel
from channels.telegram_errors import TelegramApiError
from channels.telegram_updates import parse_update
from outreach.inbound.failures import handle_or_keep_failed
from outreach.inbound.pipeline import Outcome
from outreach.inbound.services import InboundServices
from outreach.inbound.taps import acknowledge_tap
from outreach.store_errors import StoreErrors, kind_of
from storage.failures import STORE_ERRORS, StoreFailure, describe

log = logging.getLogger(__name__)

POLL_SECONDS = 25
BACKOFF_SECONDS = 5.0


async def register_webhook(services: InboundServices, channel: TelegramChannel) -> None:
    url = services.settings.public_url.rstrip("/") + webhook_paths.TELEGRAM
    try:
        await channel.set_webhook(url)
    except TelegramApiError as error:  # the service still sends; updates wait at Telegram for 24 h
        log.error("telegram: could not register the webhook (%s)", error)


async def poll(services: InboundServices, channel: TelegramChannel, stopping: asyncio.Event) -> None:
    """Long-poll until `stopping`; the offset moves on only after an update's transaction committed."""
    offset: int | None = None
    store_errors = StoreErrors("telegram polling")
    with contextlib.suppress(TelegramApiError):
        await channel.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
    while not stopping.is_set():
        try:
            updates = await channel.get_updates(offset, POLL_SECONDS)
            for update in updates:
                for inbound in _parsed(update):
                    outcome = await handle_or_keep_failed(services, inbound)  # refused input: kept as failed
                    if inbound.tap is not None and outcome is not Outcome.DUPLICATE:
                        await acknowledge_tap(services, channel, inbound, outcome)
                offset = int(update["update_id"]) + 1
        except (TelegramApiError, *STORE_ERRORS) as error:
            if isinstance(error, TelegramApiError) and not error.retryable:
                log.error("telegram polling stopped: %s", error)
                return
            pause = BACKOFF_SECONDS
            if isinstance(error, DBAPIError) and kind_of(error) != StoreFailure.OUTAGE:
                pause = store_errors.pause_after(error, BACKOFF_SECONDS)  # a defect: at ERROR, once
            else:
                log.warning("telegram polling: %s; trying again", describe(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=pause)


def _parsed(update: dict[str, Any]) -> list[Inbound]:
    try:
        return list(parse_update(update))
    except InvalidRequest:
        log.warning("telegram polling: an update that is not one; skipped")
        return []
