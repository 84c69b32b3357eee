"""Writing one block file: chunks cut at the chunk size, a checksum per
window, then the footer, and the file and its directory made durable."""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING

from ..model import BlockID, BlockLocation, ChecksumData, ChunkInfo
from .block_format import FOOTER, MAGIC, WINDOW_SUM, io_error

if TYPE_CHECKING:
    from .store import LocalBlockStore


class LocalBlockWriter:
    def __init__(
        self, store: LocalBlockStore, block_id: BlockID, path: str, fd: int
    ) -> None:
        self._store = store
        self.block_id = block_id
        self._path = path
        self._fd: int | None = fd
        self.length = 0
        self.chunks: list[ChunkInfo] = []
        # The chunk being filled: where it starts, its windows' sums so far.
        self._chunk_start = 0
        self._sums: list[int] = []

    def write_chunk(self, data: bytes | memoryview) -> None:
        """Append ``data``.  Chunks are cut at chunk.size whatever the sizes
        of the writes, so readers get whole chunks of that size."""
        view = memoryview(data)
        self._store.check_space(len(view))
        self._write_all(view)
        store = self._store
        window_sum = WINDOW_SUM.get(store.checksum_type)
        bpc, size = store.bytes_per_checksum, store.chunk_size
        pos = 0
        while pos < len(view):
            if self.length - self._chunk_start == size:
                self._cut_chunk()
            filled = self.length - self._chunk_start
            take = min(len(view) - pos, size - filled)
            if window_sum is not None:
                piece, i = view[pos : pos + take], 0
                if filled % bpc:
                    # Finish the last window: a CRC continues over more bytes.
                    i = min(bpc - filled % bpc, take)
                    self._sums[-1] = window_sum(piece[:i], self._sums[-1])
                self._sums.extend(
                    window_sum(piece[j : j + bpc]) for j in range(i, take, bpc)
                )
            self.length += take
            pos += take

    def _cut_chunk(self) -> None:
        store = self._store
        self.chunks.append(
            ChunkInfo(
                offset=self._chunk_start,
                length=self.length - self._chunk_start,
                checksum=ChecksumData(
                    store.checksum_type,
                    store.bytes_per_checksum,
                    tuple(s.to_bytes(4, "big") for s in self._sums),
                ),
            )
        )
        self._chunk_start = self.length
        self._sums = []

    def _write_all(self, piece: memoryview) -> None:
        assert self._fd is not None, "block already closed"
        try:
            while piece:
                n = os.write(self._fd, piece)
                piece = piece[n:]
        except OSError as e:
            raise io_error(e, f"write block {self.block_id}") from e

    def put_block(self) -> BlockLocation:
        if self.length > self._chunk_start:
            self._cut_chunk()
        footer = json.dumps(
            {
                "blockID": [self.block_id.container_id, self.block_id.local_id],
                "size": self.length,
                "chunks": [
                    [
                        c.offset,
                        c.length,
                        c.checksum.type,
                        c.checksum.bytes_per_checksum,
                        base64.b64encode(b"".join(c.checksum.checksums)).decode(),
                    ]
                    for c in self.chunks
                ],
            },
            separators=(",", ":"),
        ).encode()
        self._write_all(memoryview(footer + FOOTER.pack(len(footer), MAGIC)))
        assert self._fd is not None
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            self._store.dir_syncs.sync(os.path.dirname(self._path))
        except OSError as e:
            raise io_error(e, f"sync block {self.block_id}") from e
        return BlockLocation(self.block_id, self.length)

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self._path)
        except FileNotFoundError:
            pass
