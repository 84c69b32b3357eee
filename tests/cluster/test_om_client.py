"""The OM client against the real cluster: what it creates, Ozone's own shell
sees, and the other way round; OM statuses arrive as ozs3's storage errors."""

from __future__ import annotations

import os
import socket
import tempfile
import time

import pytest
import pytest_twisted

from ozs3.storage.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    InvalidBucketName,
    KeyNotFound,
)
from ozs3.storage.ozone.om_client import OMClient
from ozs3.storage.ozone.om_errors import OMDeadlineExceeded, OMUnavailable
from ozs3.storage.ozone.om_transport import GrpcAioTransport, GrpcFutureTransport
from ozs3.storage.ozone.om_types import OM_VERSION_LIGHTWEIGHT_LIST_KEYS

from .conftest import Cluster, close, new_bucket_name

MiB = 1024 * 1024


def s3v_bucket_names(cluster: Cluster) -> dict[str, dict]:
    listing = cluster.ozone_sh_json("bucket", "list", "/s3v", "--all")
    return {b["name"]: b for b in listing}  # type: ignore[union-attr]


@pytest_twisted.ensureDeferred
async def test_service_list_gives_om_version_and_leader(cluster, om):
    services = await om.service_list()
    # Ozone 2.2's OM is OzoneManagerVersion 12 (ATOMIC_CREATE_IF_NOT_EXISTS).
    assert services.om_version >= OM_VERSION_LIGHTWEIGHT_LIST_KEYS
    assert om.om_version == services.om_version
    leader = services.leader
    assert leader is not None and leader.om_node_id
    assert leader.ports["RPC"] == cluster.port("om")
    assert any(s.node_type == "SCM" for s in services.services)
    # grpc.aio where the reactor is asyncio's, grpcio futures elsewhere.
    from twisted.internet import reactor
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    on_asyncio = isinstance(reactor, AsyncioSelectorReactor)
    assert isinstance(om.transport, GrpcAioTransport) == on_asyncio
    assert isinstance(om.transport, GrpcFutureTransport) != on_asyncio
    context = await om.get_s3_volume_context()
    assert context.volume == "s3v" == om.volume
    assert context.user_principal == "ozs3-test"


@pytest_twisted.ensureDeferred
async def test_bucket_create_info_list_delete_seen_by_ozone_sh(
    cluster, om, bucket_names
):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    info = await om.info_bucket(name)
    assert (info.volume, info.name, info.owner, info.layout) == (
        "s3v",
        name,
        "ozs3-test",
        "OBJECT_STORE",
    )
    assert abs(info.created - time.time()) < 600
    listed = await om.list_buckets(prefix=name)
    assert [b.name for b in listed] == [name]

    seen = s3v_bucket_names(cluster)[name]
    assert seen["bucketLayout"] == "OBJECT_STORE"
    assert seen["owner"] == "ozs3-test"
    assert seen["quotaInBytes"] == -1  # as Ozone's own client creates buckets

    await om.delete_bucket(name)
    assert name not in s3v_bucket_names(cluster)
    assert await om.list_buckets(prefix=name) == []


@pytest_twisted.ensureDeferred
async def test_bucket_created_by_ozone_sh_is_seen(cluster, om, bucket_names):
    name = new_bucket_name(bucket_names)
    cluster.ozone_sh("bucket", "create", f"/s3v/{name}")
    info = await om.info_bucket(name)
    assert info.name == name
    assert info.layout == "FILE_SYSTEM_OPTIMIZED"  # ozone sh's default layout
    assert name in [b.name for b in await om.list_buckets(prefix="ozs3t-")]


@pytest_twisted.ensureDeferred
async def test_om_statuses_become_storage_errors(cluster, om, bucket_names):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name, owner="first-owner")
    with pytest.raises(BucketAlreadyExists) as exists:
        await om.create_bucket(name, owner="second-owner")
    assert exists.value.owner == "first-owner"

    with pytest.raises(BucketNotFound):
        await om.info_bucket(new_bucket_name(bucket_names))
    with pytest.raises(BucketNotFound):
        await om.delete_bucket(new_bucket_name(bucket_names))
    with pytest.raises(KeyNotFound):
        await om.get_key(name, "no-such-key")
    with pytest.raises(KeyNotFound):
        await om.delete_key(name, "no-such-key")
    # Every error keeps the OM's status name (InvalidBucketName: S3's 400).
    with pytest.raises(InvalidBucketName) as invalid:
        await om.create_bucket("Not_A_Valid_Bucket")
    assert invalid.value.om_status == "INVALID_BUCKET_NAME"  # type: ignore[attr-defined]

    with tempfile.NamedTemporaryFile() as f:
        f.write(b"x" * 1000)
        f.flush()
        cluster.ozone_sh("key", "put", f"/s3v/{name}/k", f.name)
    with pytest.raises(BucketNotEmpty):
        await om.delete_bucket(name)
    assert (await om.info_bucket(name)).name == name


@pytest_twisted.ensureDeferred
async def test_key_put_by_ozone_sh_has_three_blocks_with_pipelines(
    cluster, om, bucket_names
):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    data = os.urandom(10 * MiB)
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        cluster.ozone_sh("key", "put", f"/s3v/{name}/dir/ten-mib", f.name)

    for key in (
        await om.get_key(name, "dir/ten-mib"),
        await om.lookup_key(name, "dir/ten-mib"),
    ):
        assert key.size == len(data)
        assert key.etag == ""  # ozone sh stores no ETag
        assert key.replication_type == "RATIS"
        # KeyLocation.offset is where the key's bytes start inside the block
        # (0 for Ozone's writes), not the block's position in the key.
        assert [(b.offset, b.length) for b in key.blocks] == [
            (0, 4 * MiB),
            (0, 4 * MiB),
            (0, 2 * MiB),
        ]
        assert len({(b.container_id, b.local_id) for b in key.blocks}) == 3
        for block in key.blocks:
            assert block.bcsid > 0  # committed through Ratis
            assert block.pipeline is not None
            assert block.pipeline.type == "RATIS"
            # The cluster's default replication: every datanode holds a replica
            # (RATIS/THREE on three datanodes, ONE on one), one of them leads.
            n = int(cluster.info.get("datanodes", "1"))
            assert key.replication_factor == (3 if n >= 3 else 1)
            members = block.pipeline.members
            assert len(members) == key.replication_factor
            assert block.pipeline.leader in members
            known = {
                (cluster.info[f"dn{i}_standalone"], cluster.info[f"dn{i}_ratis"])
                for i in range(1, n + 1)
            }
            for dn in members:
                assert (dn.address("STANDALONE"), dn.address("RATIS")) in known

    head = await om.get_key(name, "dir/ten-mib", head=True)
    assert head.size == len(data)


@pytest_twisted.ensureDeferred
async def test_write_session_commit_and_etag_seen_by_ozone_sh(
    cluster, om, bucket_names
):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    session = await om.open_key(name, "obj", 10 * MiB, metadata={"x-amz-meta-a": "1"})
    # 10 MiB pre-allocated as 4 MiB blocks, each on an open RATIS pipeline.
    assert [b.length for b in session.blocks] == [4 * MiB] * 3
    assert all(
        b.pipeline and b.pipeline.state == "PIPELINE_OPEN" for b in session.blocks
    )
    more = await om.allocate_block(session, exclude_containers=[])
    assert (more.container_id, more.local_id) not in {
        (b.container_id, b.local_id) for b in session.blocks
    }
    assert more.pipeline is not None and more.pipeline.members

    # Nothing is visible before the commit.
    with pytest.raises(KeyNotFound):
        await om.get_key(name, "obj")
    etag = "d41d8cd98f00b204e9800998ecf8427e"
    await om.commit_key(session, [], 0, metadata={"x-amz-meta-a": "1"}, etag=etag)
    key = await om.get_key(name, "obj")
    assert (key.size, key.etag, key.owner) == (0, etag, "ozs3-test")
    assert key.metadata["x-amz-meta-a"] == "1"

    seen = cluster.ozone_sh_json("key", "info", f"/s3v/{name}/obj")
    assert seen["metadata"]["ETag"] == etag  # type: ignore[index]


async def _put_empty(om: OMClient, bucket: str, key: str) -> None:
    session = await om.open_key(bucket, key)
    await om.commit_key(session, [], 0, etag="d41d8cd98f00b204e9800998ecf8427e")


@pytest_twisted.ensureDeferred
async def test_list_keys_prefix_start_and_count(om, bucket_names):
    name = new_bucket_name(bucket_names)
    await om.create_bucket(name)
    for key in ("a/1", "a/2", "a/3", "b/1"):
        await _put_empty(om, name, key)

    page = await om.list_keys(name, prefix="a/")
    assert [k.name for k in page.keys] == ["a/1", "a/2", "a/3"]
    assert not page.truncated
    page = await om.list_keys(name, prefix="a/", start_after="a/1")
    assert [k.name for k in page.keys] == ["a/2", "a/3"]
    page = await om.list_keys(name, count=2)
    assert [k.name for k in page.keys] == ["a/1", "a/2"]
    assert page.truncated

    light = await om.list_key_summaries(name, start_after="a/3")
    assert [(k.name, k.size, k.etag) for k in light.keys] == [
        ("b/1", 0, "d41d8cd98f00b204e9800998ecf8427e")
    ]

    result = await om.delete_keys(name, ["a/1", "a/2", "missing"])
    assert result.deleted == ("a/1", "a/2")
    assert [(key, code) for key, code, _ in result.failed] == [
        ("missing", "KEY_NOT_FOUND")
    ]
    page = await om.list_keys(name)
    assert [k.name for k in page.keys] == ["a/3", "b/1"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_twisted.ensureDeferred
async def test_unreachable_om_fails_fast():
    """A closed port: refused at once, well inside the deadline."""
    from twisted.internet import reactor

    client = OMClient.connect(f"127.0.0.1:{_free_port()}", reactor, deadline=10.0)
    started = time.monotonic()
    with pytest.raises(OMUnavailable):
        await client.start()
    assert time.monotonic() - started < 10.0
    await close(client)


@pytest_twisted.ensureDeferred
async def test_silent_om_fails_at_the_deadline():
    """A port that accepts connections and never answers: the deadline ends it."""
    from twisted.internet import reactor

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        client = OMClient.connect(address, reactor, deadline=1.5)
        started = time.monotonic()
        with pytest.raises(OMDeadlineExceeded):
            await client.start()
        elapsed = time.monotonic() - started
        assert 1.0 < elapsed < 10.0
        await close(client)
