"""A webhook subscriber on a real loopback socket for the tests: it answers 500 to its first
`failures` posts (then 200, or 500 for ever with `failures=None`) and keeps every post it got. Once
told its `secrets`, it verifies every post with each of them, by the `standardwebhooks` package and by
the verifier written from the docs, and keeps what did not verify in `unverified`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web
from standardwebhooks import Webhook

from tests.outreach.webhooks_out.docs_verifier import verify


@dataclass(frozen=True)
class Post:
    headers: dict[str, str]
    body: bytes
    status: int  # what the subscriber answered


@dataclass
class LoopbackSubscriber:
    failures: int | None = 0
    secrets: list[str] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at each post (a worker elsewhere)
    # Hold every post until this many are in flight at once (then let all through): more than one
    # worker's share of concurrent posts proves several workers posted side by side.
    hold_until: int | None = None
    in_flight: int = 0
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def delivered(self) -> list[Post]:
        return [post for post in self.posts if post.status == 200]

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        if self.hold_until is not None and not self._released.is_set():
            self.in_flight += 1
            if self.in_flight >= self.hold_until:
                self._released.set()
            await self._released.wait()
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verify(secret, headers, body)
            except Exception as error:  # kept for the test to assert on
                self.unverified.append(f"{headers.get('webhook-id')}: {error!r}")
        failing = self.failures is None or len(self.posts) < self.failures
        status = 500 if failing else 200
        self.posts.append(Post(headers, body, status))
        self.arrived.set()
        return web.Response(status=status)

    async def __aenter__(self) -> LoopbackSubscriber:
        app = web.Application()
        app.router.add_post("/hooks", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
        if error is None:  # every post verified with every secret it was told
            assert self.unverified == [], self.unverified
