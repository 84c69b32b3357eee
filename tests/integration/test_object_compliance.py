"""Object operations, driven by boto3 against the real gateway."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

KEYS = [
    "plain",
    "a//double//slash",
    "trailing/",
    "/leading-slash",
    "with space",
    "plus+sign",
    "percent%20literal",
    "ünïcødé/日本語/🚀",
    "tilde~and*star'quote\"",
    "q?mark&amp=eq#hash",
    "x" * 1024,
]


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.mark.parametrize("key", KEYS)
def test_put_object_key_round_trips(s3, bucket, key: str) -> None:
    """Keys with //, trailing /, spaces, +, %, unicode and 1024 bytes round-trip."""
    body = os.urandom(100)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [c["Key"] for c in listed] == [key]
    listed_v1 = s3.list_objects(Bucket=bucket)["Contents"]
    assert [c["Key"] for c in listed_v1] == [key]


def test_put_object_key_too_long_is_refused(s3, bucket) -> None:
    """A 1025-byte key gets KeyTooLongError."""
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert _code(e) == "KeyTooLongError"


def test_put_object_etag_is_quoted_md5(s3, bucket) -> None:
    """The ETag of a single PUT is the quoted hex MD5 of the body."""
    body = os.urandom(123_457)
    etag = s3.put_object(Bucket=bucket, Key="e", Body=body)["ETag"]
    assert etag == f'"{hashlib.md5(body).hexdigest()}"'
    assert s3.head_object(Bucket=bucket, Key="e")["ETag"] == etag


def test_put_object_metadata_and_headers_round_trip(s3, bucket) -> None:
    """x-amz-meta-*, Content-Type and the representation headers come back."""
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    s3.put_object(
        Bucket=bucket, Key="m", Body=b"hello",
        Metadata={"color": "blue", "mtime": "1700000000"},
        ContentType="text/plain; charset=utf-8", CacheControl="max-age=60",
        ContentDisposition='attachment; filename="h.txt"', ContentEncoding="gzip",
        ContentLanguage="en", Expires=expires,
    )  # fmt: skip
    for r in (s3.head_object(Bucket=bucket, Key="m"),
              s3.get_object(Bucket=bucket, Key="m")):  # fmt: skip
        assert r["Metadata"] == {"color": "blue", "mtime": "1700000000"}
        assert r["ContentType"] == "text/plain; charset=utf-8"
        assert r["CacheControl"] == "max-age=60"
        assert r["ContentDisposition"] == 'attachment; filename="h.txt"'
        assert r["ContentEncoding"] == "gzip"
        assert r["ContentLanguage"] == "en"
        assert r["ContentLength"] == 5
        assert r["ResponseMetadata"]["HTTPHeaders"]["expires"].startswith(
            "Wed, 02 Jan 2030"
        )


def test_put_object_default_content_type(s3, bucket) -> None:
    """Without a Content-Type the object is binary/octet-stream, as in S3."""
    s3.put_object(Bucket=bucket, Key="ct", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="ct")["ContentType"] in (
        "binary/octet-stream",
    )


def test_put_object_bad_content_md5_keeps_old_object(s3, bucket) -> None:
    """A wrong Content-MD5 is BadDigest and the earlier object stays intact."""
    s3.put_object(Bucket=bucket, Key="d", Body=b"original")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="d", Body=b"changed!", ContentMD5=wrong)
    assert _code(e) == "BadDigest"
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"original"


def test_put_object_malformed_content_md5_is_invalid_digest(s3, bucket) -> None:
    """A Content-MD5 that is not 16 base64 bytes is InvalidDigest; nothing stored."""
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="dd", Body=b"x", ContentMD5="notbase64!")
    assert _code(e) == "InvalidDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dd")


def test_put_object_good_content_md5_is_accepted(s3, bucket) -> None:
    """A correct Content-MD5 is accepted."""
    body = os.urandom(5000)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="g", Body=body, ContentMD5=md5)
    assert s3.get_object(Bucket=bucket, Key="g")["Body"].read() == body


def test_put_object_overwrite_replaces(s3, bucket) -> None:
    """A second PUT atomically replaces the first."""
    s3.put_object(Bucket=bucket, Key="o", Body=b"one")
    s3.put_object(Bucket=bucket, Key="o", Body=b"two-two")
    r = s3.get_object(Bucket=bucket, Key="o")
    assert r["Body"].read() == b"two-two"
    assert r["ContentLength"] == 7


def test_put_object_empty_body(s3, bucket) -> None:
    """A zero-byte object stores and reads back empty."""
    etag = s3.put_object(Bucket=bucket, Key="empty", Body=b"")["ETag"]
    assert etag == '"d41d8cd98f00b204e9800998ecf8427e"'
    r = s3.get_object(Bucket=bucket, Key="empty")
    assert r["Body"].read() == b"" and r["ContentLength"] == 0


def test_put_object_missing_bucket(s3) -> None:
    """PutObject into a missing bucket is NoSuchBucket."""
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="no-such-bucket-p", Key="k", Body=b"x" * 200_000)
    assert _code(e) == "NoSuchBucket"


def test_get_object_missing_key(s3, bucket) -> None:
    """GetObject of a missing key is NoSuchKey with the key named."""
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope")
    assert _code(e) == "NoSuchKey"
    assert e.value.response["Error"]["Key"] == "nope"
    assert e.value.response["ResponseMetadata"]["RequestId"]


def test_head_object_missing_key_is_404(s3, bucket) -> None:
    """HeadObject of a missing key is a 404."""
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nope")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [("bytes=0-9", 0, 9), ("bytes=10-", 10, 999), ("bytes=-5", 995, 999),
     ("bytes=990-5000", 990, 999), ("bytes=0-0", 0, 0)],
)  # fmt: skip
def test_get_object_range(s3, bucket, spec: str, start: int, end: int) -> None:
    """Single ranges answer 206 with Content-Range and exactly those bytes."""
    body = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    r = s3.get_object(Bucket=bucket, Key="r", Range=spec)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == f"bytes {start}-{end}/1000"
    assert r["Body"].read() == body[start : end + 1]


def test_get_object_unsatisfiable_range_is_416(s3, bucket) -> None:
    """A range starting past the end is 416 InvalidRange."""
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert _code(e) == "InvalidRange"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_get_object_conditionals(s3, bucket) -> None:
    """If-Match/If-None-Match/If-(Un)Modified-Since give 412/304 as in S3."""
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v")["ETag"]
    head = s3.head_object(Bucket=bucket, Key="c")
    modified = head["LastModified"]
    before = modified - datetime.timedelta(days=1)
    after = modified + datetime.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v"

    def status(**kw: object) -> int:
        try:
            return int(s3.get_object(Bucket=bucket, Key="c", **kw)
                       ["ResponseMetadata"]["HTTPStatusCode"])  # fmt: skip
        except ClientError as e:
            return int(e.response["ResponseMetadata"]["HTTPStatusCode"])

    assert status(IfMatch='"0000"') == 412
    assert status(IfNoneMatch=etag) == 304
    assert status(IfNoneMatch='"0000"') == 200
    assert status(IfModifiedSince=modified) == 304
    assert status(IfModifiedSince=before) == 200
    # A date still to come is ignored (RFC 2616, S3): nothing was modified
    # after it.
    assert status(IfModifiedSince=after) == 200
    assert status(IfUnmodifiedSince=before) == 412
    assert status(IfUnmodifiedSince=after) == 200
    # If-Match that holds wins over a failing If-Unmodified-Since (RFC 9110).
    assert status(IfMatch=etag, IfUnmodifiedSince=before) == 200
    # If-None-Match that fails to match wins over If-Modified-Since.
    assert status(IfNoneMatch='"0000"', IfModifiedSince=modified) == 200


def test_head_object_conditionals(s3, bucket) -> None:
    """HeadObject honours the same conditionals, with no body."""
    etag = s3.put_object(Bucket=bucket, Key="hc", Body=b"v")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="hc", IfMatch='"nope"')
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="hc", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_get_object_response_overrides(s3, bucket) -> None:
    """response-content-type and friends override the stored headers."""
    s3.put_object(Bucket=bucket, Key="ov", Body=b"x", ContentType="text/plain")
    r = s3.get_object(
        Bucket=bucket, Key="ov", ResponseContentType="application/json",
        ResponseContentDisposition="inline",
    )  # fmt: skip
    assert r["ContentType"] == "application/json"
    assert r["ContentDisposition"] == "inline"


def test_get_object_version_null_and_bogus(s3, bucket) -> None:
    """versionId=null reads the object; any other version id is refused."""
    s3.put_object(Bucket=bucket, Key="v", Body=b"x")
    assert (
        s3.get_object(Bucket=bucket, Key="v", VersionId="null")["Body"].read() == b"x"
    )
    with pytest.raises(ClientError) as e:
        s3.get_object(
            Bucket=bucket, Key="v", VersionId="3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
        )
    assert _code(e) == "InvalidArgument"


def test_delete_object_then_missing(s3, bucket) -> None:
    """DeleteObject removes the key; deleting again still succeeds (204)."""
    s3.put_object(Bucket=bucket, Key="del", Body=b"x")
    r = s3.delete_object(Bucket=bucket, Key="del")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="del")
    assert (
        s3.delete_object(Bucket=bucket, Key="del")["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )


def test_put_object_streaming_body_of_unknown_type(s3, bucket) -> None:
    """A file-like body (upload_fileobj path) of a few MiB is stored exactly."""
    import io

    body = os.urandom(7 * 1024 * 1024 + 3)
    s3.upload_fileobj(io.BytesIO(body), bucket, "fileobj")
    got = s3.get_object(Bucket=bucket, Key="fileobj")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
