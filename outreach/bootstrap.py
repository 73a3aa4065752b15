"""The one place that wires settings, storage, channels, pipeline and dispatcher together."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from channels.base import Channel
from channels.sandbox import SandboxChannel
from outreach.clock import Clock, system_clock
from outreach.dispatcher import Dispatcher, DispatchPolicy
from outreach.pipeline import InboundPipeline
from outreach.settings import Settings
from storage.db import SessionFactory, create_engine, session_factory

ADDRESS_KINDS = ("sms", "telegram", "email")


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    channels: dict[str, Channel]
    sandboxes: dict[str, SandboxChannel]
    pipeline: InboundPipeline
    dispatcher: Dispatcher
    clock: Clock

    async def close(self) -> None:
        await self.engine.dispose()


def build_sandboxes(settings: Settings) -> dict[str, SandboxChannel]:
    """Provider channels arrive in later releases; until one is configured, a sandbox serves each
    address kind so the whole service runs without credentials."""
    secret = (
        settings.sandbox_secret.get_secret_value() if settings.sandbox_secret else secrets.token_urlsafe(24)
    )
    return {
        kind: SandboxChannel(
            kind,
            secret,
            latency=settings.sandbox_latency_ms / 1000,
            delivery_log=settings.sandbox_delivery_log,
        )
        for kind in ADDRESS_KINDS
    }


def bootstrap(settings: Settings, *, clock: Clock = system_clock, worker_id: str | None = None) -> Services:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    sandboxes = build_sandboxes(settings)
    channels: dict[str, Channel] = dict(sandboxes)
    pipeline = InboundPipeline(sessions, organisation=settings.organisation, clock=clock)
    dispatcher = Dispatcher(
        sessions,
        channels,
        worker_id=worker_id or f"{socket.gethostname()}:{os.getpid()}",
        policy=DispatchPolicy(
            concurrency=settings.dispatcher_concurrency,
            batch_size=settings.dispatcher_batch_size,
            max_attempts=settings.send_max_attempts,
            backoff_seconds=settings.send_backoff_seconds,
        ),
        clock=clock,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        channels=channels,
        sandboxes=sandboxes,
        pipeline=pipeline,
        dispatcher=dispatcher,
        clock=clock,
    )
