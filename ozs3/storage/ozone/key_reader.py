"""Reading a key's byte range from the cluster's datanodes.

``ClusterObjectReader`` (the storage interface's ``ObjectReader``): each
``read`` claims the next piece of the range at once, on the caller's thread,
so several reads may be in flight (the GET producer keeps two); the piece is
fetched with GetBlock (once per block, shared) and ReadChunk, every checksum
window verified.  A replica that fails (unreachable, behind the BCSID the OM
recorded, missing the block, or answering bytes that fail their checksum) is
given up for the rest of the read, and the piece read from the next member
of the pipeline; only when every member has failed does the read fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet.defer import Deferred, succeed

from ..errors import BlockNotFound, ChecksumMismatch, StorageError, StorageIOError
from ..model import block_spans
from .datanode_client import DatanodeClient, plan_range
from .dn_codec import BlockID, BlockInfo
from .dn_errors import DatanodeUnavailable, ReplicaBehind
from .om_types import Datanode, KeyBlock

# Errors after which another replica may do better.
TRY_ANOTHER = (DatanodeUnavailable, ReplicaBehind, BlockNotFound, ChecksumMismatch)


class DatanodePool:
    """One ``DatanodeClient`` per datanode (by UUID), reused by every read."""

    def __init__(self, reactor: Any, deadline: float) -> None:
        self.reactor = reactor
        self.deadline = deadline
        self._clients: dict[str, DatanodeClient] = {}

    def client(self, dn: Datanode) -> DatanodeClient:
        address = dn.address("STANDALONE")
        client = self._clients.get(dn.uuid)
        if client is None or client.address != address:
            if client is not None:
                client.close()
            client = DatanodeClient(
                self.reactor,
                address,
                dn.uuid,
                deadline=self.deadline,
            )
            self._clients[dn.uuid] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


class _Run:
    """The part ``[start, end)`` of one block the range covers."""

    def __init__(self, block: KeyBlock, start: int, end: int) -> None:
        self.block = block
        self.start = start
        self.end = end
        self.info: tuple[DatanodeClient, BlockInfo] | None = None
        self.waiting: list[Deferred[tuple[DatanodeClient, BlockInfo]]] | None = None
        # Members (uuids) that failed this block: not asked again.
        self.failed: set[str] = set()


def runs_of(
    blocks: Sequence[KeyBlock], offset: int, length: int
) -> list[tuple[KeyBlock, int, int]]:
    """``block_spans``, checked: the key's blocks must hold the whole range."""
    out = block_spans(blocks, offset, length)
    if sum(hi - lo for _, lo, hi in out) != length:
        raise StorageIOError(
            f"the key's blocks hold {sum(b.length for b in blocks)} bytes, "
            f"the range needs {offset + length}"
        )
    return out


async def read_block_bytes(
    client: DatanodeClient, info: BlockInfo, start: int, stop: int
) -> bytes:
    """Bytes ``[start, stop)`` of a block GetBlock described, verified."""
    if stop > info.length:
        raise StorageIOError(
            f"block {info.block_id.container_id}/{info.block_id.local_id} "
            f"holds {info.length} bytes, the key needs {stop}"
        )
    pieces = [
        await client.read_chunk(
            info.block_id, read.chunk, read.keep_start, read.keep_end
        )
        for read in plan_range(info.chunks, start, stop, stop - start)
    ]
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class ClusterObjectReader:
    def __init__(
        self,
        pool: DatanodePool,
        blocks: Sequence[KeyBlock],
        offset: int,
        length: int,
    ) -> None:
        self._pool = pool
        self._runs = [_Run(b, lo, hi) for b, lo, hi in runs_of(blocks, offset, length)]
        self._i = 0
        self.remaining = length
        self._prefetched: bytes | None = None

    async def prefetch(self, max_bytes: int) -> None:
        """Read the first piece now (so a missing block fails the open)."""
        if max_bytes > 0 and self.remaining:
            self._prefetched = await self.read(max_bytes)

    def read(self, max_bytes: int) -> Deferred[bytes]:
        if self._prefetched is not None:
            data, self._prefetched = self._prefetched, None
            return succeed(data)
        while self._i < len(self._runs) and self._runs[self._i].start >= (
            self._runs[self._i].end
        ):
            self._i += 1
        if self.remaining <= 0 or self._i >= len(self._runs):
            return succeed(b"")
        run = self._runs[self._i]
        start = run.start
        stop = self._piece_end(run, start, max_bytes)
        run.start = stop
        self.remaining -= stop - start
        return Deferred.fromCoroutine(self._fetch(run, start, stop))

    def _piece_end(self, run: _Run, start: int, max_bytes: int) -> int:
        """Where the piece of ``run`` that starts at ``start`` ends."""
        return min(run.end, start + max_bytes)

    async def _block_info(self, run: _Run) -> tuple[DatanodeClient, BlockInfo]:
        """GetBlock once per block, whoever asks first; the others wait."""
        if run.info is not None:
            return run.info
        if run.waiting is not None:
            d: Deferred[tuple[DatanodeClient, BlockInfo]] = Deferred()
            run.waiting.append(d)
            return await d
        run.waiting = []
        try:
            run.info = await self._get_block(run.block, run.failed)
        except Exception as e:
            waiting, run.waiting = run.waiting, None
            for w in waiting:
                w.errback(e)
            raise
        waiting, run.waiting = run.waiting, None
        for w in waiting:
            w.callback(run.info)
        return run.info

    async def _get_block(
        self, block: KeyBlock, failed: set[str]
    ) -> tuple[DatanodeClient, BlockInfo]:
        members = block.pipeline.members if block.pipeline else ()
        if not members:
            raise StorageIOError(
                f"the OM named no datanode for block {block.container_id}/"
                f"{block.local_id}"
            )
        bid = BlockID(block.container_id, block.local_id, block.bcsid)
        last: StorageError | None = None
        for dn in members:
            if dn.uuid in failed:
                continue
            client = self._pool.client(dn)
            try:
                return client, await client.get_block(bid)
            except TRY_ANOTHER as e:
                failed.add(dn.uuid)
                last = e
        raise last or StorageIOError(
            f"every replica of block {block.container_id}/{block.local_id} failed"
        )

    async def _fetch(self, run: _Run, start: int, stop: int) -> bytes:
        while True:
            client, info = await self._block_info(run)
            try:
                return await self._read(client, info, start, stop)
            except TRY_ANOTHER:
                # Give this replica up for the block; the next GetBlock asks
                # another member (and fails, raising, when none is left).
                run.failed.add(client.datanode_uuid)
                if run.info is not None and run.info[0] is client:
                    run.info = None
                members = run.block.pipeline.members if run.block.pipeline else ()
                if all(m.uuid in run.failed for m in members):
                    raise

    async def _read(
        self, client: DatanodeClient, info: BlockInfo, start: int, stop: int
    ) -> bytes:
        return await read_block_bytes(client, info, start, stop)

    def close(self) -> None:
        self._runs = []
        self.remaining = 0
