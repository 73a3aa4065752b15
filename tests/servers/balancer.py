"""A TCP load balancer on loopback in front of several workers, as nginx with `max_fails=0` and
`proxy_next_upstream error` (docs/DEPLOY.md): each connection goes to the next worker in turn, and to
the one after when a worker refuses it (stopped or killed); refused by all, the client's connection is
reset. A connection to a worker that dies mid-request is reset too, as nginx answers it: the caller (a
provider) sees no answer and tries again.
"""

from __future__ import annotations

import asyncio
import itertools

from tests.servers.tcp_proxy import TcpProxy


class Balancer(TcpProxy):
    def __init__(self, ports: list[int], *, host: str = "127.0.0.1") -> None:
        super().__init__(host, ports[0], host=host)
        self.ports = ports
        self._turn = itertools.count()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        first = next(self._turn)
        refused: OSError | None = None
        for offset in range(len(self.ports)):
            try:
                return await asyncio.open_connection(self.host, self.ports[(first + offset) % len(self.ports)])
            except OSError as error:
                refused = error
        assert refused is not None
        raise refused
