"""CopyObject and UploadPartCopy: server-side, sharing blocks, not bytes."""

from __future__ import annotations

import datetime
import hashlib
import os
import time

import pytest
from botocore.exceptions import ClientError

from tests.support.storecheck import stored_blocks

MiB = 1024 * 1024


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def test_copy_object_keeps_data_and_metadata(s3, bucket) -> None:
    """COPY (the default) keeps the source's bytes, metadata and ETag."""
    body = os.urandom(300_000)
    etag = s3.put_object(Bucket=bucket, Key="src", Body=body, ContentType="image/gif",
                         Metadata={"m": "1"})["ETag"]  # fmt: skip
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    assert out["CopyObjectResult"]["ETag"] == etag
    r = s3.get_object(Bucket=bucket, Key="dst")
    assert r["Body"].read() == body
    assert r["ContentType"] == "image/gif" and r["Metadata"] == {"m": "1"}


def test_copy_object_replace_metadata(s3, bucket) -> None:
    """REPLACE takes metadata and Content-Type from the copy request."""
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Metadata={"old": "1"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"new": "2"},
                   ContentType="text/plain")  # fmt: skip
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["Metadata"] == {"new": "2"} and h["ContentType"] == "text/plain"


def test_copy_onto_itself(s3, bucket) -> None:
    """Self-copy with COPY is refused; with REPLACE it changes metadata only."""
    s3.put_object(Bucket=bucket, Key="self", Body=b"same bytes", Metadata={"v": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self")
    assert _code(e) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self",
                   MetadataDirective="REPLACE", Metadata={"v": "2"})  # fmt: skip
    r = s3.get_object(Bucket=bucket, Key="self")
    assert r["Body"].read() == b"same bytes" and r["Metadata"] == {"v": "2"}


def test_copy_source_url_encoded_keys(s3, bucket) -> None:
    """Source keys with spaces, +, %, unicode and // are found (boto3 encodes)."""
    for key in ["a b", "c+d", "e%f", "ü/日本", "g//h"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        s3.copy_object(Bucket=bucket, Key=f"copy/{key}",
                       CopySource={"Bucket": bucket, "Key": key})  # fmt: skip
        assert (
            s3.get_object(Bucket=bucket, Key=f"copy/{key}")["Body"].read()
            == key.encode()
        )


def test_copy_missing_source(s3, bucket) -> None:
    """A missing source key is NoSuchKey, a missing bucket NoSuchBucket."""
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/missing")
    assert _code(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d", CopySource="no-such-src-bucket/k")
    assert _code(e) == "NoSuchBucket"


def test_copy_conditionals(s3, bucket) -> None:
    """x-amz-copy-source-if-* conditions: 412 when they fail."""
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    before, after = (
        modified - datetime.timedelta(days=1),
        modified + datetime.timedelta(days=1),
    )
    src = f"{bucket}/c"
    # A future If-Modified-Since is ignored (RFC 2616, S3): nothing was
    # modified after a date still to come.
    ok = [{"CopySourceIfMatch": etag}, {"CopySourceIfNoneMatch": '"zz"'},
          {"CopySourceIfModifiedSince": before}, {"CopySourceIfUnmodifiedSince": after},
          {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": before},
          {"CopySourceIfModifiedSince": after}]  # fmt: skip
    bad = [{"CopySourceIfMatch": '"zz"'}, {"CopySourceIfNoneMatch": etag},
           {"CopySourceIfModifiedSince": modified},
           {"CopySourceIfUnmodifiedSince": before}]  # fmt: skip
    for kw in ok:
        s3.copy_object(Bucket=bucket, Key="ok", CopySource=src, **kw)
    for kw in bad:
        with pytest.raises(ClientError) as e:
            s3.copy_object(Bucket=bucket, Key="bad", CopySource=src, **kw)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412, kw
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def test_copy_shares_blocks_and_survives_source_delete(gateway, s3, bucket) -> None:
    """A copy adds no block files; deleting the source keeps the copy whole,
    and deleting both frees the blocks."""
    body = os.urandom(3 * MiB)
    before = stored_blocks(gateway.data_dir)
    s3.put_object(Bucket=bucket, Key="share-src", Body=body)
    with_src = stored_blocks(gateway.data_dir)
    s3.copy_object(Bucket=bucket, Key="share-dst", CopySource=f"{bucket}/share-src")
    assert stored_blocks(gateway.data_dir) == with_src
    s3.delete_object(Bucket=bucket, Key="share-src")
    time.sleep(0.3)
    assert stored_blocks(gateway.data_dir) == with_src
    assert s3.get_object(Bucket=bucket, Key="share-dst")["Body"].read() == body
    s3.delete_object(Bucket=bucket, Key="share-dst")
    deadline = time.monotonic() + 5
    while stored_blocks(gateway.data_dir) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_blocks(gateway.data_dir) == before


def test_upload_part_copy_ranges(s3, bucket) -> None:
    """UploadPartCopy with ranges: each part's ETag is the MD5 of the copied
    bytes, and the assembled object equals the chosen ranges."""
    src = os.urandom(12 * MiB + 3)
    s3.put_object(Bucket=bucket, Key="big-src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    ranges = [(0, 5 * MiB - 1), (7 * MiB, 12 * MiB), (100, 199)]
    parts = []
    for n, (a, b) in enumerate(ranges, 1):
        r = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=n,
                                CopySource=f"{bucket}/big-src",
                                CopySourceRange=f"bytes={a}-{b}")  # fmt: skip
        assert (
            r["CopyPartResult"]["ETag"]
            == f'"{hashlib.md5(src[a : b + 1]).hexdigest()}"'
        )
        parts.append({"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=uid,
                                 MultipartUpload={"Parts": parts})  # fmt: skip
    got = s3.get_object(Bucket=bucket, Key="assembled")["Body"].read()
    assert got == b"".join(src[a : b + 1] for a, b in ranges)


def test_upload_part_copy_bad_ranges(s3, bucket) -> None:
    """A range past the source's end is InvalidRange; bad syntax InvalidArgument."""
    s3.put_object(Bucket=bucket, Key="s", Body=b"0123456789")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="t")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="t", UploadId=uid, PartNumber=1,
                            CopySource=f"{bucket}/s", CopySourceRange="bytes=5-10")  # fmt: skip
    assert _code(e) == "InvalidRange"
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="t", UploadId=uid, PartNumber=1,
                            CopySource=f"{bucket}/s", CopySourceRange="bytes=5-")  # fmt: skip
    assert _code(e) == "InvalidArgument"
    assert s3.list_parts(Bucket=bucket, Key="t", UploadId=uid).get("Parts", []) == []


def test_upload_part_copy_if_match(s3, bucket) -> None:
    """UploadPartCopy honours x-amz-copy-source-if-match (s3transfer sends it)."""
    etag = s3.put_object(Bucket=bucket, Key="s2", Body=b"abc")["ETag"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="t2")["UploadId"]
    s3.upload_part_copy(Bucket=bucket, Key="t2", UploadId=uid, PartNumber=1,
                        CopySource=f"{bucket}/s2", CopySourceIfMatch=etag)  # fmt: skip
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="t2", UploadId=uid, PartNumber=2,
                            CopySource=f"{bucket}/s2", CopySourceIfMatch='"nope"')  # fmt: skip
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
