"""The embedded store's read path: a byte range over one key version's
block runs, each read one pread + checksum verify in the I/O pool."""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import Deferred, succeed

from .._executor import Executor
from .datanode.block_reader import LocalBlockReader
from .inline_blocks import InlineBlockReader
from .model import BlockLocation


class EmbeddedObjectReader:
    """A byte range over the block runs of one key version."""

    def __init__(
        self,
        io: Executor,
        readers: list[LocalBlockReader | InlineBlockReader],
        blocks: Sequence[BlockLocation],
        offset: int,
        length: int,
    ) -> None:
        self._io = io
        self._readers = readers
        self._blocks = list(blocks)
        self._starts: list[int] = []
        pos = 0
        for b in blocks:
            self._starts.append(pos)
            pos += b.length
        self._offset = offset
        self.remaining = length
        self._prefetched: bytes | None = None

    def prefetch(self, max_bytes: int) -> None:
        """Read the first bytes now, on this thread; ``read`` returns them."""
        planned = self._plan(max_bytes)
        if planned is not None:
            reader, at, n = planned
            self._prefetched = reader.read_exact(at, n)

    def read(self, max_bytes: int) -> Deferred[bytes]:
        # The range is claimed here, on the caller's thread, and only the
        # pread + verify runs in the pool: several reads may be in flight
        # at once (they fire in any order; each knows its own bytes).
        if self._prefetched is not None:
            data, self._prefetched = self._prefetched, None
            return succeed(data)
        planned = self._plan(max_bytes)
        if planned is None:
            return succeed(b"")
        reader, at, n = planned
        if isinstance(reader, InlineBlockReader):  # in memory, verified
            return succeed(reader.read_exact(at, n))
        return self._io.run(reader.read_exact, at, n)

    def _plan(
        self, max_bytes: int
    ) -> tuple[LocalBlockReader | InlineBlockReader, int, int] | None:
        """Claim the next read: (block reader, offset in it, length)."""
        want = min(max_bytes, self.remaining)
        if want <= 0:
            return None
        i = self._block_index(self._offset)
        run, start = self._blocks[i], self._starts[i]
        reader = self._readers[i]
        at = run.offset + self._offset - start
        # Within one chunk, ending on a multiple of max_bytes from its start:
        # after a ranged read's first piece, reads are whole aligned windows
        # (one pread each, no slicing).
        c_start, c_end = reader.chunk_bounds(at)
        n = min(
            want,
            run.length - (self._offset - start),
            c_end - at,
            max_bytes - (at - c_start) % max_bytes,
        )
        if n <= 0:  # the block file is shorter than its run: the caller fails
            return None
        self._offset += n
        self.remaining -= n
        return reader, at, n

    def _block_index(self, offset: int) -> int:
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def close(self) -> None:
        for r in self._readers:
            r.close()
        self._readers = []
