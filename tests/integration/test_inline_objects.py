"""Small objects kept inline (ozs3/storage/inline_blocks.py) through the real
gateway: what a client sees is the same, what lands on disk is not."""

from __future__ import annotations

import os
import sqlite3

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess
from tests.support.storecheck import assert_clean, stored_blocks

KiB = 1024


def _inline(blocks) -> set[int]:  # type: ignore[no-untyped-def]
    return {b.local_id for b in blocks if b.container_id == 0}


def test_small_objects_are_rows_and_read_back(tmp_path) -> None:
    """Up to 64 KiB: a row in the OM, no block file; one byte more: a block
    file.  Every body reads back whole and in ranges, copies share the row,
    and deletes free it."""
    data = str(tmp_path / "data")
    gw = GatewayProcess(data).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="small")
        bodies = {
            "tiny": b"x",
            "four": os.urandom(4 * KiB),
            "edge": os.urandom(64 * KiB),
            "over": os.urandom(64 * KiB + 1),
        }
        for key, body in bodies.items():
            s3.put_object(Bucket="small", Key=key, Body=body)
        stored = stored_blocks(data)
        assert len(_inline(stored)) == 3 and len(stored) == 4
        for key, body in bodies.items():
            assert s3.get_object(Bucket="small", Key=key)["Body"].read() == body
            got = s3.get_object(Bucket="small", Key=key, Range="bytes=0-0")
            assert got["Body"].read() == body[:1]
            assert s3.head_object(Bucket="small", Key=key)["ContentLength"] == len(body)
        s3.copy_object(Bucket="small", Key="copy", CopySource="small/four")
        assert stored_blocks(data) == stored  # shared, not copied
        s3.delete_object(Bucket="small", Key="four")
        body = s3.get_object(Bucket="small", Key="copy")["Body"].read()
        assert body == bodies["four"]
        for key in ("copy", "tiny", "edge", "over"):
            s3.delete_object(Bucket="small", Key=key)
    finally:
        gw.stop()
    assert stored_blocks(data) == set()
    assert_clean(data)


def test_a_changed_inline_byte_is_an_internal_error(tmp_path) -> None:
    """A byte changed in an inline row: GET answers 500 InternalError (XML,
    request id) and serves none of it; HEAD and other objects still answer."""
    data = str(tmp_path / "data")
    gw = GatewayProcess(data).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="rot")
        s3.put_object(Bucket="rot", Key="victim", Body=b"precious bytes")
        (victim,) = _inline(stored_blocks(data))
        s3.put_object(Bucket="rot", Key="bystander", Body=b"fine")
        db = sqlite3.connect(os.path.join(data, "om", "om.db"))
        db.execute(
            "UPDATE inline_blocks SET data=? WHERE local_id=?",
            (b"precious bytez", victim),
        )
        db.commit()
        db.close()
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket="rot", Key="victim")["Body"].read()
        assert e.value.response["Error"]["Code"] == "InternalError"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert e.value.response["ResponseMetadata"]["RequestId"]
        assert s3.head_object(Bucket="rot", Key="victim")["ContentLength"] == 14
        assert s3.get_object(Bucket="rot", Key="bystander")["Body"].read() == b"fine"
    finally:
        gw.stop()


def test_inline_size_zero_keeps_every_body_in_a_block_file(tmp_path) -> None:
    data = str(tmp_path / "data")
    env = {"OZONE-SITE.XML_ozone.s3g.embedded.inline.max.size": "0"}
    gw = GatewayProcess(data, env=env).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="files")
        s3.put_object(Bucket="files", Key="k", Body=b"abc")
        (block,) = stored_blocks(data)
        assert block.container_id != 0
        assert s3.get_object(Bucket="files", Key="k")["Body"].read() == b"abc"
    finally:
        gw.stop()
