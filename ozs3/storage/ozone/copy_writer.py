"""CopyObject and UploadPartCopy on a cluster: the bytes move.

A cluster cannot share blocks between keys (deleting either key would free
the other's data), so the copied range is read from the source's datanodes
and written to new blocks of the destination, inside the gateway: a piece
at a time (one read ahead of the write), never the whole range in memory,
never through the HTTP layer.  Reading verifies every checksum window of
the source, so a damaged source fails the copy instead of being copied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet.defer import Deferred

from ..._deferred import async_to_deferred
from ..errors import StorageIOError
from ..interfaces import KeyWriter, ObjectReader
from ..model import KeyInfo, PartInfo

# Bytes per read while copying: a few chunks, so reads and writes overlap.
COPY_PIECE = 4 * 1024 * 1024

OpenReader = Callable[[KeyInfo, int, int], Awaitable[ObjectReader]]


class _TeeReader:
    """The source's bytes, each piece written to the destination before it
    is handed on (UploadPartCopy hashes what it reads)."""

    def __init__(self, reader: ObjectReader, copy: ClusterCopyWriter) -> None:
        self._reader = reader
        self._copy = copy
        self.remaining = reader.remaining

    @async_to_deferred
    async def read(self, max_bytes: int) -> bytes:
        data = await self._reader.read(max_bytes)
        self.remaining = self._reader.remaining
        if data:
            await self._copy.take(data)
        return data

    def close(self) -> None:
        self._reader.close()


class ClusterCopyWriter:
    """The storage interface's ``CopyWriter`` over a cluster."""

    def __init__(
        self,
        source: KeyInfo,
        start: int,
        length: int,
        open_reader: OpenReader,
        writer: KeyWriter,
    ) -> None:
        self._source = source
        self._start = start
        self.size = length
        self._open_reader = open_reader
        self._writer = writer
        self._copied = 0

    @property
    def source(self) -> KeyInfo:
        return self._source

    async def take(self, data: bytes) -> None:
        self._copied += len(data)
        await self._writer.write(data, last=self._copied >= self.size)

    @async_to_deferred
    async def read(self) -> ObjectReader:
        reader = await self._open_reader(self._source, self._start, self.size)
        return _TeeReader(reader, self)

    @async_to_deferred
    async def verify(self) -> None:
        """Copy every byte (the read verifies the source's checksums)."""
        reader = await self._open_reader(self._source, self._start, self.size)
        try:
            pending: Deferred[bytes] | None = reader.read(COPY_PIECE)
            while pending is not None:
                data = await pending
                if not data:
                    break
                # The next piece is on its way while this one is written.
                pending = reader.read(COPY_PIECE) if reader.remaining else None
                await self.take(data)
        finally:
            reader.close()

    @async_to_deferred
    async def commit(self, etag: str, checksum: str = "") -> KeyInfo | PartInfo:
        if self._copied != self.size:
            raise StorageIOError(
                f"copy of {self._source.key}: {self._copied} of {self.size} bytes"
            )
        if self.size == 0:
            await self._writer.write(b"", last=True)
        return await self._writer.commit(etag, checksum)

    def abort(self) -> Deferred[Any]:
        return self._writer.abort()
