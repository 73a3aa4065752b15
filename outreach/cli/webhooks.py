"""`outreach webhooks`: the URL of each webhook this configuration serves, to give the provider's
console, from the public base URL (OUTREACH_PUBLIC_URL).

Twilio retries an inbound-message webhook only when it cannot connect, unless the URL carries its
connection overrides in the fragment: `#rc=5&rp=all` (retry count 5, retry policy all: connection
failures, timeouts, 4xx and 5xx). While the database is away the service spools the message on disk
and answers 200 (outreach.inbound.spool); it answers 503 only when the spool cannot be written either,
or on a timeout or a crash before it answered, and those are retried only with the override (within
15 s at most); without it, that SMS is lost. The fragment is never sent to us: it changes no signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from channels import webhook_paths
from channels.sandbox import SECRET_HEADER as SANDBOX_SECRET_HEADER
from outreach.cli.runner import console, load_settings, warnings

if TYPE_CHECKING:
    from outreach.settings import Settings


@dataclass(frozen=True)
class Webhook:
    channels: str
    url: str
    where: str  # where it is set, and how the provider retries it


def webhooks(settings: Settings) -> list[Webhook]:
    """The webhooks `outreach serve` would answer with `settings`, as the providers must be told."""
    from outreach.bootstrap import build_provider_channels

    base = settings.public_url.rstrip("/")
    providers = build_provider_channels(settings)
    found: list[Webhook] = []
    twilio = [name for name in ("sms", "whatsapp") if name in providers]
    if twilio:
        found.append(
            Webhook(
                " and ".join(twilio),
                base + webhook_paths.TWILIO_INBOUND + webhook_paths.TWILIO_RETRY_OVERRIDES,
                'Twilio console: the number (or Messaging Service) > "A message comes in" > Webhook, HTTP POST;'
                " paste it with its #rc=5&rp=all, which makes Twilio retry our 503",
            )
        )
        found.append(
            Webhook(
                "sms delivery",
                base + webhook_paths.TWILIO_STATUS + webhook_paths.TWILIO_RETRY_OVERRIDES,
                "nothing to set: the service names it, override included, as each message's StatusCallback",
            )
        )
    if "telegram" in providers:
        where = (
            "nothing to set: the service registers it with Telegram at start-up (setWebhook), and"
            " Telegram retries every answer but 2xx"
            if settings.telegram_mode == "webhook"
            else "none: OUTREACH_TELEGRAM_MODE=polling, the service asks Telegram for updates itself"
        )
        found.append(Webhook("telegram", base + webhook_paths.TELEGRAM, where))
    if not providers and settings.env == "development":
        found.append(
            Webhook(
                "sandbox",
                base + webhook_paths.SANDBOX,
                f"development only, no provider configured: {{channel}} is sms, whatsapp, telegram or email;"
                f" the {SANDBOX_SECRET_HEADER} header carries OUTREACH_SANDBOX_SECRET",
            )
        )
    return found


def print_webhooks() -> None:
    """Print each webhook this configuration serves: the URL to give the provider, and where."""
    settings = load_settings()
    if not settings.public_url.startswith("https://"):
        warnings.print(
            f"OUTREACH_PUBLIC_URL is {settings.public_url}: providers need a public https:// address of this"
            " service (the one they call and sign)",
            markup=False,
            highlight=False,
        )
    found = webhooks(settings)
    if not found:
        warnings.print("no channel is configured, so no webhook is served", markup=False, highlight=False)
    for webhook in found:
        console.print(f"{webhook.channels}: {webhook.url}", markup=False, highlight=False, soft_wrap=True)
        console.print(f"  {webhook.where}", markup=False, highlight=False, soft_wrap=True)
