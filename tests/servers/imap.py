"""A second IMAP client for tests: what a person (or the MTA) does to the mailbox the poller reads."""

from __future__ import annotations

import re
from types import TracebackType

import aioimaplib  # type: ignore[import-untyped]

from channels.imap_poller import _abandon

_FLAGS = re.compile(rb"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


class ImapTestClient:
    def __init__(self, port: int, user: str, password: str) -> None:
        self._port = port
        self._user = user
        self._password = password
        self._client: aioimaplib.IMAP4 | None = None

    async def __aenter__(self) -> ImapTestClient:
        client = aioimaplib.IMAP4(host="127.0.0.1", port=self._port, timeout=10)
        await client.wait_hello_from_server()
        response = await client.login(self._user, self._password)
        assert response.result == "OK", response
        self._client = client
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.logout()
            await _abandon(client)

    @property
    def client(self) -> aioimaplib.IMAP4:
        assert self._client is not None, "use ImapTestClient as an async context manager"
        return self._client

    async def create(self, mailbox: str) -> None:
        response = await self.client.create(f'"{mailbox}"')
        assert response.result == "OK", response

    async def delete(self, mailbox: str) -> None:
        if self.client.get_state() == "SELECTED":
            await self.client.close()
        response = await self.client.delete(f'"{mailbox}"')
        assert response.result == "OK", response

    async def append(self, raw: bytes, mailbox: str, *, flags: str | None = None) -> tuple[int, int]:
        """Deliver a message; (uidvalidity, uid) Dovecot gave it."""
        response = await self.client.append(raw, mailbox=f'"{mailbox}"', flags=flags)
        assert response.result == "OK", response
        found = _APPENDUID.search(b" ".join(bytes(line) for line in response.lines))
        assert found is not None, response
        return int(found.group(1)), int(found.group(2))

    async def select(self, mailbox: str) -> None:
        response = await self.client.select(f'"{mailbox}"')
        assert response.result == "OK", response

    async def read_everything(self, mailbox: str) -> None:
        """What opening the mailbox in a mail client does: fetch every body (not PEEK), so \\Seen is set."""
        await self.select(mailbox)
        response = await self.client.uid("fetch", "1:*", "(BODY[])")
        assert response.result == "OK", response

    async def store(self, mailbox: str, uids: str, change: str) -> None:
        """e.g. store(mailbox, "1:*", "+FLAGS (\\\\Seen)")."""
        await self.select(mailbox)
        action, _, flags = change.partition(" ")
        response = await self.client.uid("store", uids, action, flags)
        assert response.result == "OK", response

    async def flags(self, mailbox: str) -> dict[int, set[str]]:
        await self.select(mailbox)
        response = await self.client.uid("fetch", "1:*", "(UID FLAGS)")
        assert response.result == "OK", response
        result: dict[int, set[str]] = {}
        for line in response.lines:
            found = _FLAGS.search(bytes(line))
            if found:
                uid = int(found.group(1) or found.group(4))
                result[uid] = set((found.group(2) or found.group(3) or b"").decode().split())
        return result
