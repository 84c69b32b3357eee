"""Datanode commands and Ratis requests as bytes (golden vectors from Ozone's and
Ratis' own .proto files, ozone-native-protocol.md Appendix A.4), range reads
planned in bounded verified pieces, a corrupted chunk refused by the reader, and
datanode / Ratis errors mapped to storage errors."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import succeed

from ozs3.storage.errors import BlockNotFound, ChecksumMismatch, NoSpace
from ozs3.storage.ozone import checksum, dn_codec
from ozs3.storage.ozone.datanode_client import DatanodeClient, plan_range
from ozs3.storage.ozone.dn_codec import BlockID, BlockInfo, Chunk
from ozs3.storage.ozone.dn_errors import (
    ContainerNotWritable,
    DatanodeError,
    NotLeader,
    RatisError,
    ReplicaBehind,
)
from ozs3.storage.ozone.proto import datanode_pb2 as dn
from ozs3.storage.ozone.proto import ratis_pb2 as raft

# A.4: WriteChunk(container 1, localID 111, chunk 111_chunk_1, offset 0, len 5,
# CRC32 per 16384, data "hello", datanodeUuid "dn-uuid", version 3).
A4_CONTENT = bytes.fromhex(
    "0000003e080c18012207646e2d757569648a012b0a080801106f18002000121f0a0b3131315f"
    "6368756e6b5f31100018052a0c0802108080011a043610a686c00103" + b"hello".hex()
)
A4_REQUEST = bytes.fromhex(
    "0a390a10000000000000000000000000000000001207646e2d757569641a120a10111111112222"
    "33334444555555555555200128017a04080110011249"
    "0a47" + A4_CONTENT.hex() + "1a00"
)


def test_write_chunk_as_a_ratis_message_is_the_golden_vector() -> None:
    # The study's vector sets replicaIndex 0; Java sets it only for EC blocks
    # (BlockID.getDatanodeBlockIDProtobuf), as BlockID(...) without one does.
    block = BlockID(1, 111, replica_index=0)
    chunk = Chunk("111_chunk_1", 0, 5, checksum.compute(b"hello"))
    request = dn_codec.write_chunk_request(block, chunk, b"hello", "dn-uuid")
    content = dn_codec.container_message(request)
    assert content == A4_CONTENT
    ratis_block = dn_codec.write_chunk_request(BlockID(1, 111), chunk, b"hello", "dn")
    assert not ratis_block.writeChunk.blockID.HasField("replicaIndex")
    header, data = dn_codec.container_message_parts(content)
    assert data == b"hello" and not header.writeChunk.HasField("data")
    raft_request = dn_codec.raft_write_request(
        client_id=bytes(16),
        peer_id="dn-uuid",
        group_id="11111111-2222-3333-4444-555555555555",
        call_id=1,
        seq_num=1,
        is_first=True,
        content=content,
    )
    assert raft_request.SerializeToString() == A4_REQUEST


def test_put_block_lists_every_chunk_with_ozones_metadata() -> None:
    chunks = [
        Chunk(f"7_chunk_{i}", i * 10, 10, checksum.compute(b"x" * 10)) for i in (1, 2)
    ]
    request = dn_codec.put_block_request(BlockID(3, 7), chunks, True, "dn")
    header, data = dn_codec.container_message_parts(dn_codec.container_message(request))
    assert data == b""
    assert header.cmdType == dn.PutBlock and header.version == 3
    body = header.putBlock
    assert body.eof and body.blockData.size == 20
    assert [(kv.key, kv.value) for kv in body.blockData.metadata] == [("TYPE", "KEY")]
    assert [dn_codec.chunk_from_proto(c) for c in body.blockData.chunks] == chunks


def _chunks(lengths: list[int], bpc: int) -> tuple[Chunk, ...]:
    out, offset = [], 0
    for i, n in enumerate(lengths):
        out.append(Chunk(f"c{i}", offset, n, checksum.ChecksumData("CRC32", bpc)))
        offset += n
    return tuple(out)


@given(
    lengths=st.lists(st.integers(1, 500), min_size=1, max_size=5),
    bpc=st.integers(1, 64),
    piece=st.integers(1, 400),
    st_data=st.data(),
)
def test_a_range_is_planned_in_bounded_window_aligned_pieces(
    lengths: list[int], bpc: int, piece: int, st_data: st.DataObject
) -> None:
    chunks = _chunks(lengths, bpc)
    total = sum(lengths)
    start = st_data.draw(st.integers(0, total))
    end = st_data.draw(st.integers(start, total))
    reads = plan_range(chunks, start, end, piece)
    # The kept parts tile [start, end) in order.
    pos = start
    for r in reads:
        assert r.chunk.offset + r.keep_start == pos
        pos = r.chunk.offset + r.keep_end
        assert (
            r.fetch_start <= r.keep_start < r.keep_end <= r.fetch_end <= r.chunk.length
        )
        assert r.fetch_start % bpc == 0
        assert r.fetch_end == r.chunk.length or r.fetch_end % bpc == 0
        assert r.fetch_end - r.fetch_start <= max(piece // bpc * bpc, bpc) + 2 * bpc
    assert pos == end
    with pytest.raises(ValueError):
        plan_range(chunks, 0, total + 1, piece)


class FakeXceiver:
    """A datanode's STANDALONE service holding one block, answering ReadChunk
    from its bytes (optionally corrupted after the checksums were taken)."""

    def __init__(self, data: bytes, info: BlockInfo) -> None:
        self.data = data
        self.info = info
        self.calls: list[Any] = []

    def call(self, request: Any, timeout: float) -> Any:
        self.calls.append(request)
        response = dn.ContainerCommandResponseProto(
            cmdType=request.cmdType, result=dn.SUCCESS
        )
        if request.cmdType == dn.GetBlock:
            data = response.getBlock.blockData
            data.blockID.CopyFrom(dn_codec.block_id_proto(self.info.block_id))
            data.chunks.extend(dn_codec.chunk_proto(c) for c in self.info.chunks)
        else:
            info = request.readChunk.chunkData
            body = response.readChunk
            body.blockID.CopyFrom(request.readChunk.blockID)
            body.chunkData.CopyFrom(info)
            bpc = info.checksumData.bytesPerChecksum
            piece = self.data[info.offset : info.offset + info.len]
            body.dataBuffers.buffers.extend(
                piece[i : i + bpc] for i in range(0, len(piece), bpc)
            )
        return succeed(response)

    def close(self) -> None:
        pass


def _client_with(
    data: bytes, chunk_size: int, bpc: int
) -> tuple[DatanodeClient, FakeXceiver]:
    chunks = tuple(
        Chunk(
            f"1_chunk_{i + 1}",
            off,
            len(data[off : off + chunk_size]),
            checksum.compute(data[off : off + chunk_size], "CRC32", bpc),
        )
        for i, off in enumerate(range(0, len(data), chunk_size))
    )
    fake = FakeXceiver(data, BlockInfo(BlockID(1, 1, 5), chunks))
    client = DatanodeClient.__new__(DatanodeClient)
    client.address, client.datanode_uuid, client.deadline = "fake:1", "dn", 1.0
    client._transport = fake  # type: ignore[assignment]
    return client, fake


@pytest_twisted.ensureDeferred
async def test_reader_verifies_every_window_and_refuses_a_corrupted_one() -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes
    client, fake = _client_with(data, chunk_size=3000, bpc=512)
    info = await client.get_block(BlockID(1, 1, 5))
    assert info.length == len(data)
    got = b"".join(
        [p async for p in client.read_range(info, 1000, 9000, piece_size=1024)]
    )
    assert got == data[1000:9000]
    assert all(r.readChunk.readChunkVersion == dn.V1 for r in fake.calls[1:])

    fake.data = (
        data[:6100] + bytes([data[6100] ^ 0x40]) + data[6101:]
    )  # chunk 3, window 0
    assert (
        await client.read_chunk(info.block_id, info.chunks[2], 600, 700)
        == data[6600:6700]
    )
    with pytest.raises(ChecksumMismatch) as caught:
        [p async for p in client.read_range(info, 0, len(data))]
    assert isinstance(caught.value, checksum.ChunkChecksumMismatch)
    assert caught.value.window == 0 and "1_chunk_3" in str(caught.value)


@pytest.mark.parametrize(
    ("result", "error"),
    [
        ("NO_SUCH_BLOCK", BlockNotFound),
        ("CONTAINER_NOT_FOUND", BlockNotFound),
        ("DISK_OUT_OF_SPACE", NoSpace),
        ("BCSID_MISMATCH", ReplicaBehind),
        ("UNKNOWN_BCSID", ReplicaBehind),
        ("CLOSED_CONTAINER_IO", ContainerNotWritable),
        ("CONTAINER_NOT_OPEN", ContainerNotWritable),
        ("CHECKSUM_MISMATCH", DatanodeError),
        ("IO_EXCEPTION", DatanodeError),
    ],
)
def test_datanode_results_become_storage_errors(result: str, error: type) -> None:
    response = dn.ContainerCommandResponseProto(
        cmdType=dn.GetBlock, result=dn.Result.Value(result), message="why"
    )
    with pytest.raises(error) as caught:
        dn_codec.check(response, "dn:1")
    assert caught.value.result == result and "why" in str(caught.value)
    dn_codec.check(
        dn.ContainerCommandResponseProto(cmdType=dn.GetBlock, result=dn.SUCCESS)
    )


def test_ratis_reply_exceptions() -> None:
    ok = raft.RaftClientReplyProto()
    ok.rpcReply.success = True
    assert dn_codec.raft_reply_error(ok) is None
    not_leader = raft.RaftClientReplyProto()
    not_leader.notLeaderException.suggestedLeader.id = b"dn-2"
    error = dn_codec.raft_reply_error(not_leader, "dn1:9858")
    assert isinstance(error, NotLeader) and error.suggested_leader == "dn-2"
    closed = raft.RaftClientReplyProto()
    closed.stateMachineException.exceptionClassName = "StorageContainerException"
    closed.stateMachineException.errorMsg = "Container 7 is closed"
    error = dn_codec.raft_reply_error(closed)
    assert isinstance(error, RatisError) and "Container 7 is closed" in str(error)
