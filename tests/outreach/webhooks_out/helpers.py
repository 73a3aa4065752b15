"""Helpers of the webhook tests: the operator the audit log names, and a subscription that tells the
loopback subscriber its secret, so that it verifies every post it gets."""

from __future__ import annotations

from typing import Any

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.webhooks_out.subscriptions import WithSecret
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber

OPERATOR = Actor("official", "1", "test operator")


async def subscribe(services: Services, subscriber: LoopbackSubscriber, **options: Any) -> WithSecret:
    made = await services.subscriptions.subscribe(OPERATOR, url=subscriber.url, **options)
    subscriber.secrets = [made.secret]
    return made
