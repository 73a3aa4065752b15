"""A zip archive written as it is sent: each member's text is compressed as it comes and the bytes
are handed on at once, so neither the archive nor a member is ever held whole.

zipfile writes to a stream it cannot seek in by putting each member's sizes and checksum after its
data (a data descriptor), which every unzip reads; members are Zip64 so that one may pass 4 GiB."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import datetime


class _Pending:
    """A write-only file without tell or seek: zipfile writes into it, `take` hands the bytes on."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


async def zip_chunks(
    members: Sequence[tuple[str, AsyncIterable[str]]], *, written_at: datetime
) -> AsyncIterator[bytes]:
    """The zip of `members` (file name, its UTF-8 text in chunks), as bytes chunks."""
    pending = _Pending()
    with zipfile.ZipFile(pending, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, texts in members:
            info = zipfile.ZipInfo(name, date_time=written_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # a plain readable file once unpacked
            with archive.open(info, "w", force_zip64=True) as member:
                async for text in texts:
                    member.write(text.encode())
                    if chunk := pending.take():
                        yield chunk
            if chunk := pending.take():  # the member's data descriptor
                yield chunk
    if chunk := pending.take():  # the central directory
        yield chunk
