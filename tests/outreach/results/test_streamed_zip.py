"""A zip written as it is sent: bytes leave while the members' text is still coming, no chunk holds a
member whole, and any unzip (here Python's, checking each CRC) reads back exactly what went in."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from outreach.results.streamed_zip import zip_chunks

WRITTEN_AT = datetime(2027, 3, 2, 10, 14, 3, tzinfo=UTC)


async def test_bytes_leave_while_the_text_is_still_coming() -> None:
    produced: list[int] = []  # how many text chunks were made when each zip chunk left
    pieces = random.Random(7)
    texts = [" ".join(f"{pieces.randrange(10**9)}" for _ in range(5_000)) + "\n" for _ in range(40)]

    async def rows() -> AsyncIterator[str]:
        for number, text in enumerate(texts, start=1):
            produced.append(number)
            yield text

    async def once() -> AsyncIterator[str]:
        yield '{"name": "package"}'

    chunks: list[bytes] = []
    made_by_then = len(texts)
    async for chunk in zip_chunks([("datapackage.json", once()), ("responses.json", rows())], written_at=WRITTEN_AT):
        chunks.append(chunk)
        if len(chunks) == 3:
            made_by_then = len(produced)
    assert made_by_then < 20 and len(chunks) > 20  # 2 MB of text: it left in pieces, as it was made
    assert max(map(len, chunks)) < 256 * 1024

    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["datapackage.json", "responses.json"]
        assert archive.read("datapackage.json") == b'{"name": "package"}'
        assert archive.read("responses.json").decode() == "".join(texts)
        info = archive.getinfo("responses.json")
        assert info.date_time == (2027, 3, 2, 10, 14, 2)  # zip keeps even seconds
        assert info.flag_bits & 0x08  # sizes after the data: written without seeking
        assert info.external_attr >> 16 == 0o644
