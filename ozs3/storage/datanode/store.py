"""An embedded datanode: blocks in containers on local disk.

Layout (Ozone's, flattened): ``<root>/containers/<cid>/chunks/<localID>.block``.
A block file holds its chunks' bytes, then a footer recording the chunk list
with each chunk's ChecksumData (Ozone keeps this BlockData in the container
DB; keeping it in the block file means one file, one fsync): block_format,
block_writer and block_reader.

Every call here blocks; the client runs them in its I/O executor.
"""

from __future__ import annotations

import os
import threading

from ..errors import BlockNotFound, NoSpace
from ..model import BlockID
from .block_format import io_error
from .block_reader import LocalBlockReader
from .block_writer import LocalBlockWriter


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
        self._containers = os.path.join(root, "containers")
        os.makedirs(self._containers, exist_ok=True)

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
        # One f-string, not os.path.join: every GET opens a block (~1 us
        # against ~5 on the machine measured).
        return (
            f"{self._containers}/{int(block_id.container_id)}"
            f"/chunks/{int(block_id.local_id)}.block"
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
            raise io_error(e, f"create block {block_id}") from e
        return LocalBlockWriter(self, block_id, path, fd)

    def open_block(self, block_id: BlockID, nowait: bool = False) -> LocalBlockReader:
        """A verified reader of the block; ``nowait``: see LocalBlockReader."""
        path = self.block_path(block_id)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise BlockNotFound(str(block_id)) from None
        except OSError as e:
            raise io_error(e, f"open block {block_id}") from e
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
        for cid in os.listdir(self._containers):
            chunks = os.path.join(self._containers, cid, "chunks")
            if not os.path.isdir(chunks):
                continue
            for name in os.listdir(chunks):
                if name.endswith(".block"):
                    found.append(BlockID(int(cid), int(name[: -len(".block")])))
        return sorted(found)
