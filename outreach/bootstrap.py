"""The one place that wires settings, storage, channels, pipeline and dispatcher together."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncEngine

from channels.base import Channel
from channels.sandbox import SandboxChannel
from outreach import faults
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.clock import Clock, system_clock
from outreach.logs import quiet_third_party_logs
from outreach.outbound.dispatch_policy import pool_for_rate
from outreach.settings import Settings
from outreach.telemetry import NO_TELEMETRY, Telemetry
from storage.db import SessionFactory, create_engine, is_memory_sqlite, is_sqlite, session_factory
from storage.keyring import Keyring, development_keyring
from storage.sealing import Sealer
from storage.tables import PROVIDER_ID_LENGTH

if TYPE_CHECKING:
    from channels.email import EmailChannel
    from channels.telegram import TelegramChannel
    from channels.twilio_sms import TwilioChannel
    from flows.campaign import Campaign
    from outreach.campaigns.audience_preview import AudiencePreview
    from outreach.campaigns.lifecycle import Lifecycle
    from outreach.inbound.enrolment import District
    from outreach.inbound.pipeline import InboundPipeline
    from outreach.inbound.queue import InboundQueue
    from outreach.inbound.spool import InboundSpool
    from outreach.outbound.dispatcher import Dispatcher
    from outreach.outbound.rate_limits import RateLimiter
    from outreach.webhooks_out.deliverer import WebhookDeliverer
    from outreach.webhooks_out.subscriptions import Subscriptions

log = logging.getLogger(__name__)

ADDRESS_KINDS = ("sms", "whatsapp", "telegram", "email")


@runtime_checkable
class ManagedChannel(Protocol):
    """A channel with a connection to open inside the running loop and to close at the end."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    channels: dict[str, Channel]
    sandboxes: dict[str, SandboxChannel]
    definitions: CampaignDefinitions
    clock: Clock
    telemetry: Telemetry = NO_TELEMETRY  # what /metrics counts in this process (`serve` only)
    worker_id: str = "worker"  # this process among the workers (claims and leases name it)
    keyring: Keyring = field(default_factory=development_keyring)  # the keys of addresses at rest

    # The service's parts are made when first used, their modules imported then: a command wires only
    # what it uses (`campaign status` neither the dispatcher nor the inbound pipeline; issue 18).
    @cached_property
    def districts(self) -> list[District]:
        from outreach.inbound.enrolment import load_districts

        return load_districts(self.settings.districts_file)

    @cached_property
    def spool(self) -> InboundSpool:
        """Webhook input kept on disk through a database outage."""
        from outreach.inbound.spool import InboundSpool

        return InboundSpool(self.settings.inbound_spool_dir, Sealer(self.keyring))

    @cached_property
    def pipeline(self) -> InboundPipeline:
        from outreach.inbound.pipeline import InboundPipeline

        settings = self.settings
        return InboundPipeline(
            self.sessions,
            self.definitions,
            organisation=settings.organisation,
            privacy=settings.privacy_notice(),
            clock=self.clock,
            spread=self.spread,
            districts=self.districts,
            age_bands=settings.age_bands,
            telemetry=self.telemetry,
            group_commits=self.grouped_sessions,
            write_turn=self.write_turn,
        )

    @cached_property
    def inbound_queue(self) -> InboundQueue:
        """Webhook messages stored, acknowledged, then handled by this process's workers."""
        from outreach.inbound.queue import WORKERS_POSTGRESQL, WORKERS_SQLITE, InboundQueue
        from storage.address_keys import AddressKeys

        return InboundQueue(
            self,
            writes=self.grouped_sessions or self.sessions,
            keys=AddressKeys(self.keyring),
            holder=self.worker_id,
            lease=timedelta(seconds=self.settings.inbound_lease_seconds),
            clock=self.clock,
            grouped=self.pipeline.group_commit,
            workers=WORKERS_SQLITE if is_sqlite(self.settings.database_url) else WORKERS_POSTGRESQL,
        )

    @cached_property
    def inbound_engine(self) -> AsyncEngine | None:
        """SQLite: the engine of the inbound pipeline's grouped commits, whose connections run a write
        transaction's statements in the loop once it holds the write lock (storage.sqlite_writer)."""
        url = self.settings.database_url
        if not is_sqlite(url) or is_memory_sqlite(url):  # an in-memory database is one connection's
            return None
        return create_engine(url, inline_writes=True)

    @property
    def grouped_sessions(self) -> SessionFactory | None:
        """Sessions that replies handled at once share a transaction of (SQLite: one writer anyway);
        None on PostgreSQL, where each reply commits alone on a pooled connection of its own."""
        if not is_sqlite(self.settings.database_url):
            return None
        engine = self.inbound_engine
        return self.sessions if engine is None else session_factory(engine, self.keyring)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        from outreach.outbound.dispatch_policy import MIN_POOL, DispatchPolicy
        from outreach.outbound.dispatcher import Dispatcher

        settings = self.settings
        return Dispatcher(
            # SQLite: its short write transactions run in the loop once they hold the lock, as the inbound
            # ones do, so neither waits long for the other in SQLite's sleeping busy handler.
            self.grouped_sessions or self.sessions,
            self.channels,
            worker_id=self.worker_id,
            policy=DispatchPolicy(
                concurrency=settings.dispatcher_concurrency or MIN_POOL,
                channel_concurrency=channel_pools(settings, self.channels),
                batch_size=settings.dispatcher_batch_size,
                max_attempts=settings.send_max_attempts,
                backoff_seconds=settings.send_backoff_seconds,
                quiet_spread=self.spread,
                lease_seconds=settings.claim_lease_seconds,
                daily_cap=settings.max_messages_per_address_per_day,
                sms_prices=settings.sms_prices,
                reconcile_seconds=settings.reconcile_seconds,
            ),
            clock=self.clock,
            definitions=self.definitions,
            limiter=build_limiter(settings),
            # Stable across workers, so all of them hash a chat alike (the per-chat limit is shared).
            address_key=(settings.pseudonym_key() or "").encode(),
            telemetry=self.telemetry,
            write_turn=self.write_turn,
        )

    @cached_property
    def write_turn(self) -> asyncio.Lock:
        """SQLite: the turn this process's busy writers (inbound replies, the dispatcher) take, in order,
        instead of waiting for each other in SQLite's busy handler, which sleeps up to 100 ms a try."""
        return asyncio.Lock()

    @cached_property
    def lifecycle(self) -> Lifecycle:
        from outreach.campaigns.fatigue import fatigue_of
        from outreach.campaigns.lifecycle import Lifecycle
        from outreach.results.results_back import ResultsBack

        settings = self.settings
        results_back = ResultsBack(
            self.sessions, self.definitions, clock=self.clock, spread=self.spread, k=settings.small_cell_k
        )
        return Lifecycle(
            self.sessions,
            self.definitions,
            clock=self.clock,
            spread=self.spread,
            pseudonym_secret=settings.pseudonym_key(),
            fatigue=fatigue_of(settings),
            results_back=results_back.send_due,
        )

    # Outgoing webhooks are made when first used, their modules imported by name then: they bring
    # aiohttp, which a command that posts nothing need not load (tests/outreach/cli/test_lazy.py).
    @cached_property
    def webhooks(self) -> WebhookDeliverer:
        """The worker that fans events out and posts them to subscribers (serve and dispatch)."""
        deliverer = importlib.import_module("outreach.webhooks_out.deliverer")
        made: WebhookDeliverer = deliverer.WebhookDeliverer(
            self.sessions, self.settings, self.definitions, worker_id=self.worker_id, clock=self.clock
        )
        return made

    @cached_property
    def subscriptions(self) -> Subscriptions:
        """What admins do with webhook subscribers (the API and the CLI)."""
        made: Subscriptions = importlib.import_module("outreach.webhooks_out.subscriptions").Subscriptions(
            self.sessions, self.settings, self.clock
        )
        return made

    async def audience_preview(self, flow: Campaign, campaign_id: int | None) -> AudiencePreview:
        """Whom a launch of `flow` would ask now, under this service's fatigue rules and SMS prices: the
        one call behind the CLI's, the API's and the pages' previews. Raises SampleError when the sample
        cannot be drawn."""
        from outreach.campaigns.audience_preview import audience_preview
        from outreach.campaigns.fatigue import fatigue_of

        return await audience_preview(
            self.sessions,
            flow,
            campaign_id,
            now=self.clock(),
            fatigue=fatigue_of(self.settings),
            sms_prices=self.settings.sms_prices,
        )

    @property
    def spread(self) -> timedelta:
        return timedelta(minutes=self.settings.quiet_release_minutes)

    async def start_channels(self) -> None:
        for channel in self.channels.values():
            if isinstance(channel, ManagedChannel):
                await channel.start()

    async def close(self) -> None:
        for channel in self.channels.values():
            if isinstance(channel, ManagedChannel):
                await channel.close()
        if "dispatcher" in self.__dict__:  # made (cached_property keeps it there)
            await self.dispatcher.close()
        if "webhooks" in self.__dict__:  # made (cached_property keeps it there)
            await self.webhooks.close()
        await self.engine.dispose()
        if "inbound_engine" in self.__dict__ and self.inbound_engine is not None:
            await self.inbound_engine.dispose()


def build_sandboxes(settings: Settings) -> dict[str, SandboxChannel]:
    """Provider channels arrive in later releases; until one is configured, a sandbox serves each
    address kind so the whole service runs without credentials."""
    secret = settings.sandbox_secret.get_secret_value() if settings.sandbox_secret else secrets.token_urlsafe(24)
    return {
        kind: SandboxChannel(
            kind,
            secret,
            latency=settings.sandbox_latency_ms / 1000,
            delivery_log=settings.sandbox_delivery_log,
        )
        for kind in ADDRESS_KINDS
    }


def provider_class(module: str, name: str) -> type[Channel]:
    """A provider's channel class, imported when that provider is configured: each brings its SDK
    (python-telegram-bot, twilio, aiosmtplib), which a command that sends nothing need not load."""
    found: type[Channel] = getattr(importlib.import_module(module), name)
    return found


def build_provider_channels(settings: Settings) -> dict[str, Channel]:
    """The providers whose settings are present; a channel whose settings are absent is off."""
    channels: dict[str, Channel] = {}
    if settings.twilio_enabled:
        twilio_channel = cast("type[TwilioChannel]", provider_class("channels.twilio_sms", "TwilioChannel"))
        assert settings.twilio_account_sid is not None and settings.twilio_auth_token is not None
        account_sid, auth_token = settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()

        def twilio(name: str, sender: str | None, messaging_service_sid: str | None = None) -> TwilioChannel:
            return twilio_channel(
                name=name,
                account_sid=account_sid,
                auth_token=auth_token,
                api_base_url=settings.twilio_api_url,
                public_url=settings.public_url,
                timeout=settings.twilio_timeout_seconds,
                list_grace=timedelta(seconds=settings.twilio_list_grace_seconds),
                sender=sender,
                messaging_service_sid=messaging_service_sid,
            )

        service_sid = None if settings.twilio_from else settings.twilio_messaging_service_sid
        channels["sms"] = twilio("sms", settings.twilio_from, service_sid)
        if settings.twilio_whatsapp_from:
            channels["whatsapp"] = twilio("whatsapp", settings.twilio_whatsapp_from)
    if settings.telegram_bot_token is not None:
        telegram_channel = cast("type[TelegramChannel]", provider_class("channels.telegram", "TelegramChannel"))
        # PTB's 429 handling warns unless told to give a timedelta (our classifier takes both).
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        secret = settings.telegram_webhook_secret
        channels["telegram"] = telegram_channel(
            token=settings.telegram_bot_token.get_secret_value(),
            api_base_url=settings.telegram_api_url,
            webhook_secret=secret.get_secret_value() if secret else None,
        )
    if settings.email_enabled:
        email_channel = cast("type[EmailChannel]", provider_class("channels.email", "EmailChannel"))
        assert settings.smtp_host and settings.smtp_from and settings.email_reply_domain
        assert settings.email_token_secret is not None
        email = email_channel(
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_user=settings.smtp_user,
            smtp_password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.smtp_from,
            reply_domain=settings.email_reply_domain,
            public_url=settings.public_url,
            token_secret=settings.email_token_secret.get_secret_value().encode(),
            organisation=settings.organisation,
            tls=settings.smtp_tls,
            authserv_id=settings.email_authserv_id,
        )
        check_message_ids_fit(email)
        channels["email"] = email
    return channels


def describe_channels(services: Services) -> str:
    """The start-up line that says what sending means here: real providers, or the sandbox."""
    mode = services.settings.env
    if services.sandboxes:
        return (
            f"{mode}: no provider configured, so the sandbox serves {', '.join(services.sandboxes)}:"
            " messages are recorded as sent and reach nobody (OUTREACH_ENV=production never does this)"
        )
    off = [kind for kind in ADDRESS_KINDS if kind not in services.channels]
    unserved = f"; {', '.join(off)} off (no provider)" if off else ""
    return f"{mode}: providers serve {', '.join(services.channels) or 'nothing'}{unserved}; no sandbox"


def announce_channels(services: Services) -> None:
    """Log `describe_channels` once at start-up: a warning while the sandbox stands in for providers."""
    log.log(logging.WARNING if services.sandboxes else logging.INFO, "%s", describe_channels(services))


def announce_keys(services: Services) -> None:
    """Say loudly at start-up when addresses are sealed with the public development keys."""
    if services.keyring.development:
        log.warning(
            "development: no OUTREACH_ENCRYPTION_KEYS, so residents' addresses are encrypted with the public"
            " development key, which protects nothing; never keep real residents' data so"
            " (OUTREACH_ENV=production refuses to start without keys; docs/PRIVACY.md)"
        )
    else:
        log.info(
            "addresses at rest: encryption keys %s (current %s)",
            ", ".join(services.keyring.key_ids),
            services.keyring.current_id,
        )


def check_message_ids_fit(channel: EmailChannel, limit: int = PROVIDER_ID_LENGTH) -> None:
    """Refuse to start with a reply domain whose Message-IDs the outbox could not record: each send
    would go out, fail to be recorded, and its replies and bounces would never find it."""
    message_id = channel.message_id(channel.token(""))  # every token has the same length
    if len(message_id) > limit:
        raise ValueError(
            f"OUTREACH_EMAIL_REPLY_DOMAIN is too long: a Message-ID (TOKEN@domain) would have"
            f" {len(message_id)} characters, and the store keeps {limit}"
        )


def channel_rates(settings: Settings) -> dict[str, float]:
    """Each channel's limit in messages per second (an SMS is at least one segment)."""
    return {
        "sms": settings.rate_sms_segments_per_second,
        "whatsapp": settings.rate_whatsapp_per_second,
        "telegram": settings.rate_telegram_per_second,
        "email": settings.rate_email_per_minute / 60,
    }


def channel_pools(settings: Settings, channels: Iterable[str]) -> dict[str, int]:
    """Sends in flight per channel: the setting, or enough for the channel's limit at the set latency."""
    rates = channel_rates(settings)
    latency = settings.dispatcher_latency_ms / 1000
    return {name: settings.dispatcher_concurrency or pool_for_rate(rates.get(name, 1.0), latency) for name in channels}


def build_limiter(settings: Settings) -> RateLimiter:
    from outreach.outbound.rate_limits import standard_policy
    from outreach.outbound.rate_limits_redis import build_rate_limiter

    policy = standard_policy(
        sms_segments_per_second=settings.rate_sms_segments_per_second,
        whatsapp_per_second=settings.rate_whatsapp_per_second,
        telegram_per_second=settings.rate_telegram_per_second,
        telegram_per_chat_per_second=settings.rate_telegram_per_chat_per_second,
        email_per_minute=settings.rate_email_per_minute,
    )
    return build_rate_limiter(settings.redis_url, policy)


def bootstrap(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    worker_id: str | None = None,
    telemetry: Telemetry = NO_TELEMETRY,
) -> Services:
    quiet_third_party_logs()  # wherever the service runs, not only under `outreach serve`
    faults.arm(settings.fault_point)  # test only; refused in production by Settings
    engine = create_engine(settings.database_url)
    keyring = settings.keyring()
    sessions = session_factory(engine, keyring)
    providers = build_provider_channels(settings)
    # In development with no provider configured, the sandbox serves every address kind (no credentials
    # needed); never in production, and never beside a provider (a launch would reach residents on one
    # channel and pretend to on another).
    sandboxes = {} if providers or settings.env == "production" else build_sandboxes(settings)
    channels: dict[str, Channel] = providers or dict(sandboxes)
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        channels=channels,
        sandboxes=sandboxes,
        definitions=CampaignDefinitions(),
        clock=clock,
        telemetry=telemetry,
        worker_id=worker_id,
        keyring=keyring,
    )
