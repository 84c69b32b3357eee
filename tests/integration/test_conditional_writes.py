"""Conditional writes and deletes (issue 14): If-None-Match: * and
If-Match on PutObject, CopyObject, CompleteMultipartUpload and DeleteObject.
The check and the commit are one step in the OM: racing writers get one
winner, in one gateway process or across ``--workers``."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import AwsCli, make_client
from tests.support.gateway import GatewayProcess


def refused(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def body(s3: Any, bucket: str, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def test_if_none_match_star_writes_only_a_new_key(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
    assert body(s3, bucket, "k") == b"first"
    put = lambda: s3.put_object(  # noqa: E731
        Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*"
    )
    assert refused(put) == ("PreconditionFailed", 412)
    assert body(s3, bucket, "k") == b"first"
    # No write remains open and nothing leaked: a plain PUT still works.
    s3.put_object(Bucket=bucket, Key="k", Body=b"third")
    assert body(s3, bucket, "k") == b"third"


def test_if_match_writes_only_over_that_version(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    assert refused(
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", IfMatch='"0abc"')
    ) == ("PreconditionFailed", 412)
    assert refused(
        lambda: s3.put_object(Bucket=bucket, Key="none", Body=b"x", IfMatch=etag)
    ) == ("PreconditionFailed", 412)
    assert body(s3, bucket, "k") == b"v1"
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    assert body(s3, bucket, "k") == b"v2"
    # The old ETag no longer names the current version.
    assert refused(
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"v3", IfMatch=etag)
    ) == ("PreconditionFailed", 412)
    assert body(s3, bucket, "k") == b"v2"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="none")


def test_if_none_match_other_than_star_is_not_implemented(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")
    put = lambda: s3.put_object(  # noqa: E731
        Bucket=bucket, Key="k", Body=b"x", IfNoneMatch='"0abc"'
    )
    assert refused(put) == ("NotImplemented", 501)
    assert body(s3, bucket, "k") == b"kept"


def test_delete_if_match(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v")["ETag"]
    delete = lambda key, tag: s3.delete_object(  # noqa: E731
        Bucket=bucket, Key=key, IfMatch=tag
    )
    assert refused(lambda: delete("k", '"0abc"')) == ("PreconditionFailed", 412)
    assert body(s3, bucket, "k") == b"v"
    # AWS: a conditional delete of a missing key is NoSuchKey.
    assert refused(lambda: delete("missing", etag)) == ("NoSuchKey", 404)
    delete("k", etag)
    assert refused(lambda: s3.head_object(Bucket=bucket, Key="k"))[1] == 404


def _upload(s3: Any, bucket: str, key: str, data: bytes) -> tuple[str, list[Any]]:
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=data)[
        "ETag"
    ]
    return up, [{"PartNumber": 1, "ETag": etag}]


def test_complete_multipart_upload_conditions(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    up, parts = _upload(s3, bucket, "k", b"new")

    def complete(**condition: str) -> Any:
        return s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=up,
            MultipartUpload={"Parts": parts}, **condition,
        )  # fmt: skip

    assert refused(lambda: complete(IfNoneMatch="*")) == ("PreconditionFailed", 412)
    assert refused(lambda: complete(IfMatch='"0abc"')) == ("PreconditionFailed", 412)
    assert body(s3, bucket, "k") == b"old"
    # A refused completion keeps the upload: it can still be completed.
    listed = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in listed] == [up]
    complete(IfMatch=etag)
    assert body(s3, bucket, "k") == b"new"
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    # If-None-Match: * completes onto a new key.
    up, parts = _upload(s3, bucket, "fresh", b"mp")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="fresh", UploadId=up,
        MultipartUpload={"Parts": parts}, IfNoneMatch="*",
    )  # fmt: skip
    assert body(s3, bucket, "fresh") == b"mp"


def test_copy_object_destination_conditions(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    etag = s3.put_object(Bucket=bucket, Key="dst", Body=b"dest")["ETag"]
    src = f"{bucket}/src"

    def copy(**h: str) -> None:
        def add(params: Any, **_: Any) -> None:
            params["headers"].update(h)

        s3.meta.events.register_first("before-call.s3.CopyObject", add)
        try:
            s3.copy_object(Bucket=bucket, Key="dst", CopySource=src)
        finally:
            s3.meta.events.unregister("before-call.s3.CopyObject", add)

    assert refused(lambda: copy(**{"If-None-Match": "*"})) == (
        "PreconditionFailed",
        412,
    )
    assert refused(lambda: copy(**{"If-Match": '"0abc"'})) == (
        "PreconditionFailed",
        412,
    )
    assert body(s3, bucket, "dst") == b"dest"
    copy(**{"If-Match": etag})
    assert body(s3, bucket, "dst") == b"source"


def _race(endpoint: str, bucket: str, key: str, writers: int) -> list[Any]:
    """``writers`` clients PUT the key with If-None-Match: * at once (each
    its own connection and body); returns each one's ETag or error code."""
    clients = [make_client(endpoint) for _ in range(writers)]
    start = threading.Barrier(writers)
    results: list[Any] = [None] * writers

    def write(i: int) -> None:
        data = f"writer {i} ".encode() * 20_000  # ~180 KB: a real upload
        start.wait()
        try:
            r = clients[i].put_object(
                Bucket=bucket, Key=key, Body=data, IfNoneMatch="*"
            )
            results[i] = ("ok", r["ETag"], data)
        except ClientError as e:
            results[i] = ("refused", e.response["Error"]["Code"])

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _check_one_winner(s3: Any, bucket: str, key: str, results: list[Any]) -> None:
    winners = [r for r in results if r[0] == "ok"]
    losers = [r for r in results if r[0] == "refused"]
    assert len(winners) == 1, results
    assert len(winners) + len(losers) == len(results)
    # A race may be told 409 ConditionalRequestConflict (AWS) or 412.
    assert {code for _, code in losers} <= {
        "PreconditionFailed",
        "ConditionalRequestConflict",
    }, losers
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["ETag"] == winners[0][1]
    assert got["Body"].read() == winners[0][2]


def test_racing_if_none_match_writers_get_one_winner(
    gateway: GatewayProcess, s3: Any, bucket: str
) -> None:
    for round_ in range(3):
        key = f"race-{round_}"
        _check_one_winner(s3, bucket, key, _race(gateway.endpoint, bucket, key, 8))


def test_racing_writers_across_workers_get_one_winner(tmp_path: Any) -> None:
    gw = GatewayProcess(str(tmp_path / "data"), args=["--workers", "2"]).start()
    try:
        s3 = make_client(gw.endpoint)
        bucket = f"b-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        for round_ in range(3):
            key = f"race-{round_}"
            _check_one_winner(s3, bucket, key, _race(gw.endpoint, bucket, key, 8))
        # Both workers took part: the audit log names each.
        with open(f"{gw.data_dir}/logs/s3g-audit.log") as f:
            workers = {
                line.split('"worker":')[1][0] for line in f if '"worker":' in line
            }
        assert workers == {"0", "1"}
    finally:
        assert gw.stop() in (0, -15), gw.log()


def test_aws_cli_conditional_put(
    aws: AwsCli, s3: Any, bucket: str, tmp_path: Any
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"cli")
    args = [
        "s3api",
        "put-object",
        "--bucket",
        bucket,
        "--key",
        "k",
        "--body",
        str(path),
    ]
    aws(*args, "--if-none-match", "*")
    second = aws(*args, "--if-none-match", "*", check=False)
    assert second.returncode != 0
    assert "PreconditionFailed" in second.stderr
    assert body(s3, bucket, "k") == b"cli"
