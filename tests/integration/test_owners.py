"""Owner fields name the owner, not whoever asks; a copy of a damaged
source fails instead of sharing the damage."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.integration.test_security import client, getsecret, secure_gateway
from tests.support.gateway import GatewayProcess
from tests.support.storecheck import flip_bits, stored_blocks, wait_quiet

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "own")


def _owners(contents: list[dict[str, object]]) -> dict[str, object]:
    return {c["Key"]: c.get("Owner", {}).get("ID") for c in contents}  # type: ignore[union-attr]


def test_listings_show_each_owner_not_the_caller(secure) -> None:
    """alice's bucket holds her key, a key the admin wrote and a key the
    admin copied: whoever lists (alice or the admin), each key shows its
    writer; her upload shows her as Initiator and Owner to the admin."""
    alice = client(secure, "alice", getsecret(secure.data_dir, "alice"))
    root = client(secure, "admin", getsecret(secure.data_dir, "admin"))
    alice.create_bucket(Bucket="owned")
    alice.put_object(Bucket="owned", Key="by-alice", Body=b"a")
    root.put_object(Bucket="owned", Key="by-admin", Body=b"b")
    root.copy_object(Bucket="owned", Key="copied-by-admin", CopySource="owned/by-alice")
    expected = {"by-alice": "alice", "by-admin": "admin", "copied-by-admin": "admin"}
    for lister in (alice, root):
        v2 = lister.list_objects_v2(Bucket="owned", FetchOwner=True)["Contents"]
        assert _owners(v2) == expected
        assert _owners(lister.list_objects(Bucket="owned")["Contents"]) == expected
        plain = lister.list_objects_v2(Bucket="owned")["Contents"]
        assert all("Owner" not in c for c in plain)
        versions = lister.list_object_versions(Bucket="owned")["Versions"]
        assert _owners(versions) == expected

    uid = alice.create_multipart_upload(Bucket="owned", Key="mp")["UploadId"]
    parts = root.list_parts(Bucket="owned", Key="mp", UploadId=uid)
    assert parts["Initiator"]["ID"] == "alice"
    assert parts["Owner"]["ID"] == "alice"
    (upload,) = root.list_multipart_uploads(Bucket="owned")["Uploads"]
    assert (upload["Initiator"]["ID"], upload["Owner"]["ID"]) == ("alice", "alice")
    etag = root.upload_part(
        Bucket="owned", Key="mp", UploadId=uid, PartNumber=1, Body=b"part"
    )["ETag"]
    root.complete_multipart_upload(
        Bucket="owned", Key="mp", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )  # fmt: skip
    listed = root.list_objects_v2(Bucket="owned", Prefix="mp", FetchOwner=True)
    assert _owners(listed["Contents"]) == {"mp": "alice"}  # the initiator's

    assert alice.list_buckets()["Owner"]["ID"] == "alice"


def test_list_buckets_names_the_buckets_owner(tmp_path) -> None:
    """Security off, any key works: the buckets "creator" made, listed with
    another key, are still "creator"'s."""
    gw = GatewayProcess(str(tmp_path / "data")).start()
    try:
        creator = make_client(gw.endpoint)  # access key "testuser"
        creator.create_bucket(Bucket="one")
        creator.create_bucket(Bucket="two")
        other = client(gw, "somebody-else", "any")
        listed = other.list_buckets()
        assert [b["Name"] for b in listed["Buckets"]] == ["one", "two"]
        assert listed["Owner"]["ID"] == "testuser"
    finally:
        gw.stop()


def _flip_a_byte(data_dir: str, block, at: int) -> None:  # type: ignore[no-untyped-def]
    from ozs3.storage.datanode.store import LocalBlockStore

    path = LocalBlockStore(os.path.join(data_dir, "hdds"), 4 * MiB, 16384,
                           "CRC32").block_path(block)  # fmt: skip
    flip_bits(path, at, 0x10)


def test_copy_of_a_corrupted_source_fails_and_leaves_the_destination(tmp_path) -> None:
    """A flipped bit in the source's block: CopyObject answers 500
    InternalError (it shares blocks, so only a read catches it), the
    existing destination keeps its bytes, a new one is not created; an
    UploadPartCopy of it fails too and adds no part."""
    data = str(tmp_path / "data")
    gw = GatewayProcess(data).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="rot")
        s3.put_object(Bucket="rot", Key="victim", Body=os.urandom(200_000))
        (victim,) = stored_blocks(data)
        s3.put_object(Bucket="rot", Key="dest", Body=b"old bytes")
        _flip_a_byte(data, victim, 150_000)
        for dest in ("dest", "new-dest"):
            with pytest.raises(ClientError) as e:
                s3.copy_object(Bucket="rot", Key=dest, CopySource="rot/victim")
            assert e.value.response["Error"]["Code"] == "InternalError"
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert s3.get_object(Bucket="rot", Key="dest")["Body"].read() == b"old bytes"
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket="rot", Key="new-dest")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        uid = s3.create_multipart_upload(Bucket="rot", Key="mp")["UploadId"]
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(Bucket="rot", Key="mp", UploadId=uid, PartNumber=1,
                                CopySource="rot/victim")  # fmt: skip
        assert e.value.response["Error"]["Code"] == "InternalError"
        listed = s3.list_parts(Bucket="rot", Key="mp", UploadId=uid)
        assert listed.get("Parts", []) == []
        s3.abort_multipart_upload(Bucket="rot", Key="mp", UploadId=uid)
        # A sound source still copies.
        s3.put_object(Bucket="rot", Key="sound", Body=b"fine")
        s3.copy_object(Bucket="rot", Key="new-dest", CopySource="rot/sound")
        assert s3.get_object(Bucket="rot", Key="new-dest")["Body"].read() == b"fine"
        wait_quiet(data)
    finally:
        gw.stop()
