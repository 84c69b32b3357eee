"""Reading one block file, every checksum window it touches verified."""

from __future__ import annotations

import base64
import bisect
import errno
import json
import os
import struct
from typing import NamedTuple

from ..errors import ChecksumMismatch
from ..model import BlockID
from .block_format import END_READ, FOOTER, MAGIC, WINDOW_SUM, io_error


class _Chunk(NamedTuple):
    """A chunk as the block footer records it, checksums packed."""

    offset: int
    length: int
    type: str
    bytes_per_checksum: int
    checksums: bytes


class NoWaitUnsupported(BlockingIOError):
    """This file system cannot say whether a read would wait (RWF_NOWAIT)."""


def _pread(fd: int, n: int, offset: int, nowait: bool) -> bytes:
    """``os.pread``; with ``nowait``, only bytes the page cache holds: a read
    that would wait for the disk raises BlockingIOError (RWF_NOWAIT)."""
    if not nowait:
        return os.pread(fd, n, offset)
    buf = bytearray(n)
    try:
        got = os.preadv(fd, [buf], offset, os.RWF_NOWAIT)
    except OSError as e:
        if e.errno in (errno.EOPNOTSUPP, errno.EINVAL):  # tmpfs, some kernels
            raise NoWaitUnsupported from e
        raise
    if got < n:
        # Partly cached, or the file is short: a blocking read will say.
        raise BlockingIOError
    return bytes(buf)


class LocalBlockReader:
    """Reads a block file, verifying every checksum window it touches.

    ``nowait`` (while set): every read takes only what the page cache holds
    and raises BlockingIOError rather than wait for the disk, so a caller on
    the reactor thread can try a small read there and go to the I/O pool
    only when it would block."""

    def __init__(self, block_id: BlockID, fd: int, nowait: bool = False) -> None:
        self.block_id = block_id
        self._fd: int | None = fd
        self.nowait = nowait
        size = os.fstat(fd).st_size
        # One read for the footer and, as a rule, the metadata before it (a
        # small object's is ~200 bytes): a second only for a longer one.
        end = b""
        if size >= FOOTER.size:
            want = min(size, END_READ)
            end = _pread(fd, want, size - want, nowait)
        tail = end[-FOOTER.size :]
        if len(tail) != FOOTER.size or tail[8:] != MAGIC:
            raise ChecksumMismatch(f"block {block_id} has no valid footer")
        (flen,) = struct.unpack(">Q", tail[:8])
        if flen > size - FOOTER.size:
            raise ChecksumMismatch(f"block {block_id} footer is corrupt")
        if flen + FOOTER.size <= len(end):
            text = end[-FOOTER.size - flen : -FOOTER.size]
        else:
            text = _pread(fd, flen, size - FOOTER.size - flen, nowait)
        try:
            # A str: json.loads of bytes first sniffs their encoding.
            meta = json.loads(text.decode())
            # (offset, length, type, bytes per checksum, packed checksums):
            # kept packed, as read, since a reader may touch one window only.
            self.chunks = [
                _Chunk(off, ln, typ, bpc, base64.b64decode(sums))
                for off, ln, typ, bpc, sums in meta["chunks"]
            ]
            self.length = int(meta["size"])
            self._chunk_starts = [c.offset for c in self.chunks]
        except (ValueError, KeyError, TypeError) as e:
            raise ChecksumMismatch(f"block {block_id} footer is corrupt") from e

    def read(self, offset: int, length: int) -> bytes:
        """Return ``length`` bytes at ``offset``, verifying every window read."""
        end = min(offset + length, self.length)
        out: list[bytes] = []
        while offset < end:
            data = self.read_some(offset, end - offset)
            out.append(data)
            offset += len(data)
        return out[0] if len(out) == 1 else b"".join(out)

    def chunk_bounds(self, offset: int) -> tuple[int, int]:
        """Where the chunk holding ``offset`` starts and ends."""
        if offset >= self.length:
            return self.length, self.length
        c = self.chunks[bisect.bisect_right(self._chunk_starts, offset) - 1]
        return c.offset, min(c.offset + c.length, self.length)

    def read_some(self, offset: int, max_len: int) -> bytes:
        """Up to ``max_len`` verified bytes at ``offset``, never past the end
        of the chunk holding ``offset``: a reader that goes on from there
        reads whole chunks, one ``pread`` each, with no slicing or joining."""
        end = self.chunk_bounds(offset)[1]
        return self.read_exact(offset, min(max_len, end - offset))

    def read_exact(self, offset: int, length: int) -> bytes:
        """``length`` verified bytes at ``offset``, all within one chunk."""
        if length <= 0:
            return b""
        c = self.chunks[bisect.bisect_right(self._chunk_starts, offset) - 1]
        if offset + length > c.offset + c.length:
            raise ValueError("read_exact crosses a chunk boundary")
        return self._read_verified(c, offset, offset + length)

    def _read_verified(self, c: _Chunk, lo: int, hi: int) -> bytes:
        assert self._fd is not None
        bpc = c.bytes_per_checksum
        window_sum = WINDOW_SUM.get(c.type)
        if window_sum is None and c.type != "NONE":
            raise ChecksumMismatch(f"block {self.block_id}: unknown type {c.type!r}")
        if window_sum is not None:
            first = (lo - c.offset) // bpc
            last = (hi - c.offset - 1) // bpc
            a_lo = c.offset + first * bpc
            a_hi = min(c.offset + (last + 1) * bpc, c.offset + c.length)
        else:
            first, a_lo, a_hi = 0, lo, hi
        try:
            data = _pread(self._fd, a_hi - a_lo, a_lo, self.nowait)
        except BlockingIOError:
            raise
        except OSError as e:
            raise io_error(e, f"read block {self.block_id}") from e
        if len(data) != a_hi - a_lo:
            raise ChecksumMismatch(f"block {self.block_id} is truncated")
        if window_sum is not None:
            view = memoryview(data)
            sums = c.checksums
            for n, i in enumerate(range(0, len(view), bpc)):
                at = 4 * (first + n)
                if (
                    window_sum(view[i : i + bpc]).to_bytes(4, "big")
                    != sums[at : at + 4]
                ):
                    raise ChecksumMismatch(
                        f"block {self.block_id} chunk at {c.offset}: checksum mismatch"
                    )
        if a_lo == lo and a_hi == hi:
            return data
        return data[lo - a_lo : hi - a_lo]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
