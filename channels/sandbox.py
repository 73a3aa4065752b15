"""The sandbox channel: delivers into an in-process inbox instead of a provider.

With no provider credentials set, one sandbox instance serves each address kind (sms, telegram,
email), so the whole service runs on a laptop. Replies come back through the same inbound path as
real channels: a signed webhook request that `parse_inbound` reads.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from channels import webhook_paths
from channels.base import Capabilities, Inbound, InvalidRequest, Outbound, Request, Sent, render_plain

SECRET_HEADER = "X-Sandbox-Secret"

Listener = Callable[[Outbound, str], None]


class SandboxChannel:
    capabilities: ClassVar[Capabilities] = Capabilities(max_length=1600, buttons=False, signed_webhooks=True)

    def __init__(
        self,
        name: str,
        secret: str,
        *,
        latency: float = 0.0,
        delivery_log: Path | None = None,
    ) -> None:
        self.name = name
        self._secret = secret
        self._latency = latency
        self._delivery_log = delivery_log
        self.inbox: dict[str, list[str]] = defaultdict(list)
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(outbound, rendered_text)` for every delivered message (the demo's residents)."""
        self._listeners.append(listener)

    def verify(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        # surrogatepass: a header that is not UTF-8 comes with surrogates in it, and is refused (see telegram)
        return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self._secret.encode())

    def parse_inbound(self, request: Request) -> list[Inbound]:
        try:
            provider_id, address, text = request.form["id"], request.form["from"], request.form["text"]
        except KeyError as missing:
            raise InvalidRequest(f"sandbox inbound lacks field {missing}") from None
        if not provider_id or not address:
            raise InvalidRequest("sandbox inbound needs a non-empty id and from")
        return [
            Inbound(
                channel=self.name,
                provider_id=provider_id,
                address=address,
                text=text,
                received_at=datetime.now(UTC),
            )
        ]

    async def send(self, outbound: Outbound) -> Sent:
        if self._latency:
            await asyncio.sleep(self._latency)  # stands in for a provider's round trip
        rendered = render_plain(outbound)
        self.inbox[outbound.address].append(rendered)
        if self._delivery_log is not None:
            self._append_to_log(outbound)
        for listener in self._listeners:
            listener(outbound, rendered)
        return Sent(provider_id=f"SB{uuid.uuid4().hex}")

    def _append_to_log(self, outbound: Outbound) -> None:
        # One short O_APPEND write per line stays whole even with several processes appending.
        line = json.dumps({"key": outbound.key, "channel": self.name, "pid": os.getpid()}) + "\n"
        assert self._delivery_log is not None
        fd = os.open(self._delivery_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def sandbox_request(name: str, secret: str, *, provider_id: str, address: str, text: str) -> Request:
    """Build the webhook request a simulated resident's reply arrives as."""
    return Request(
        url=webhook_paths.SANDBOX.format(channel=name),
        headers={SECRET_HEADER: secret},
        form={"id": provider_id, "from": address, "text": text},
    )
