"""The datanode client against the real cluster: a key written by ``ozone sh``
read back byte for byte through GetBlock/ReadChunk (checksums verified); a
block written through Ratis (WriteChunk + PutBlock) read back, committed with
the OM client, read by ``ozone sh key get`` and accepted by
``ozone debug replicas verify --checksums``; datanode refusals and silences as
storage errors within the deadline."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import time

import pytest
import pytest_twisted

from ozs3.storage.ozone import checksum, dn_codec
from ozs3.storage.ozone.checksum import DEFAULT_BYTES_PER_CHECKSUM
from ozs3.storage.ozone.datanode_client import DatanodeClient
from ozs3.storage.ozone.dn_codec import BlockID, BlockInfo, Chunk
from ozs3.storage.ozone.dn_errors import (
    DatanodeBlockNotFound,
    DatanodeDeadlineExceeded,
    DatanodeUnavailable,
)
from ozs3.storage.ozone.om_client import OMClient
from ozs3.storage.ozone.om_types import KeyBlock
from ozs3.storage.ozone.ratis_block_writer import RatisBlockWriter
from ozs3.storage.ozone.ratis_client import RatisClient

from .conftest import Cluster, new_bucket_name

MiB = 1024 * 1024


def _reactor():
    from twisted.internet import reactor

    return reactor


def reader_for(block: KeyBlock) -> DatanodeClient:
    assert block.pipeline is not None and block.pipeline.members
    dn = block.pipeline.members[0]
    return DatanodeClient(_reactor(), dn.address("STANDALONE"), dn.uuid, deadline=60.0)


async def read_all(
    client: DatanodeClient, info: BlockInfo, start: int, end: int, piece: int
) -> bytes:
    pieces = [p async for p in client.read_range(info, start, end, piece_size=piece)]
    assert all(len(p) <= piece + 2 * DEFAULT_BYTES_PER_CHECKSUM for p in pieces)
    return b"".join(pieces)


def put_with_ozone_sh(cluster: Cluster, tmp_path, path: str, data: bytes) -> None:
    local = tmp_path / "upload"
    local.write_bytes(data)
    cluster.ozone_sh("key", "put", path, str(local))


def verify_replicas(cluster: Cluster, path: str) -> dict:
    """``ozone debug replicas verify --checksums --all-results PATH``: Ozone's
    own client reads every replica of every block and checks its checksums."""
    cmd = [*shlex.split(cluster.info["ozone"]), "debug", "replicas", "verify"]
    cmd += ["--checksums", "--all-results", path]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest_twisted.ensureDeferred
async def test_key_put_by_ozone_sh_reads_back_byte_for_byte(
    cluster, om: OMClient, bucket_names, tmp_path
):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    data = os.urandom(10 * MiB)
    put_with_ozone_sh(cluster, tmp_path, f"/s3v/{name}/ten", data)
    key = await om.get_key(name, "ten")
    assert [b.length for b in key.blocks] == [4 * MiB, 4 * MiB, 2 * MiB]

    key_offset = 0
    for block in key.blocks:
        client = reader_for(block)
        try:
            info = await client.get_block(
                BlockID(block.container_id, block.local_id, block.bcsid)
            )
            assert info.length == block.length
            assert info.block_id.bcsid == block.bcsid > 0
            for chunk in info.chunks:  # the cluster's client config: CRC32 per 16 KiB
                assert chunk.checksums.type == "CRC32"
                assert chunk.checksums.bytes_per_checksum == DEFAULT_BYTES_PER_CHECKSUM
                assert len(chunk.checksums.checksums) == -(-chunk.length // (16 * 1024))
            expected = data[key_offset : key_offset + block.length]
            # Whole block, in 1 MiB pieces (the default) and in odd small ones.
            assert await read_all(client, info, 0, block.length, 1 * MiB) == expected
            assert await read_all(client, info, 0, block.length, 300_000) == expected
            # Ranges inside one checksum window, across windows, at the very end.
            for start, end in [
                (0, 1),
                (100, 5000),
                (16 * 1024 - 7, 16 * 1024 + 9),
                (12_345, 1_234_567),
                (block.length - 3, block.length),
                (block.length // 2, block.length),
            ]:
                got = await read_all(client, info, start, end, 64 * 1024)
                assert got == expected[start:end], (start, end)
        finally:
            client.close()
        key_offset += block.length


@pytest_twisted.ensureDeferred
async def test_block_written_through_ratis_is_read_back_and_accepted_by_ozone(
    cluster, om: OMClient, bucket_names, tmp_path
):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    data = os.urandom(4 * MiB)
    session = await om.open_key(name, "written", len(data), replication=("RATIS", 1))
    block = session.blocks[0] if session.blocks else await om.allocate_block(session)
    pipeline = block.pipeline
    assert pipeline is not None and pipeline.type == "RATIS"
    peers = {m.uuid: m.address("RATIS") for m in pipeline.members}
    ratis = RatisClient(
        _reactor(), pipeline.id, peers, leader=pipeline.leader_id, deadline=60.0
    )
    try:
        # Chunks of 1,500,000 bytes: not a multiple of the checksum window, so
        # each chunk ends with a short window; written in odd-sized pieces.
        writer = RatisBlockWriter(
            ratis,
            BlockID(block.container_id, block.local_id),
            pipeline.members[0].uuid,
            chunk_size=1_500_000,
        )
        for start in range(0, len(data), 777_777):
            await writer.write(data[start : start + 777_777])
        committed = await writer.finish()
    finally:
        ratis.close()
    assert committed.length == len(data)
    assert committed.block_id.bcsid > 0
    assert [c.length for c in writer.chunks] == [
        1_500_000,
        1_500_000,
        len(data) - 3_000_000,
    ]

    client = reader_for(block)
    try:
        info = await client.get_block(committed.block_id)
        assert [c.offset for c in info.chunks] == [0, 1_500_000, 3_000_000]
        assert info.chunks == tuple(writer.chunks)
        assert await read_all(client, info, 0, len(data), 1 * MiB) == data
        for start, end in [
            (1_499_990, 1_500_010),
            (1_000_000, 3_200_000),
            (0, len(data)),
        ]:
            assert await read_all(client, info, start, end, 100_000) == data[start:end]
    finally:
        client.close()

    written = KeyBlock(
        block.container_id,
        block.local_id,
        0,
        committed.length,
        bcsid=committed.block_id.bcsid,
        pipeline=pipeline,
    )
    await om.commit_key(session, [written], len(data))
    got = tmp_path / "got"
    cluster.ozone_sh("key", "get", f"/s3v/{name}/written", str(got))
    assert got.read_bytes() == data
    report = verify_replicas(cluster, f"/s3v/{name}/")
    assert report["pass"] is True, report
    [key_report] = report["keys"]
    assert key_report["name"] == "written" and key_report["pass"] is True
    [block_report] = key_report["blocks"]
    assert block_report["blockID"] == block.local_id
    checks = [c for r in block_report["replicas"] for c in r["checks"]]
    assert [(c["type"], c["completed"], c["pass"]) for c in checks] == [
        ("checksum", True, True)
    ]


@pytest_twisted.ensureDeferred
async def test_a_wrong_checksum_fails_our_reader_and_ozones_verify(
    cluster, om: OMClient, bucket_names
):
    """The control for the test above: one flipped bit in a recorded checksum
    (the datanode does not check on write) is caught by our reader and by
    Ozone's replica verification."""
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    data = os.urandom(100_000)
    session = await om.open_key(name, "bad", len(data), replication=("RATIS", 1))
    block = session.blocks[0] if session.blocks else await om.allocate_block(session)
    assert block.pipeline is not None
    dn_uuid = block.pipeline.members[0].uuid
    block_id = BlockID(block.container_id, block.local_id)
    good = checksum.compute(data)
    sums = list(good.checksums)
    sums[3] = bytes([sums[3][0] ^ 1]) + sums[3][1:]
    chunk = Chunk(
        dn_codec.chunk_name(block.local_id, 1),
        0,
        len(data),
        checksum.ChecksumData("CRC32", good.bytes_per_checksum, tuple(sums)),
    )
    ratis = RatisClient(
        _reactor(),
        block.pipeline.id,
        {dn_uuid: block.pipeline.members[0].address("RATIS")},
        deadline=60.0,
    )
    try:
        await ratis.submit(dn_codec.write_chunk_request(block_id, chunk, data, dn_uuid))
        reply = await ratis.submit(
            dn_codec.put_block_request(block_id, [chunk], True, dn_uuid)
        )
    finally:
        ratis.close()
    committed = dn_codec.committed_block(reply.response)
    client = reader_for(block)
    try:
        info = await client.get_block(committed.block_id)
        assert await read_all(client, info, 0, 3 * 16384, 16384) == data[: 3 * 16384]
        with pytest.raises(checksum.ChunkChecksumMismatch) as bad:
            await read_all(client, info, 0, len(data), 1 * MiB)
        assert bad.value.window == 3
    finally:
        client.close()
    await om.commit_key(
        session,
        [
            KeyBlock(
                block.container_id,
                block.local_id,
                0,
                len(data),
                bcsid=committed.block_id.bcsid,
                pipeline=block.pipeline,
            )
        ],
        len(data),
    )
    report = verify_replicas(cluster, f"/s3v/{name}/")
    assert report["pass"] is False, report


@pytest_twisted.ensureDeferred
async def test_datanode_refusals_are_storage_errors(
    cluster, om: OMClient, bucket_names, tmp_path
):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    put_with_ozone_sh(cluster, tmp_path, f"/s3v/{name}/small", b"x" * 1000)
    block = (await om.get_key(name, "small")).blocks[0]
    client = reader_for(block)
    try:
        with pytest.raises(DatanodeBlockNotFound) as missing:
            await client.get_block(BlockID(block.container_id, block.local_id + 10**9))
        assert missing.value.result == "NO_SUCH_BLOCK"
        with pytest.raises(DatanodeBlockNotFound) as no_container:
            await client.get_block(BlockID(10**9, block.local_id))
        assert no_container.value.result == "CONTAINER_NOT_FOUND"
    finally:
        client.close()


@pytest_twisted.ensureDeferred
async def test_silent_or_closed_datanode_fails_within_the_deadline():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts, never answers
    try:
        client = DatanodeClient(
            _reactor(),
            f"127.0.0.1:{silent.getsockname()[1]}",
            "no-such-dn",
            deadline=1.5,
        )
        began = time.monotonic()
        with pytest.raises(DatanodeDeadlineExceeded):
            await client.get_block(BlockID(1, 1))
        assert time.monotonic() - began < 15
        client.close()
    finally:
        silent.close()

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    ratis = RatisClient(
        _reactor(),
        "11111111-2222-3333-4444-555555555555",
        {"dn": f"127.0.0.1:{port}"},
        deadline=1.5,
    )
    began = time.monotonic()
    writer = RatisBlockWriter(ratis, BlockID(1, 1), "dn")
    await writer.write(b"x")
    with pytest.raises(DatanodeUnavailable):
        await writer.finish()
    assert time.monotonic() - began < 15
    ratis.close()
