"""EC keys without a cluster: the striping arithmetic against a reference
layout, and ECKeyWriter -> ECObjectReader through in-memory datanodes,
with cells lost (the real cluster's EC tests: tests/cluster/ec)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

from ozs3.storage.errors import StorageIOError
from ozs3.storage.model import ObjectMeta
from ozs3.storage.ozone import checksum, ec_codec
from ozs3.storage.ozone.dn_codec import BlockID, BlockInfo, Chunk, CommittedBlock
from ozs3.storage.ozone.dn_errors import DatanodeUnavailable
from ozs3.storage.ozone.ec_layout import piece_at, stripe_unit_lengths
from ozs3.storage.ozone.ec_reader import ECObjectReader
from ozs3.storage.ozone.ec_writer import BLOCK_GROUP_LEN, ECKeyWriter
from ozs3.storage.ozone.key_writer import WriteSettings
from ozs3.storage.ozone.om_types import (
    Datanode,
    EcConfig,
    KeyBlock,
    OpenKeySession,
    OzoneKey,
    Pipeline,
)


def reference_layout(data: bytes, ec: EcConfig) -> list[bytearray]:
    """Each replica's bytes, cell by cell, the obvious way (data replicas
    only)."""
    replicas = [bytearray() for _ in range(ec.data)]
    cells = [data[i : i + ec.cell_size] for i in range(0, len(data), ec.cell_size)]
    for c, cell in enumerate(cells):
        replicas[c % ec.data] += cell
    return replicas


@given(
    d=st.integers(1, 6),
    cell=st.integers(1, 9),
    size=st.integers(0, 200),
    start=st.integers(0, 199),
    ask=st.integers(1, 20),
)
def test_pieces_find_the_bytes_the_reference_layout_put_there(
    d: int, cell: int, size: int, start: int, ask: int
) -> None:
    ec = EcConfig(d, 2, "rs", cell)
    data = bytes(i % 251 for i in range(size))
    replicas = reference_layout(data, ec)
    if start >= size:
        return
    piece = piece_at(ec, start, ask)
    assert 1 <= piece.length <= ask
    assert (start % cell) + piece.length <= cell  # never past its cell
    got = replicas[piece.replica - 1][piece.offset : piece.offset + piece.length]
    assert bytes(got) == data[start : start + piece.length][: len(got)]
    # The stripe's cells are as long as the reference made them.
    lengths = stripe_unit_lengths(ec, size, piece.stripe)
    for i in range(d):
        held = len(replicas[i]) - piece.stripe * cell
        assert lengths[i] == max(0, min(cell, held))
    assert lengths[d:] == [lengths[0]] * 2


# --- in-memory datanodes ------------------------------------------------------

EC = EcConfig(3, 2, "rs", 64)
MEMBERS = tuple(
    Datanode(f"dn-{i}", "127.0.0.1", f"h{i}", {"STANDALONE": 9000 + i})
    for i in range(1, 6)
)


class FakeDatanode:
    def __init__(self, uuid: str) -> None:
        self.datanode_uuid = uuid
        self.down = False
        self.cells: dict[tuple[int, int, int | None, str], bytes] = {}
        self.blocks: dict[tuple[int, int, int | None], tuple[list[Chunk], Any]] = {}

    def _check(self) -> None:
        if self.down:
            raise DatanodeUnavailable(f"{self.datanode_uuid} is down")

    async def write_chunk(self, block: BlockID, chunk: Chunk, data: bytes) -> None:
        self._check()
        checksum.verify(data, chunk.checksums, 0, what=chunk.name)
        self.cells[(block.container_id, block.local_id, block.replica_index,
                    chunk.name)] = bytes(data)  # fmt: skip

    async def put_block(
        self, block: BlockID, chunks: Any, eof: bool, metadata: Any = ()
    ) -> CommittedBlock:
        self._check()
        key = (block.container_id, block.local_id, block.replica_index)
        self.blocks[key] = (list(chunks), dict(metadata))
        return CommittedBlock(block, sum(c.length for c in chunks))

    async def get_block(self, block: BlockID) -> BlockInfo:
        self._check()
        chunks, _ = self.blocks[(block.container_id, block.local_id,
                                 block.replica_index)]  # fmt: skip
        return BlockInfo(block, tuple(chunks))

    async def read_chunk(
        self, block: BlockID, chunk: Chunk, start: int, end: int
    ) -> bytes:
        self._check()
        data = self.cells[(block.container_id, block.local_id, block.replica_index,
                           chunk.name)]  # fmt: skip
        return data[start:end]


class FakePool:
    def __init__(self) -> None:
        self.nodes = {m.uuid: FakeDatanode(m.uuid) for m in MEMBERS}

    def client(self, dn: Datanode) -> FakeDatanode:
        return self.nodes[dn.uuid]


class FakeOM:
    def __init__(self) -> None:
        self.n = 0
        self.committed: list[KeyBlock] = []

    def allocate_block(self, session: Any, **exclude: Any) -> Deferred[KeyBlock]:
        self.n += 1
        # Replica indexes in another order than the members: they decide.
        order = (3, 1, 5, 2, 4)
        pipeline = Pipeline(f"p{self.n}", "EC", 0, "OPEN", MEMBERS, "", order, EC)
        # Internal blocks of 3 cells: a group holds 9 cells (576 bytes).
        return succeed(KeyBlock(7, self.n, 0, 3 * EC.cell_size, pipeline=pipeline))

    def commit_key(self, session: Any, blocks: Any, *a: Any, **kw: Any) -> Any:
        self.committed = list(blocks)
        return succeed(None)


def result(d: Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "the fakes answer at once"
    if isinstance(box[0], Failure):
        box[0].raiseException()
    return box[0]


def write_key(data: bytes, pieces: int = 7) -> tuple[FakeOM, FakePool]:
    om, pool = FakeOM(), FakePool()
    key = OzoneKey("s3v", "b", "k", 0, 0.0, 0.0, "EC", 0, {}, ec=EC)
    writer = ECKeyWriter(
        om,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        WriteSettings(4 * 1024 * 1024, 4 * 1024 * 1024, "CRC32", 16),
        OpenKeySession(1, key, 0),
        ObjectMeta(),
        "o",
        pool,  # type: ignore[arg-type]
    )
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        result(writer.write(data[i : i + step]))
    result(writer.commit("etag"))
    return om, pool


def read(om: FakeOM, pool: FakePool, offset: int, length: int) -> tuple[bytes, int]:
    reader = ECObjectReader(pool, om.committed, offset, length)  # type: ignore[arg-type]
    out = []
    while True:
        piece = result(reader.read(50))
        if not piece:
            return b"".join(out), reader.rebuilt
        out.append(piece)


SIZES = [0, 1, 63, 64, 65, 191, 192, 193, 575, 576, 577, 1500]


@pytest.mark.parametrize("size", SIZES)
def test_written_groups_read_back_and_hold_parity(size: int) -> None:
    data = bytes((i * 7 + 3) % 256 for i in range(size))
    om, pool = write_key(data)
    groups = om.committed
    assert sum(b.length for b in groups) == size
    assert all(b.length <= 9 * EC.cell_size for b in groups)
    assert read(om, pool, 0, size) == (data, 0)
    for g in groups:
        # Every member got a PutBlock naming the group's length; the cells
        # of each stripe are RS-coded as Ozone's coder does.
        stored = {}
        for member, index in zip(MEMBERS, g.pipeline.replica_indexes):  # type: ignore[union-attr]
            node = pool.nodes[member.uuid]
            chunks, meta = node.blocks[(7, g.local_id, index)]
            assert meta[BLOCK_GROUP_LEN] == str(g.length)
            stored[index] = [node.cells[(7, g.local_id, index, c.name)] for c in chunks]
        for s, data_cell in enumerate(stored[1]):
            width = len(data_cell)
            cells = [
                (stored[i][s] if s < len(stored[i]) else b"").ljust(width, b"\0")
                for i in (1, 2, 3)
            ]
            assert [stored[4][s], stored[5][s]] == ec_codec.encode(cells, 2)


@pytest.mark.parametrize("down", [(1,), (2,), (3,), (4,), (1, 3), (2, 5)])
def test_cells_of_lost_replicas_are_rebuilt(down: tuple[int, ...]) -> None:
    data = bytes((i * 13 + 5) % 256 for i in range(1500))
    om, pool = write_key(data)
    for g in om.committed:
        for member, index in zip(MEMBERS, g.pipeline.replica_indexes):  # type: ignore[union-attr]
            if index in down:
                pool.nodes[member.uuid].down = True
    got, rebuilt = read(om, pool, 0, len(data))
    assert got == data
    assert (rebuilt > 0) == any(i <= EC.data for i in down)
    # Ranges starting mid-cell, across cells and stripes.
    for offset, length in [(1, 70), (100, 300), (570, 10), (1400, 100)]:
        assert read(om, pool, offset, length)[0] == data[offset : offset + length]


def test_three_lost_replicas_fail_the_read() -> None:
    data = bytes(range(256)) * 3
    om, pool = write_key(data)
    for uuid in ("dn-1", "dn-2", "dn-3"):
        pool.nodes[uuid].down = True
    with pytest.raises(StorageIOError):
        read(om, pool, 0, len(data))


@settings(max_examples=40, deadline=None)
@given(size=st.integers(0, 1300), pieces=st.integers(1, 9), data=st.data())
def test_any_size_in_any_pieces_reads_back_with_one_replica_lost(
    size: int, pieces: int, data: st.DataObject
) -> None:
    body = data.draw(st.binary(min_size=size, max_size=size))
    om, pool = write_key(body, pieces)
    pool.nodes[data.draw(st.sampled_from(sorted(pool.nodes)))].down = True
    offset = data.draw(st.integers(0, size))
    length = data.draw(st.integers(0, size - offset))
    assert read(om, pool, offset, length)[0] == body[offset : offset + length]
