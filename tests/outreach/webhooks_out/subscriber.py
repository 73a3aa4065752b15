"""A webhook subscriber on a real loopback socket for the tests: it answers 500 to its first
`failures` posts (then 200, or 500 for ever with `failures=None`) and keeps every post it got."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web


@dataclass(frozen=True)
class Post:
    headers: dict[str, str]
    body: bytes
    status: int  # what the subscriber answered


@dataclass
class LoopbackSubscriber:
    failures: int | None = 0
    posts: list[Post] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def delivered(self) -> list[Post]:
        return [post for post in self.posts if post.status == 200]

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        failing = self.failures is None or len(self.posts) < self.failures
        status = 500 if failing else 200
        self.posts.append(Post(dict(request.headers), body, status))
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
