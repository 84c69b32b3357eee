"""The embedded store's write path: block IDs from OM reservations
(``BlockAllocator``) and the key, part or copy being written
(``EmbeddedKeyWriter``): chunks into block files, then one OM commit; a
body no larger than the store's inline size is held and committed as an
inline block instead (inline_blocks.py)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from twisted.internet.defer import Deferred

from .._deferred import async_to_deferred
from .datanode.block_writer import LocalBlockWriter
from .errors import NoSpace
from .inline_blocks import inline_block_id, inline_sum
from .interfaces import ObjectReader
from .model import (
    BlockID,
    BlockLocation,
    KeyInfo,
    ObjectMeta,
    PartInfo,
    PartTarget,
    Precondition,
)
from .om.manager import OzoneManager
from .om.tables import block_id_of

if TYPE_CHECKING:
    from .client import EmbeddedObjectStore

RESERVE = 128  # block IDs reserved per OM write
VERIFY_STEP = 4 * 1024 * 1024  # bytes per I/O trip when a copy checks its source


class _Reservation:
    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi, self.next = lo, hi, lo
        self.outstanding = 0  # IDs handed out, not yet committed or cleaned


class BlockAllocator:
    """Block IDs for this process's writes, from OM reservations of RESERVE.

    A reservation is dropped once all its IDs were handed out and each of
    their writes committed or cleaned up; until then a restart would sweep
    its unreferenced files."""

    def __init__(self, om: OzoneManager) -> None:
        self._om = om
        self._current: _Reservation | None = None
        self._all: list[_Reservation] = []
        self._refill: Deferred[None] | None = None

    @async_to_deferred
    async def allocate(self) -> BlockID:
        while True:
            r = self._current
            if r is not None and r.next <= r.hi:
                lid = r.next
                r.next += 1
                r.outstanding += 1
                return block_id_of(lid)
            refill = self._refill
            if refill is None:
                refill = self._reserve()
                # Kept for the writers that come meanwhile; one that already
                # fired (an OM answering synchronously, as in-process tools
                # and tests run it) must not be kept: _reserve's ``finally``
                # has run, and a kept fired Deferred would spin this loop.
                if not refill.called:
                    self._refill = refill
            await refill

    @async_to_deferred
    async def _reserve(self) -> None:
        try:
            lo, hi = await self._om.reserve_blocks(RESERVE)
            self._current = _Reservation(lo, hi)
            self._all.append(self._current)
        finally:
            self._refill = None

    def settle(self, ids: Sequence[BlockID]) -> None:
        """These IDs' writes committed, or their files were deleted."""
        for block_id in ids:
            lid = block_id.local_id
            for r in self._all:
                if r.lo <= lid <= r.hi:
                    r.outstanding -= 1
                    if r.outstanding == 0 and r.next > r.hi:
                        self._all.remove(r)
                        self._om.drop_reservation(r.lo).addErrback(lambda _: None)
                    break


class WriteTarget(NamedTuple):
    """Where a new key's (or part's) blocks go when it commits."""

    bucket: str
    key: str
    meta: ObjectMeta
    part: PartTarget | None
    bucket_id: int | None  # pinned at admission: that bucket or none
    owner: str
    precondition: Precondition | None = None  # checked again by the commit


class EmbeddedKeyWriter:
    """A key (or part) being written block by block, or a copy whose data
    is ``runs`` of its source's blocks, pinned by the open key ``client_id``."""

    def __init__(
        self,
        store: EmbeddedObjectStore,
        client_id: int | None,
        source: KeyInfo | None = None,
        runs: Sequence[BlockLocation] = (),
        target: WriteTarget | None = None,
        precondition: Precondition | None = None,
    ) -> None:
        self._store = store
        self.client_id = client_id
        self._target = target
        self._allocated: list[BlockID] = []
        self._current: LocalBlockWriter | None = None
        self._done: list[BlockLocation] = list(runs)
        self.size = sum(r.length for r in runs)
        self._finished = False
        self._source = source
        self._writing = False
        self._idle: list[Deferred[None]] = []  # abort waiting for a write
        # A copy's: checked by its commit (a new key's is in its target).
        self._precondition = precondition
        # A new key's first bytes, while they fit the store's inline size:
        # if the body ends there, the commit stores them as an inline block
        # (inline_blocks.py), and no block file is made.
        self._held: list[bytes] | None = [] if target is not None else None
        self._held_size = 0

    @property
    def source(self) -> KeyInfo:
        assert self._source is not None, "not a copy"
        return self._source

    def read(self) -> Deferred[ObjectReader]:
        """A reader over a copy's pinned runs (to hash them, say)."""
        info = KeyInfo(
            self.source.bucket, self.source.key, self.size, "", 0.0, ObjectMeta(),
            tuple(self._done),
        )  # fmt: skip
        return self._store.open_reader(info, 0, self.size)

    @async_to_deferred
    async def verify(self) -> None:
        """Read the copied bytes once, checking every chunk checksum (each
        step a pread + verify in the I/O pool; nothing is kept)."""
        reader = await self.read()
        try:
            while await reader.read(VERIFY_STEP):
                pass
        finally:
            reader.close()

    @async_to_deferred
    async def write(self, data: bytes, last: bool = False) -> None:
        held = self._held
        if held is not None:
            if self._held_size + len(data) <= self._store.inline_size:
                held.append(bytes(data))
                self._held_size += len(data)
                self.size += len(data)
                return
            # Too big to be inline: the held bytes go first, to a file.
            self._held = None
            self.size -= self._held_size
        self._writing = True
        try:
            if held:
                await self._write(b"".join(held), False)
            await self._write(data, last)
        finally:
            self._writing = False
            waiters, self._idle = self._idle, []
            for w in waiters:
                w.callback(None)

    async def _write(self, data: bytes, last: bool) -> None:
        store = self._store
        view = memoryview(data)
        while view:
            if self._current is None or self._current.length >= store.block_size:
                await self._close_block()
                block_id = await store.blocks.allocate()
                self._allocated.append(block_id)
                piece = view[: store.block_size]
                current = None
            else:
                current = self._current
                piece = view[: store.block_size - current.length]
            # Creating the block file, writing, and (after the body's last
            # bytes) making the block durable: one trip to the I/O pool.
            finish = last and len(piece) == len(view)
            self._current, done = await store.io.run(
                self._write_piece, current, block_id if current is None else None,
                piece, finish,
            )  # fmt: skip
            if done is not None:
                self._done.append(done)
            self.size += len(piece)
            view = view[len(piece) :]

    def _write_piece(
        self,
        writer: LocalBlockWriter | None,
        new_block: BlockID | None,
        piece: memoryview,
        finish: bool,
    ) -> tuple[LocalBlockWriter | None, BlockLocation | None]:
        if writer is None:
            assert new_block is not None
            writer = self._store.datanode.create_block(new_block)
            try:
                writer.write_chunk(piece)
            except BaseException:
                writer.discard()
                raise
        else:
            writer.write_chunk(piece)
        if finish:
            return None, writer.put_block()
        return writer, None

    async def _close_block(self) -> None:
        if self._current is not None:
            current, self._current = self._current, None
            self._done.append(await self._store.io.run(current.put_block))

    @async_to_deferred
    async def commit(self, etag: str, checksum: str = "") -> KeyInfo | PartInfo:
        assert not self._finished, "commit after commit or abort"
        try:
            await self._close_block()
        except BaseException:
            await self.abort()
            raise
        self._finished = True
        store = self._store
        try:
            if self._target is None:
                return await self._commit_copy(etag, checksum)
            t = self._target
            inline = None
            if self._held and self._held_size:  # (an empty body has no block)
                data = b"".join(self._held)
                await self._check_inline_space(len(data))
                lid = (await store.blocks.allocate()).local_id
                block_id = inline_block_id(lid)
                self._allocated.append(block_id)
                self._done.append(BlockLocation(block_id, len(data)))
                inline = (lid, data, inline_sum(data))
            try:
                return await store.om.commit_new(
                    t.bucket, t.key, t.meta, t.part, self._done, self.size, etag,
                    time.time(), checksum, t.bucket_id, t.owner, t.precondition,
                    inline,
                )  # fmt: skip
            except BaseException as e:
                # Committed (a refusal whose cleanup committed, or a commit
                # whose log sync failed): the OM owns the blocks, referenced
                # or queued for deletion.  Otherwise the transaction took no
                # effect (disk full, I/O error): the blocks are nobody's.
                if not getattr(e, "after_commit", False):
                    await self._delete_files()
                raise
        finally:
            store.blocks.settle(self._allocated)
            store.kick_reclaim()

    async def _check_inline_space(self, n: int) -> None:
        """The OM's database shares the disk: an inline body may not eat the
        space kept for metadata writes and deletes either, unless it fits
        in pages deleted rows freed (the file does not shrink; SQLite
        reuses them), so that deleting small objects makes room for more."""
        store = self._store
        try:
            store.datanode.check_space(n)
        except NoSpace:
            if await store.om.free_pages() < n:
                raise

    async def _commit_copy(self, etag: str, checksum: str) -> KeyInfo | PartInfo:
        assert self.client_id is not None
        om = self._store.om
        try:
            return await om.commit_key(
                self.client_id, self._done, self.size, etag, time.time(), checksum,
                self._precondition,
            )  # fmt: skip
        except BaseException as e:
            if getattr(e, "after_commit", False):
                raise  # the OM committed the key, or its own cleanup
            # The commit transaction itself failed: unpin the source now if
            # the OM can; start-up would otherwise.
            try:
                await om.abort_open_key(self.client_id)
            except Exception:
                self._store.log.failure("could not release an uncommitted key")
            raise

    async def _delete_files(self) -> None:
        store = self._store
        await store.io.run(store._delete_blocks, list(self._allocated))

    @async_to_deferred
    async def abort(self) -> None:
        if self._finished:
            return
        self._finished = True
        store = self._store
        if self._writing:
            # A write in flight may be creating a block file right now: let
            # it finish, so the file is there to delete (and its fd closed).
            idle: Deferred[None] = Deferred()
            self._idle.append(idle)
            await idle
        if self._current is not None:
            current, self._current = self._current, None
            await store.io.run(current.discard)
        if self.client_id is not None:
            await store.om.abort_open_key(self.client_id)
            store.kick_reclaim()
            return
        try:
            await self._delete_files()
        finally:
            store.blocks.settle(self._allocated)
