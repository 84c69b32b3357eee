"""An embedded datanode: blocks in containers on local disk.

Layout (Ozone's, flattened): ``<root>/containers/<cid>/chunks/<localID>.block``.
A block file holds its chunks' bytes back to back, then a footer recording
the chunk list with each chunk's ChecksumData (Ozone keeps this BlockData in
the container DB; keeping it in the block file means one file, one fsync).
A file without a valid footer is an unfinished block and is never read.

Every call here blocks; the client runs them in its I/O executor.
"""

from __future__ import annotations

import base64
import bisect
import errno
import json
import os
import struct
import threading
import zlib
from collections.abc import Callable
from typing import NamedTuple

from awscrt import checksums as crt_checksums

from ..errors import BlockNotFound, ChecksumMismatch, NoSpace, StorageIOError
from ..model import BlockID, BlockLocation, ChecksumData, ChunkInfo

_FOOTER = struct.Struct(">Q8s")
_MAGIC = b"OZS3BLK1"
# What a reader reads off a block's end to find its footer and metadata.
_END_READ = 4096


# Ozone's ChecksumTypes, each a 4-byte big-endian sum per window as Ozone's
# Checksum computes it.  CRC32C is the default: awscrt computes it with the
# CPU's CRC instruction, about 8x zlib's CRC32 on the machines measured, so
# verifying every byte of a GET costs little next to the read itself.
_WINDOW_SUM: dict[str, Callable[..., int]] = {
    "CRC32": zlib.crc32,
    "CRC32C": crt_checksums.crc32c,
}


def _io_error(e: OSError, what: str) -> Exception:
    if e.errno == errno.ENOSPC:
        return NoSpace(what)
    return StorageIOError(f"{what}: {e.strerror}")


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _DirSyncs:
    """Directory fsyncs shared by the threads that need one at once.

    A new block file's name is durable once its directory is fsync'd; one
    fsync that starts after a file was created covers it, so a thread that
    finds a sync in progress waits for the next one and every thread waiting
    then shares it (group commit, for directory entries)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._asked: dict[str, int] = {}  # tickets handed out per directory
        self._done: dict[str, int] = {}  # tickets covered by a finished sync
        self._syncing: set[str] = set()

    def sync(self, path: str) -> None:
        with self._cond:
            ticket = self._asked[path] = self._asked.get(path, 0) + 1
            while self._done.get(path, 0) < ticket:
                if path in self._syncing:
                    self._cond.wait()
                    continue
                self._syncing.add(path)
                covered = self._asked[path]
                self._cond.release()
                try:
                    fsync_dir(path)
                finally:
                    self._cond.acquire()
                    self._syncing.discard(path)
                    self._cond.notify_all()
                # (on an error the raise skips this: the waiters retry)
                self._done[path] = covered


class LocalBlockStore:
    """One datanode's block storage under ``root``."""

    def __init__(
        self,
        root: str,
        chunk_size: int,
        bytes_per_checksum: int,
        checksum_type: str,
        reserved: int = 0,
        reserved_fraction: float = 0.0,
    ) -> None:
        self.root = root
        self.chunk_size = chunk_size
        self.bytes_per_checksum = bytes_per_checksum
        self.checksum_type = checksum_type
        # Ozone's hdds.datanode.dir.du.reserved(.percent): the larger counts.
        self.reserved = reserved
        self.reserved_fraction = reserved_fraction
        self.dir_syncs = _DirSyncs()
        os.makedirs(os.path.join(root, "containers"), exist_ok=True)

    def check_space(self, n: int) -> None:
        """Refuse (NoSpace) to write ``n`` more bytes of block data into the
        reserved space: it is kept for metadata (the OM shares the disk),
        so deletes, which free space, and commits always fit."""
        if not (self.reserved or self.reserved_fraction):
            return
        st = os.statvfs(self.root)
        reserve = max(self.reserved, self.reserved_fraction * st.f_blocks * st.f_frsize)
        if st.f_bavail * st.f_frsize - n < reserve:
            raise NoSpace(f"{self.root}: only the reserved space is left")

    def block_path(self, block_id: BlockID) -> str:
        # Names come only from integers: no key ever reaches the file system.
        return os.path.join(
            self.root,
            "containers",
            str(int(block_id.container_id)),
            "chunks",
            f"{int(block_id.local_id)}.block",
        )

    def create_block(self, block_id: BlockID) -> LocalBlockWriter:
        path = self.block_path(block_id)
        chunks_dir = os.path.dirname(path)
        try:
            if not os.path.isdir(chunks_dir):
                os.makedirs(chunks_dir, exist_ok=True)
                fsync_dir(os.path.dirname(os.path.dirname(chunks_dir)))
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            except FileExistsError:
                # The OM just allocated this ID, so no key references a file
                # of that name: it is what a block allocation lost in a
                # power failure left (its ID was handed out again).
                fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        except OSError as e:
            raise _io_error(e, f"create block {block_id}") from e
        return LocalBlockWriter(self, block_id, path, fd)

    def open_block(self, block_id: BlockID, nowait: bool = False) -> LocalBlockReader:
        """A verified reader of the block; ``nowait``: see LocalBlockReader."""
        path = self.block_path(block_id)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise BlockNotFound(str(block_id)) from None
        except OSError as e:
            raise _io_error(e, f"open block {block_id}") from e
        try:
            return LocalBlockReader(block_id, fd, nowait)
        except BaseException:
            os.close(fd)
            raise

    def delete_block(self, block_id: BlockID) -> bool:
        """Delete a block's file; whether there was one."""
        try:
            os.unlink(self.block_path(block_id))
        except FileNotFoundError:
            return False
        return True

    def block_files(self) -> list[BlockID]:
        """Every block file on disk (for start-up audits and tests)."""
        found = []
        base = os.path.join(self.root, "containers")
        for cid in os.listdir(base):
            chunks = os.path.join(base, cid, "chunks")
            if not os.path.isdir(chunks):
                continue
            for name in os.listdir(chunks):
                if name.endswith(".block"):
                    found.append(BlockID(int(cid), int(name[: -len(".block")])))
        return sorted(found)


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
        window_sum = _WINDOW_SUM.get(store.checksum_type)
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
            raise _io_error(e, f"write block {self.block_id}") from e

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
        self._write_all(memoryview(footer + _FOOTER.pack(len(footer), _MAGIC)))
        assert self._fd is not None
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            self._store.dir_syncs.sync(os.path.dirname(self._path))
        except OSError as e:
            raise _io_error(e, f"sync block {self.block_id}") from e
        return BlockLocation(self.block_id, self.length)

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self._path)
        except FileNotFoundError:
            pass


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
        if size >= _FOOTER.size:
            want = min(size, _END_READ)
            end = _pread(fd, want, size - want, nowait)
        tail = end[-_FOOTER.size :]
        if len(tail) != _FOOTER.size or tail[8:] != _MAGIC:
            raise ChecksumMismatch(f"block {block_id} has no valid footer")
        (flen,) = struct.unpack(">Q", tail[:8])
        if flen > size - _FOOTER.size:
            raise ChecksumMismatch(f"block {block_id} footer is corrupt")
        if flen + _FOOTER.size <= len(end):
            text = end[-_FOOTER.size - flen : -_FOOTER.size]
        else:
            text = _pread(fd, flen, size - _FOOTER.size - flen, nowait)
        try:
            meta = json.loads(text)
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
        window_sum = _WINDOW_SUM.get(c.type)
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
            raise _io_error(e, f"read block {self.block_id}") from e
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
