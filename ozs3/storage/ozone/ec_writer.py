"""Writing an erasure-coded key (e.g. EC rs-3-2-1024k) to the cluster, as
Ozone's ``ECKeyOutputStream`` writes it.

The OM allocates block *groups*: one KeyLocation whose pipeline names
``d + p`` datanodes with their replica indexes.  Bytes are gathered into
stripes of ``d`` cells; each stripe's ``p`` parity cells are computed here
(``ec_codec``: Ozone's RS coder) and every cell goes to its datanode as a
WriteChunk over the STANDALONE gRPC service, the block ID carrying the
replica index.  Once all cells of a stripe are answered, every member gets
a PutBlock with its cumulative chunk list and the group's length so far
(metadata ``blockGroupLen``), ``eof`` on the group's last stripe.  A group
holds ``d`` times the block size; CommitKey lists each group with the bytes
of the key in it.

Memory: one stripe being gathered while the one before it is on its way
(``d`` + ``p`` cells).  A failed cell or PutBlock fails the write (Ozone's client would
rewrite the stripe in a new group; not done here): the S3 layer answers the
storage error, the open key is reclaimed by the OM.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import attrs
from twisted.internet.defer import Deferred, FirstError, gatherResults

from ..._deferred import async_to_deferred
from ..model import KeyInfo, ObjectMeta, PartInfo
from . import checksum, dn_codec, ec_codec
from .datanode_client import DatanodeClient
from .dn_codec import BlockID, Chunk
from .ec_layout import split_stripe
from .key_reader import DatanodePool
from .key_writer import ClusterKeyWriter, RatisPool, WriteSettings
from .om_client import OMClient
from .om_types import EcConfig, KeyBlock, OpenKeySession

# PutBlock metadata: the bytes of the key the whole group holds so far
# (OzoneConsts.BLOCK_GROUP_LEN_KEY_IN_PUT_BLOCK); readers and the
# datanodes' reconstruction take a group's length from it.
BLOCK_GROUP_LEN = "blockGroupLen"


async def all_of(calls: Sequence[Deferred[Any]]) -> list[Any]:
    """Every call's result; the first failure raised as itself."""
    try:
        return await gatherResults(list(calls), consumeErrors=True)
    except FirstError as e:
        e.subFailure.raiseException()
        raise  # not reached


class ECGroupWriter:
    """One block group: its ``d + p`` internal blocks, written a stripe at a
    time."""

    def __init__(
        self, pool: DatanodePool, block: KeyBlock, settings: WriteSettings
    ) -> None:
        pipeline = block.pipeline
        if pipeline is None or pipeline.ec is None:
            raise ValueError("an EC block group without its EC pipeline")
        self.ec: EcConfig = pipeline.ec
        width = self.ec.data + self.ec.parity
        by_index = dict(zip(pipeline.replica_indexes, pipeline.members, strict=True))
        if sorted(by_index) != list(range(1, width + 1)):
            raise ValueError(
                f"block group {block.container_id}/{block.local_id}: replica "
                f"indexes {sorted(by_index)} for {self.ec.name}"
            )
        self.block = block
        self.settings = settings
        self.clients: list[DatanodeClient] = [
            pool.client(by_index[i]) for i in range(1, width + 1)
        ]
        self.ids = [
            BlockID(block.container_id, block.local_id, 0, i)
            for i in range(1, width + 1)
        ]
        self.chunks: list[list[Chunk]] = [[] for _ in range(width)]
        self.length = 0  # the key's bytes in the group, all acknowledged
        self.stripes = 0
        # Capacity: every internal block is at most the block size the OM
        # allocated (ECBlockOutputStreamEntry: data * the location's length).
        self.capacity = self.ec.data * block.length
        self.closed = False

    @property
    def stripe_size(self) -> int:
        return self.ec.data * self.ec.cell_size

    async def write_stripe(self, stripe: bytes, eof: bool) -> None:
        """One stripe's bytes (a whole stripe unless it is the group's last):
        its cells and parity to their datanodes, then PutBlock everywhere."""
        ec = self.ec
        data = split_stripe(ec, stripe)
        width = len(data[0])
        padded = [c if len(c) == width else c + bytes(width - len(c)) for c in data]
        units = data + ec_codec.encode(padded, ec.parity)
        offset = self.stripes * ec.cell_size
        new: dict[int, Chunk] = {}
        for i, unit in enumerate(units):
            if unit:
                new[i] = Chunk(
                    dn_codec.chunk_name(self.block.local_id, len(self.chunks[i]) + 1),
                    offset,
                    len(unit),
                    checksum.compute(
                        unit,
                        self.settings.checksum_type,
                        self.settings.bytes_per_checksum,
                    ),
                )
        # Replica 1's and the parity replicas' chunks carry the checksums of
        # the stripe's every cell, in replica order (Ozone's stripeChecksum).
        stripe_sum = b"".join(b"".join(new[i].checksums.checksums) for i in sorted(new))
        for i in new:
            if i == 0 or i >= ec.data:
                new[i] = dataclasses.replace(new[i], stripe_checksum=stripe_sum)
        await all_of(
            [
                Deferred.fromCoroutine(
                    self.clients[i].write_chunk(self.ids[i], chunk, units[i])
                )
                for i, chunk in new.items()
            ]
        )
        for i, chunk in new.items():
            self.chunks[i].append(chunk)
        self.length += len(stripe)
        self.stripes += 1
        await self.put_blocks(eof)

    async def put_blocks(self, eof: bool) -> None:
        """PutBlock to every member (those without a cell yet too: it makes
        their block), with the group's length; ``eof`` closes the group."""
        meta = ((BLOCK_GROUP_LEN, str(self.length)),)
        await all_of(
            [
                Deferred.fromCoroutine(
                    client.put_block(self.ids[i], self.chunks[i], eof, meta)
                )
                for i, client in enumerate(self.clients)
            ]
        )
        self.closed = eof

    def written(self) -> KeyBlock:
        """The group as CommitKey lists it."""
        return attrs.evolve(self.block, offset=0, length=self.length, bcsid=0)


class ECKeyWriter(ClusterKeyWriter):
    """An open EC key (the storage interface's ``KeyWriter``): the same
    sessions, parts and commit as a replicated key, its bytes striped."""

    def __init__(
        self,
        om: OMClient,
        ratis: RatisPool,
        settings: WriteSettings,
        session: OpenKeySession,
        meta: ObjectMeta,
        owner: str,
        datanodes: DatanodePool,
    ) -> None:
        super().__init__(om, ratis, settings, session, meta, owner)
        self._datanodes = datanodes
        self._group: ECGroupWriter | None = None
        self._gathered: list[bytes] = []
        self._gathered_size = 0
        # The stripe on its way to the datanodes while the next is gathered
        # (a group's stripes go one after the other: cumulative PutBlocks).
        self._sending: Deferred[None] | None = None

    @async_to_deferred
    async def write(self, data: bytes, last: bool = False) -> None:
        view = memoryview(data).cast("B")
        while view:
            if self._group is None:
                self._group = await self._next_group()
            group = self._group
            # A whole stripe, or what the group still holds if less.
            want = min(group.stripe_size, group.capacity - group.length)
            piece = view[: want - self._gathered_size]
            self._gathered.append(bytes(piece))
            self._gathered_size += len(piece)
            self.size += len(piece)
            view = view[len(piece) :]
            if self._gathered_size == want:
                await self._write_gathered(group)
        if last:
            await self._end_group()

    async def _write_gathered(self, group: ECGroupWriter) -> None:
        stripe = b"".join(self._gathered)
        self._gathered, self._gathered_size = [], 0
        await self._sent()
        full = group.length + len(stripe) >= group.capacity
        short = len(stripe) < group.stripe_size
        sending = Deferred.fromCoroutine(group.write_stripe(stripe, eof=full or short))
        if full or short:
            await sending
            self._done(group)
        else:
            self._sending = sending

    async def _sent(self) -> None:
        """Wait for the stripe on its way (its failure is the write's)."""
        sending, self._sending = self._sending, None
        if sending is not None:
            await sending

    async def _end_group(self) -> None:
        """The group's last stripe written (or, if it ended on a whole stripe,
        a closing PutBlock sent): the group is done."""
        group = self._group
        if group is None:
            return
        if self._gathered_size:
            await self._write_gathered(group)
        await self._sent()
        if self._group is not None:
            await group.put_blocks(eof=True)
            self._done(group)

    def _done(self, group: ECGroupWriter) -> None:
        self._written.append(
            attrs.evolve(group.written(), part_number=self._part_number)
        )
        self._group = None

    async def _next_group(self) -> ECGroupWriter:
        block = self._spare.pop(0) if self._spare else await self._allocate()
        return ECGroupWriter(self._datanodes, block, self._settings)

    @async_to_deferred
    async def start_part(self, number: int) -> None:
        await self._end_group()
        self._part_number = number

    def commit(self, etag: str, checksum: str = "") -> Deferred[KeyInfo | PartInfo]:
        async def end_then_commit() -> KeyInfo | PartInfo:
            await self._end_group()
            return await super(ECKeyWriter, self).commit(etag, checksum)

        return Deferred.fromCoroutine(end_then_commit())

    def abort(self) -> Deferred[None]:
        if self._sending is not None:
            self._sending.addErrback(lambda _: None)  # nobody waits for it now
            self._sending = None
        self._group = None
        self._gathered, self._gathered_size = [], 0
        return super().abort()
