"""Reading an erasure-coded key's byte range, as Ozone's ``ECBlockInputStream``
and ``ECBlockReconstructedStripeInputStream`` read it.

Each piece of the range lies in one cell (``ec_layout``) and is read from
that cell's data replica (GetBlock with the replica index, then ReadChunk,
checksums verified).  When the replica fails (down, missing the block,
bytes that fail their checksum) it is given up for the rest of the read and
the piece is rebuilt from the same bytes of ``d`` other cells of its stripe,
data or parity (``ec_codec.decode``); cells too short to reach them count
as zeros, as the writer padded them for encoding.  With more than ``p``
cells of a stripe lost, the read fails.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from ..errors import StorageIOError
from . import ec_codec
from .datanode_client import DatanodeClient
from .dn_codec import BlockID, BlockInfo
from .ec_layout import CellPiece, piece_at, stripe_unit_lengths
from .key_reader import (
    TRY_ANOTHER,
    ClusterObjectReader,
    DatanodePool,
    _Run,
    read_block_bytes,
)
from .om_types import Datanode, EcConfig, KeyBlock

# (container, local id, replica index): one internal block of a group.
_Replica = tuple[int, int, int]


class ECObjectReader(ClusterObjectReader):
    """The storage interface's ``ObjectReader`` for an EC key."""

    log = Logger()

    def __init__(
        self, pool: DatanodePool, blocks: Sequence[KeyBlock], offset: int, length: int
    ) -> None:
        super().__init__(pool, blocks, offset, length)
        self._infos: dict[_Replica, tuple[DatanodeClient, BlockInfo]] = {}
        self._waiting: dict[_Replica, list[Deferred[None]]] = {}
        self._lost: set[_Replica] = set()
        self.rebuilt = 0  # pieces rebuilt from other cells (for tests, logs)

    def _piece_end(self, run: _Run, start: int, max_bytes: int) -> int:
        ec = _ec_of(run.block)
        piece = piece_at(ec, start, min(max_bytes, run.end - start))
        return start + piece.length

    async def _fetch(self, run: _Run, start: int, stop: int) -> bytes:
        block = run.block
        ec = _ec_of(block)
        piece = piece_at(ec, start, stop - start)
        if _replica(block, piece.replica) in self._lost:
            return await self._rebuild(block, ec, piece)
        try:
            return await self._read_cell(block, piece.replica, piece.offset,
                                         piece.offset + piece.length)  # fmt: skip
        except TRY_ANOTHER as e:
            self._lose(block, piece.replica, e)
        return await self._rebuild(block, ec, piece)

    def _lose(self, block: KeyBlock, replica: int, error: Exception) -> None:
        self._lost.add(_replica(block, replica))
        self.log.info(
            "EC block group {c}/{l}: replica {r} unreadable ({error}); its cells "
            "are rebuilt from the others",
            c=block.container_id, l=block.local_id, r=replica, error=error,
        )  # fmt: skip

    async def _read_cell(
        self, block: KeyBlock, replica: int, start: int, stop: int
    ) -> bytes:
        client, info = await self._replica_info(block, replica)
        return await read_block_bytes(client, info, start, stop)

    async def _replica_info(
        self, block: KeyBlock, replica: int
    ) -> tuple[DatanodeClient, BlockInfo]:
        """GetBlock of one internal block, once, whoever asks first."""
        key = _replica(block, replica)
        while key not in self._infos:
            if key in self._lost:
                raise StorageIOError(
                    f"replica {replica} of block group "
                    f"{block.container_id}/{block.local_id} is lost"
                )
            if key in self._waiting:
                d: Deferred[None] = Deferred()
                self._waiting[key].append(d)
                await d
                continue
            self._waiting[key] = []
            try:
                dn = _member(block, replica)
                client = self._pool.client(dn)
                bid = BlockID(block.container_id, block.local_id, block.bcsid, replica)
                self._infos[key] = (client, await client.get_block(bid))
            except TRY_ANOTHER:
                self._lost.add(key)  # the caller logs it
                raise
            finally:
                for w in self._waiting.pop(key):
                    w.callback(None)
        return self._infos[key]

    async def _rebuild(self, block: KeyBlock, ec: EcConfig, piece: CellPiece) -> bytes:
        """The piece's bytes from the same columns of ``d`` other cells."""
        lengths = stripe_unit_lengths(ec, block.length, piece.stripe)
        lo, hi = piece.in_cell, piece.in_cell + piece.length
        base = piece.stripe * ec.cell_size
        units: list[bytes | None] = [None] * (ec.data + ec.parity)
        have = 0
        for i, length in enumerate(lengths):
            if have == ec.data:
                break
            if i + 1 == piece.replica:
                continue
            if length <= lo:  # a short cell: zeros where the piece is
                units[i] = bytes(piece.length)
                have += 1
                continue
            if _replica(block, i + 1) in self._lost:
                continue
            try:
                got = await self._read_cell(block, i + 1, base + lo,
                                            base + min(hi, length))  # fmt: skip
            except TRY_ANOTHER as e:
                self._lose(block, i + 1, e)
                continue
            units[i] = got + bytes(piece.length - len(got))
            have += 1
        if have < ec.data:
            raise StorageIOError(
                f"block group {block.container_id}/{block.local_id}: "
                f"{have} cells of stripe {piece.stripe} readable, {ec.data} needed"
            )
        self.rebuilt += 1
        return ec_codec.decode(units, ec.data, ec.parity)[piece.replica - 1]


def _ec_of(block: KeyBlock) -> EcConfig:
    if block.pipeline is None or block.pipeline.ec is None:
        raise StorageIOError(
            f"block {block.container_id}/{block.local_id} of an EC key has no "
            "EC pipeline"
        )
    return block.pipeline.ec


def _replica(block: KeyBlock, replica: int) -> _Replica:
    return (block.container_id, block.local_id, replica)


def _member(block: KeyBlock, replica: int) -> Datanode:
    assert block.pipeline is not None
    for index, dn in zip(block.pipeline.replica_indexes, block.pipeline.members,
                         strict=True):  # fmt: skip
        if index == replica:
            return dn
    raise StorageIOError(
        f"block group {block.container_id}/{block.local_id} names no datanode "
        f"for replica {replica}"
    )
