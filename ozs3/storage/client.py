"""The embedded object store: Ozone's client write and read paths over an
in-process OM and datanode (the writer in writer.py, the reader in reader.py).

Write: ``open_key`` (the OM checks the bucket, or upload, exists) ->
``write`` (chunks go to the datanode, into block files named from this
process's reserved block IDs, so no OM write is needed per block) ->
``commit`` (each block's chunk list is made durable with fsync, then one OM
transaction references the blocks, makes the key, or the part, visible and
releases whatever it replaced); a body no larger than ``inline_size``
makes no file: the commit stores it in the OM as an inline block
(inline_blocks.py).  A write that fails or is aborted deletes
its files; one a crash cut short leaves files in a reserved range that no key
references, which the next start deletes.  Copies write nothing: ``open_copy`` pins the
source's blocks in an open key and the commit shares them.  Reads open every
block of the key version up front, so a concurrent overwrite that deletes old
blocks cannot cut a read short.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from .._deferred import async_to_deferred
from .._executor import Executor
from .datanode.block_reader import LocalBlockReader, NoWaitUnsupported
from .datanode.store import LocalBlockStore, fsync_dir
from .errors import BlockNotFound, NoSpace
from .inline_blocks import InlineBlockReader, is_inline
from .interfaces import CopyWriter, KeyWriter, ObjectReader
from .model import (
    BlockLocation,
    BucketInfo,
    CopyMeta,
    DeleteResult,
    KeyInfo,
    KeyListing,
    ListedKey,
    ListQuery,
    ObjectMeta,
    PartListing,
    PartTarget,
    Precondition,
    UploadInfo,
    UploadListing,
    UploadQuery,
)
from .om.manager import OzoneManager
from .om.tables import block_id_of, slice_blocks
from .reader import EmbeddedObjectReader
from .reclaimer import BlockReclaimer
from .writer import BlockAllocator, EmbeddedKeyWriter, WriteTarget

BUCKET_SEEN_FOR = 1.0  # seconds a bucket known to exist skips the lookup
# Reads up to this size try the page cache on the reactor thread (RWF_NOWAIT)
# before a trip to the I/O pool: verifying 256 KiB of CRC32C takes ~20 us.
INLINE_READ = 256 * 1024
# Bodies up to this size are kept in the OM's database (inline_blocks.py).
INLINE_SIZE = 64 * 1024


class EmbeddedObjectStore(BlockReclaimer):
    """``ObjectStore`` over an embedded OM and one local datanode."""

    log = Logger()

    def __init__(
        self,
        om: OzoneManager,
        datanode: LocalBlockStore,
        io: Executor,
        block_size: int,
        clock: Any = None,  # an IReactorTime
        inline_size: int = INLINE_SIZE,
    ) -> None:
        self.om = om
        self.datanode = datanode
        self.volume = om.volume
        self.io = io
        self.block_size = block_size
        self.inline_size = inline_size
        # Small reads try the page cache inline until the file system says
        # it cannot tell (open_reader).
        self.nowait_reads = True
        self._init_reclaimer(clock)
        self.blocks = BlockAllocator(om)
        self._bucket_seen: dict[str, float] = {}  # bucket -> until (monotonic)

    @async_to_deferred
    async def start(self, every_slot: bool = True) -> None:
        """Open the store; reclaim what a crash left (see ``OzoneManager.start``).

        With ``every_slot`` (nothing else runs on this store yet), after an
        unclean stop, also delete block files the OM does not know: blocks
        whose volatile allocation a power failure took back.
        """
        reclaimed = await self.om.start(every_slot)
        if reclaimed:
            self.log.info("reclaimed {n} open keys left by an earlier run", n=reclaimed)
        left = await self.om.reserved_ranges(every_slot)
        if left:
            n = await self.io.run(self._delete_unreferenced, left)
            if n:
                self.log.info("deleted {n} blocks of uncommitted writes", n=n)
            # Bookkeeping only (the next start redoes it, finding nothing to
            # delete): a full disk must not keep the gateway from starting.
            try:
                await self.om.forget_reservations([lo for lo, _, _ in left], every_slot)
            except NoSpace:
                self.log.warn("disk full: reservations are forgotten at a later start")
        if every_slot:
            if not os.path.exists(self._clean_marker):
                swept = await self.sweep_orphans()
                if swept:
                    self.log.info("deleted {n} unreferenced block files", n=swept)
            else:
                # Gone for good before anything is written: a crash of this
                # run must not look clean to the next one.
                os.unlink(self._clean_marker)
                fsync_dir(os.path.dirname(self._clean_marker))
        try:
            await self.reclaim()
        except NoSpace:  # its files are deleted; the next pass forgets them
            self.log.warn("disk full: deleted blocks are forgotten later")

    def _delete_unreferenced(self, ranges: list[tuple[int, int, set[int]]]) -> int:
        n = 0
        for lo, hi, used in ranges:
            for lid in range(lo, hi + 1):
                if lid not in used:
                    n += self.datanode.delete_block(block_id_of(lid))
        return n

    @property
    def _clean_marker(self) -> str:
        return os.path.join(os.path.dirname(self.om.path), "clean-shutdown")

    @async_to_deferred
    async def mark_clean(self) -> None:
        """Record a graceful stop: the next start can skip the sweep.  A last
        durable commit first makes every volatile write before it durable."""
        await self.om.sync()
        # All or nothing (a full disk can fail the write): a marker is only
        # ever there, under its name, complete and durable.
        marker = self._clean_marker
        partial = marker + ".partial"
        try:
            with open(partial, "w") as f:
                f.write("ozs3 stopped cleanly\n")
                f.flush()
                os.fsync(f.fileno())
            os.rename(partial, marker)
            fsync_dir(os.path.dirname(marker))
        except BaseException:
            for path in (partial, marker):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            raise

    @async_to_deferred
    async def sweep_orphans(self) -> int:
        referenced = await self.om.referenced_blocks()
        on_disk = await self.io.run(self.datanode.block_files)
        orphans = [b for b in on_disk if b not in referenced]
        await self.io.run(self._delete_blocks, orphans)
        return len(orphans)

    # -- buckets -------------------------------------------------------------

    def create_bucket(self, name: str, owner: str) -> Deferred[BucketInfo]:
        return self.om.create_bucket(name, owner)

    # ``bucket_id`` (wherever a bucket is named): that bucket, not another
    # created since under its name (NoSuchBucket then); None: whichever
    # bucket has the name.

    def get_bucket(
        self, name: str, bucket_id: int | None = None
    ) -> Deferred[BucketInfo]:
        return self.om.get_bucket(name, bucket_id)

    def delete_bucket(self, name: str, bucket_id: int | None = None) -> Deferred[None]:
        self._bucket_seen.pop(name, None)
        return self.om.delete_bucket(name, bucket_id)

    def list_buckets(self) -> Deferred[list[BucketInfo]]:
        return self.om.list_buckets()

    def list_keys(
        self, bucket: str, query: ListQuery, bucket_id: int | None = None
    ) -> Deferred[KeyListing]:
        return self.om.list_keys(bucket, query, bucket_id)

    def get_s3_secret(self, access_key: str) -> Deferred[str | None]:
        return self.om.get_s3_secret(access_key)

    # -- keys ----------------------------------------------------------------

    @async_to_deferred
    async def open_key(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        size_hint: int | None,
        part: PartTarget | None = None,
        bucket_id: int | None = None,
        owner: str = "",
        precondition: Precondition | None = None,
    ) -> KeyWriter:
        # A bucket seen a moment ago (or just now, by the caller who pins
        # its id) needs no lookup: if it was deleted since, the commit says
        # so (NoSuchBucket) and frees the blocks.  A precondition is checked
        # now (no body is stored in vain) and again by the commit.
        if (
            part is not None
            or precondition is not None
            or (
                bucket_id is None
                and self._bucket_seen.get(bucket, 0.0) < time.monotonic()
            )
        ):
            await self.om.check_target(bucket, key, part, bucket_id, precondition)
            if bucket_id is None:
                self._bucket_seen[bucket] = time.monotonic() + BUCKET_SEEN_FOR
        target = WriteTarget(bucket, key, meta, part, bucket_id, owner, precondition)
        return EmbeddedKeyWriter(self, None, target=target)

    @async_to_deferred
    async def open_copy(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta | CopyMeta | None,
        part: PartTarget | None,
        source_bucket: str,
        source_key: str,
        source_range: tuple[int, int] | None,
        bucket_id: int | None = None,
        source_bucket_id: int | None = None,
        owner: str = "",
        precondition: Precondition | None = None,
    ) -> CopyWriter:
        if precondition is not None:
            await self.om.check_target(bucket, key, part, bucket_id, precondition)
        client_id, source, runs = await self.om.open_copy(
            bucket, key, meta, part, source_bucket, source_key, source_range,
            bucket_id, source_bucket_id, owner,
        )  # fmt: skip
        return EmbeddedKeyWriter(
            self, client_id, source=source, runs=runs, precondition=precondition
        )

    def lookup_key(
        self, bucket: str, key: str, bucket_id: int | None = None, head: bool = False
    ) -> Deferred[KeyInfo]:
        return self.om.lookup_key(bucket, key, bucket_id)

    @async_to_deferred
    async def open_reader(
        self, info: KeyInfo, offset: int, length: int, prefetch: int = 0
    ) -> ObjectReader:
        # Only the blocks the range touches are opened (a 3 GiB multipart
        # object has hundreds), all of them now, before any byte is read.
        # The first ``prefetch`` bytes are read in the same trip to the I/O
        # pool: a small object's GET needs one trip, not two.
        # BlockNotFound: this version was replaced (or deleted) and its blocks
        # reclaimed since it was looked up; the caller, which built its
        # answer from ``info``, looks the key up again.  Never another
        # version's bytes under this one's headers.
        runs = slice_blocks(info.blocks, offset, length)
        inline: dict[int, tuple[bytes, int]] = {}
        wanted = [b.block_id.local_id for b in runs if is_inline(b.block_id)]
        if wanted:
            inline = await self.om.inline_blocks(wanted)
            if len(wanted) == len(runs):  # no file to open: nothing waits
                return self._open(runs, length, prefetch, inline=inline)
        if length <= min(prefetch, INLINE_READ) and self.nowait_reads:
            # A small read whose bytes (and footers) the page cache holds
            # takes microseconds here, on the reactor thread: less than a
            # trip to the pool (its thread wake-ups and GIL hand-offs).  One
            # that would wait for the disk goes to the pool.
            try:
                return self._open(runs, length, prefetch, True, inline)
            except NoWaitUnsupported:
                self.nowait_reads = False  # e.g. tmpfs: stop asking
            except BlockingIOError:
                pass
        return await self.io.run(self._open, runs, length, prefetch, False, inline)

    def _open(
        self,
        runs: Sequence[BlockLocation],
        length: int,
        prefetch: int,
        nowait: bool = False,
        inline: dict[int, tuple[bytes, int]] | None = None,
    ) -> EmbeddedObjectReader:
        readers = self._open_blocks(runs, nowait, inline or {})
        reader = EmbeddedObjectReader(self.io, readers, runs, 0, length)
        try:
            if prefetch:
                reader.prefetch(prefetch)
            for r in readers:
                r.nowait = False  # later reads run in the pool
        except BaseException:
            reader.close()
            raise
        return reader

    def _open_blocks(
        self,
        blocks: Sequence[BlockLocation],
        nowait: bool,
        inline: dict[int, tuple[bytes, int]],
    ) -> list[LocalBlockReader | InlineBlockReader]:
        readers: list[LocalBlockReader | InlineBlockReader] = []
        try:
            for b in blocks:
                if is_inline(b.block_id):
                    found = inline.get(b.block_id.local_id)
                    if found is None:  # released since the lookup
                        raise BlockNotFound(str(b.block_id))
                    readers.append(InlineBlockReader(b.block_id, *found))
                    continue
                readers.append(self.datanode.open_block(b.block_id, nowait))
        except BaseException:
            for r in readers:
                r.close()
            raise
        return readers

    @async_to_deferred
    async def delete_key(
        self,
        bucket: str,
        key: str,
        bucket_id: int | None = None,
        precondition: Precondition | None = None,
    ) -> None:
        await self.om.delete_key(bucket, key, bucket_id, precondition)
        self.kick_reclaim()

    @async_to_deferred
    async def delete_keys(
        self, bucket: str, keys: Sequence[str], bucket_id: int | None = None
    ) -> list[DeleteResult]:
        results = await self.om.delete_keys(bucket, keys, bucket_id)
        self.kick_reclaim()
        return results

    # -- multipart -------------------------------------------------------------

    def create_upload(
        self, bucket: str, key: str, meta: ObjectMeta, owner: str,
        bucket_id: int | None = None,
    ) -> Deferred[UploadInfo]:  # fmt: skip
        return self.om.create_upload(bucket, key, meta, owner, bucket_id)

    @async_to_deferred
    async def abort_upload(
        self, bucket: str, key: str, upload_id: str, bucket_id: int | None = None
    ) -> None:
        await self.om.abort_upload(bucket, key, upload_id, bucket_id)
        self.kick_reclaim()

    @async_to_deferred
    async def complete_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]],
        bucket_id: int | None = None, precondition: Precondition | None = None,
        owner: str = "",
    ) -> KeyInfo:  # fmt: skip
        info = await self.om.complete_upload(
            bucket, key, upload_id, parts, bucket_id, precondition
        )
        self.kick_reclaim()
        return info

    def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int,
        bucket_id: int | None = None,
    ) -> Deferred[PartListing]:  # fmt: skip
        return self.om.list_parts(bucket, key, upload_id, marker, max_parts, bucket_id)

    def list_uploads(
        self, bucket: str, query: UploadQuery, bucket_id: int | None = None
    ) -> Deferred[UploadListing]:
        return self.om.list_uploads(bucket, query, bucket_id)

    # -- tags, bucket settings, lifecycle ----------------------------------------

    def set_key_tags(
        self,
        bucket: str,
        key: str,
        tags: Sequence[tuple[str, str]],
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        return self.om.set_key_tags(bucket, key, tags, bucket_id)

    def set_key_acl(
        self,
        bucket: str,
        key: str,
        acl: Sequence[tuple[str, str, str]],
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        return self.om.set_key_acl(bucket, key, acl, bucket_id)

    def get_bucket_setting(
        self, bucket: str, name: str, bucket_id: int | None = None
    ) -> Deferred[str | None]:
        return self.om.get_bucket_setting(bucket, name, bucket_id)

    def set_bucket_setting(
        self, bucket: str, name: str, value: str | None, bucket_id: int | None = None
    ) -> Deferred[None]:
        return self.om.set_bucket_setting(bucket, name, value, bucket_id)

    def buckets_with_setting(self, name: str) -> Deferred[list[tuple[BucketInfo, str]]]:
        return self.om.buckets_with_setting(name)

    @async_to_deferred
    async def expire_keys(
        self, bucket: str, versions: Sequence[ListedKey], bucket_id: int | None = None
    ) -> list[ListedKey]:
        deleted = await self.om.expire_keys(bucket, versions, bucket_id)
        self.kick_reclaim()
        return deleted

    def claim_lease(
        self, name: str, holder: str, seconds: float, every: float = 0.0
    ) -> Deferred[float | None]:
        return self.om.claim_lease(name, holder, seconds, every)

    def finish_lease(self, name: str, holder: str, done_at: float) -> Deferred[bool]:
        return self.om.finish_lease(name, holder, done_at)
