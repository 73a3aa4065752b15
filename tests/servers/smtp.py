"""An aiosmtpd server on 127.0.0.1 (a free port) that keeps what it receives and fails on request.

Plain, STARTTLS or implicit TLS; AUTH LOGIN/PLAIN with one user when a user is given. Scripts:
`refuse_rcpt(address, "550 5.1.1 …")`, `refuse_mail("…")`, `refuse_data("451 …")` (after the content),
`hang_after_data()` (takes the content, never answers), `drop_after_data()` (takes it, hangs up).
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.certs import Certificate


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    login: str | None
    tls: bool
    mail_options: tuple[str, ...]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_MAIL(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._server.mail_reply is not None:
            return self._server.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self._server.rcpt_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self._server.data_seen.append(content)
        if self._server.after_data == "hang":
            await self._server.released.wait()
            return "421 4.3.2 shutting down"
        if self._server.after_data == "drop":
            if smtp.transport is not None:
                smtp.transport.close()
            return "421 4.3.2 gone"
        if self._server.data_reply is not None:
            return self._server.data_reply
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self._server.messages.append(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=content,
                login=login,
                tls=smtp.transport is not None and smtp.transport.get_extra_info("sslcontext") is not None,
                mail_options=tuple(envelope.mail_options),
            )
        )
        return "250 2.0.0 OK queued"


class SmtpServer:
    def __init__(
        self,
        *,
        user: str | None = "outreach",
        password: str = "smtp-secret",
        tls: Literal["none", "starttls", "tls"] = "none",
        certificate: Certificate | None = None,
        smtputf8: bool = False,
    ) -> None:
        if tls != "none" and certificate is None:
            raise ValueError("TLS needs a certificate")
        self.user = user
        self.password = password
        self.tls = tls
        self._certificate = certificate
        self._smtputf8 = smtputf8
        self.messages: list[Received] = []
        self.data_seen: list[bytes] = []  # every DATA content that arrived, accepted or not
        self.rcpt_replies: dict[str, str] = {}
        self.mail_reply: str | None = None
        self.data_reply: str | None = None
        self.after_data: Literal["answer", "hang", "drop"] = "answer"
        self.offer_auth = True
        self.released = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._connections: list[SMTP] = []

    # --- scripts --------------------------------------------------------------------------------

    def refuse_rcpt(self, address: str, reply: str) -> None:
        self.rcpt_replies[address.lower()] = reply

    def refuse_mail(self, reply: str) -> None:
        self.mail_reply = reply

    def refuse_data(self, reply: str) -> None:
        self.data_reply = reply

    def hang_after_data(self) -> None:
        self.after_data = "hang"

    def drop_after_data(self) -> None:
        self.after_data = "drop"

    # --- lifecycle ------------------------------------------------------------------------------

    def _authenticate(self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        good = data.login.decode() == self.user and data.password.decode() == self.password
        return AuthResult(success=good, handled=False, auth_data=data if good else None)

    def _protocol(self) -> SMTP:
        loop = asyncio.get_running_loop()
        starttls = self.tls == "starttls" and self._certificate is not None
        with warnings.catch_warnings():
            # AUTH without TLS is what the plain rows test; aiosmtpd warns about it on every connection.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return self._smtp(loop, starttls)

    def _smtp(self, loop: asyncio.AbstractEventLoop, starttls: bool) -> SMTP:
        protocol = SMTP(
            _Handler(self),
            hostname="smtp.test",
            loop=loop,
            enable_SMTPUTF8=self._smtputf8,
            tls_context=self._certificate.server_context() if starttls and self._certificate else None,
            require_starttls=starttls,
            authenticator=self._authenticate if self.user is not None else None,
            auth_required=self.user is not None and self.offer_auth,
            auth_require_tls=not self.offer_auth,  # on a plain connection: no AUTH offered at all
        )
        self._connections.append(protocol)
        return protocol

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        implicit = self._certificate.server_context() if self.tls == "tls" and self._certificate else None
        self._server = await loop.create_server(self._protocol, "127.0.0.1", 0, ssl=implicit)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening, end every connection and wait for their handlers (nothing outlives the test)."""
        self.released.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for connection in self._connections:
            if connection.transport is not None:
                connection.transport.close()
        tasks = [c._handler_coroutine for c in self._connections if c._handler_coroutine is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=0.5)
            for task in pending:  # e.g. after a client gave up a STARTTLS handshake: nothing more will come
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.sleep(0)  # the transports' connection_lost callbacks

    async def __aenter__(self) -> SmtpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def client_context(certificate: Certificate) -> ssl.SSLContext:
    return certificate.client_context()
