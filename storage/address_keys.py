"""Residents' addresses as the store holds them: sealed (storage.sealing, bound to "contact:CHANNEL")
and found by their blind index (storage.blind_index); the messages they sent, sealed likewise. Every
session carries one AddressKeys, made once per process by storage.db.session_factory: the AESGCM
objects are never made per row."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from storage.blind_index import address_index
from storage.keyring import Keyring, development_keyring
from storage.sealing import Sealer

if TYPE_CHECKING:
    from storage.tables import ContactAddress

ADDRESS_KEYS = "address_keys"  # a session's AddressKeys in its `info`


class AddressKeys:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self.sealer = Sealer(keyring)

    def index(self, channel: str, address: str) -> str:
        return address_index(self.keyring.blind_index_key, channel, address)

    def seal(self, channel: str, address: str) -> str:
        return self.sealer.seal(address, binding=f"contact:{channel}")

    def open(self, channel: str, sealed: str) -> str:
        return self.sealer.open(sealed, binding=f"contact:{channel}")

    def seal_message(self, channel: str, part: str, text: str | None) -> str | None:
        """A resident's message (`part`: text or full_text) sealed, bound to its channel and part; a
        blank text and a missing one stay so (retention blanks texts; blank says only that)."""
        return self.sealer.seal(text, binding=f"inbound:{channel}:{part}") if text else text

    def open_message(self, channel: str, part: str, stored: str | None) -> str | None:
        return self.sealer.open(stored, binding=f"inbound:{channel}:{part}") if stored else stored

    def columns(self, channel: str, address: str) -> dict[str, str]:
        """The stored columns of an address: its index and its sealed value."""
        return {"address_index": self.index(channel, address), "address_sealed": self.seal(channel, address)}


class _Development:
    @cached_property
    def keys(self) -> AddressKeys:
        return AddressKeys(development_keyring())


_DEVELOPMENT = _Development()


def address_keys(session: AsyncSession) -> AddressKeys:
    """The keys of this session's addresses (a session made outside session_factory: development's)."""
    keys = session.info.get(ADDRESS_KEYS)
    return keys if isinstance(keys, AddressKeys) else _DEVELOPMENT.keys


def address_of(session: AsyncSession, contact: ContactAddress) -> str:
    """A stored address row's address, decrypted."""
    return address_keys(session).open(contact.channel, contact.address_sealed)
