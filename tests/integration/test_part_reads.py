"""Reading by part, GetObjectAttributes and storage classes against the real
gateway (issue 14): GET/HEAD ``?partNumber=N``, GetObjectAttributes with
its parts paged, and STANDARD / REDUCED_REDUNDANCY / STANDARD_IA stored
and shown by HEAD, GET, the listings and the aws CLI.  Every refusal is
checked for its code and status and for leaving the object as it was."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import AwsCli, make_client
from tests.support.gateway import GatewayProcess

MiB = 1024 * 1024
PARTS = [b"a" * 5 * MiB, b"b" * 5 * MiB, bytes(range(256)) * 4]  # 5, 5 MiB, 1 KiB
ALL_ATTRIBUTES = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
WRONG_OWNER = "111122223333"


def refused(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def composite_crc32(parts: list[bytes]) -> str:
    """S3's checksum of checksums for a CRC32 multipart upload (no -N)."""
    raw = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    return crc32(raw)


@contextmanager
def on_the_wire(
    s3: Any, operation: str, query: str = "", **headers: str
) -> Iterator[None]:
    """Put ``query`` and ``headers`` on ``operation``'s request as given
    (botocore would refuse or rewrite them); a header set to "" is removed."""

    def edit(request: Any, **_: Any) -> None:
        if query:
            sep = "&" if "?" in request.url else "?"
            request.url += sep + query
        for name, value in headers.items():
            if name in request.headers:
                del request.headers[name]
            if value:
                request.headers[name] = value

    s3.meta.events.register_first(f"before-sign.s3.{operation}", edit)
    try:
        yield
    finally:
        s3.meta.events.unregister(f"before-sign.s3.{operation}", edit)


@dataclass(frozen=True)
class Multipart:
    bucket: str
    key: str
    etag: str  # quoted, as HEAD gives it


@pytest.fixture(scope="module")
def mp(s3: Any) -> Multipart:
    """One 3-part object (5 MiB, 5 MiB, 1 KiB) with CRC32 checksums, shared
    by the read-only tests of this module."""
    bucket = f"p-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32")
    parts = []
    for number, data in enumerate(PARTS, 1):
        r = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=number,
            Body=data, ChecksumAlgorithm="CRC32",
        )  # fmt: skip
        assert r["ChecksumCRC32"] == crc32(data)
        parts.append(
            {
                "PartNumber": number,
                "ETag": r["ETag"],
                "ChecksumCRC32": r["ChecksumCRC32"],
            }
        )
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": parts},
    )  # fmt: skip
    assert done["ETag"].endswith('-3"')
    return Multipart(bucket, "mp", done["ETag"])


def spans() -> list[tuple[int, int]]:
    """(first, last) byte of each part."""
    out, start = [], 0
    for data in PARTS:
        out.append((start, start + len(data) - 1))
        start += len(data)
    return out


TOTAL = sum(len(p) for p in PARTS)


# ---------------------------------------------------------------- partNumber


def test_get_each_part_of_a_multipart_object(s3: Any, mp: Multipart) -> None:
    for number, (data, (first, last)) in enumerate(zip(PARTS, spans(), strict=True), 1):
        got = s3.get_object(Bucket=mp.bucket, Key=mp.key, PartNumber=number)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["Body"].read() == data, number
        assert got["ContentLength"] == len(data)
        assert got["ContentRange"] == f"bytes {first}-{last}/{TOTAL}"
        assert got["PartsCount"] == 3
        assert got["ETag"] == mp.etag  # the object's ETag, not the part's


def test_a_part_read_carries_the_parts_checksum(s3: Any, mp: Multipart) -> None:
    """With x-amz-checksum-mode: ENABLED a part's read has the part's own
    checksum, which botocore checks against the bytes it reads; a Range
    read has none (its bytes match no stored checksum)."""
    for number, data in enumerate(PARTS, 1):
        got = s3.get_object(
            Bucket=mp.bucket, Key=mp.key, PartNumber=number, ChecksumMode="ENABLED"
        )
        assert got["ChecksumCRC32"] == crc32(data), number
        assert got["Body"].read() == data
    ranged = s3.get_object(
        Bucket=mp.bucket, Key=mp.key, Range="bytes=0-9", ChecksumMode="ENABLED"
    )
    assert "ChecksumCRC32" not in ranged


def test_head_each_part_of_a_multipart_object(s3: Any, mp: Multipart) -> None:
    for number, (data, (first, last)) in enumerate(zip(PARTS, spans(), strict=True), 1):
        head = s3.head_object(Bucket=mp.bucket, Key=mp.key, PartNumber=number)
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert head["ContentLength"] == len(data)
        assert head["ContentRange"] == f"bytes {first}-{last}/{TOTAL}"
        assert head["PartsCount"] == 3
    # Without partNumber: the whole object, and no parts count.
    whole = s3.head_object(Bucket=mp.bucket, Key=mp.key)
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert whole["ContentLength"] == TOTAL
    assert "PartsCount" not in whole and "ContentRange" not in whole


def test_a_part_beyond_the_count_is_invalid_part_number(s3: Any, mp: Multipart) -> None:
    get = lambda: s3.get_object(Bucket=mp.bucket, Key=mp.key, PartNumber=4)  # noqa: E731
    assert refused(get) == ("InvalidPartNumber", 416)
    # A HEAD answer has no body: botocore names the error by its status.
    head = lambda: s3.head_object(Bucket=mp.bucket, Key=mp.key, PartNumber=4)  # noqa: E731
    assert refused(head) == ("416", 416)
    assert s3.head_object(Bucket=mp.bucket, Key=mp.key)["ContentLength"] == TOTAL


def test_part_number_with_a_range_is_invalid_request(s3: Any, mp: Multipart) -> None:
    get = lambda: s3.get_object(  # noqa: E731
        Bucket=mp.bucket, Key=mp.key, PartNumber=1, Range="bytes=0-9"
    )
    assert refused(get) == ("InvalidRequest", 400)
    head = lambda: s3.head_object(  # noqa: E731
        Bucket=mp.bucket, Key=mp.key, PartNumber=1, Range="bytes=0-9"
    )
    assert refused(head) == ("400", 400)


@pytest.mark.parametrize("value", ["0", "10001", "-1", "abc", "1.5", "%EF%BC%91"])
def test_a_bad_part_number_is_invalid_argument(
    s3: Any, bucket: str, value: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    with on_the_wire(s3, "GetObject", f"partNumber={value}"):
        assert refused(lambda: s3.get_object(Bucket=bucket, Key="k")) == (
            "InvalidArgument",
            400,
        )
    with on_the_wire(s3, "HeadObject", f"partNumber={value}"):
        assert refused(lambda: s3.head_object(Bucket=bucket, Key="k")) == ("400", 400)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_part_one_of_a_simple_object_is_the_whole_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello world")
    got = s3.get_object(Bucket=bucket, Key="k", PartNumber=1)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == b"hello world"
    assert got["ContentRange"] == "bytes 0-10/11"
    # Parts count only for an object uploaded in parts.
    assert "PartsCount" not in got
    head = s3.head_object(Bucket=bucket, Key="k", PartNumber=1)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == 11
    assert "PartsCount" not in head
    get2 = lambda: s3.get_object(Bucket=bucket, Key="k", PartNumber=2)  # noqa: E731
    assert refused(get2) == ("InvalidPartNumber", 416)


def test_a_whole_copy_keeps_the_parts(s3: Any, mp: Multipart) -> None:
    # The copy keeps the "-3" ETag, so its parts must be readable as parts;
    # so must the source's after a self-copy that changes only its class.
    s3.copy_object(Bucket=mp.bucket, Key="copy", CopySource=f"{mp.bucket}/{mp.key}")
    s3.copy_object(
        Bucket=mp.bucket, Key="copy", CopySource=f"{mp.bucket}/copy",
        StorageClass="REDUCED_REDUNDANCY",
    )  # fmt: skip
    for number, data in enumerate(PARTS, 1):
        got = s3.get_object(Bucket=mp.bucket, Key="copy", PartNumber=number)
        assert got["Body"].read() == data, number
        assert (got["ETag"], got["PartsCount"]) == (mp.etag, 3)
        assert got["StorageClass"] == "REDUCED_REDUNDANCY"
    attrs = s3.get_object_attributes(
        Bucket=mp.bucket, Key="copy", ObjectAttributes=["ObjectParts"]
    )
    sizes = [(p["PartNumber"], p["Size"]) for p in attrs["ObjectParts"]["Parts"]]
    assert sizes == [(n, len(d)) for n, d in enumerate(PARTS, 1)]
    s3.delete_object(Bucket=mp.bucket, Key="copy")


def test_part_number_reads_check_the_expected_owner(s3: Any, mp: Multipart) -> None:
    get = lambda: s3.get_object(  # noqa: E731
        Bucket=mp.bucket, Key=mp.key, PartNumber=2, ExpectedBucketOwner=WRONG_OWNER
    )
    assert refused(get) == ("AccessDenied", 403)
    head = lambda: s3.head_object(  # noqa: E731
        Bucket=mp.bucket, Key=mp.key, PartNumber=2, ExpectedBucketOwner=WRONG_OWNER
    )
    assert refused(head) == ("403", 403)


# ------------------------------------------------------- GetObjectAttributes


def test_object_attributes_of_a_multipart_object_paged(s3: Any, mp: Multipart) -> None:
    first = s3.get_object_attributes(
        Bucket=mp.bucket, Key=mp.key, ObjectAttributes=ALL_ATTRIBUTES, MaxParts=2
    )
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    head = s3.head_object(Bucket=mp.bucket, Key=mp.key)
    assert first["LastModified"] == head["LastModified"]
    assert first["ETag"] == mp.etag.strip('"')  # unquoted, as S3 sends it
    assert first["ObjectSize"] == TOTAL
    assert first["StorageClass"] == "STANDARD"
    checksum = first["Checksum"]
    assert checksum["ChecksumType"] == "COMPOSITE"
    assert checksum["ChecksumCRC32"].split("-")[0] == composite_crc32(PARTS)
    page = first["ObjectParts"]
    assert page["TotalPartsCount"] == 3
    assert page["MaxParts"] == 2
    assert page["IsTruncated"] is True
    assert page["PartNumberMarker"] == 0
    assert page["NextPartNumberMarker"] == 2
    assert page["Parts"] == [
        {"PartNumber": 1, "Size": 5 * MiB, "ChecksumCRC32": crc32(PARTS[0])},
        {"PartNumber": 2, "Size": 5 * MiB, "ChecksumCRC32": crc32(PARTS[1])},
    ]
    second = s3.get_object_attributes(
        Bucket=mp.bucket, Key=mp.key, ObjectAttributes=["ObjectParts"],
        MaxParts=2, PartNumberMarker=page["NextPartNumberMarker"],
    )  # fmt: skip
    page = second["ObjectParts"]
    assert page["IsTruncated"] is False
    assert page["PartNumberMarker"] == 2
    assert "NextPartNumberMarker" not in page
    assert page["TotalPartsCount"] == 3
    assert page["Parts"] == [
        {"PartNumber": 3, "Size": 1024, "ChecksumCRC32": crc32(PARTS[2])}
    ]
    # Only what was asked for is answered.
    for attribute in ("ETag", "Checksum", "StorageClass", "ObjectSize"):
        assert attribute not in second
    # Past the last part: no parts, not truncated.
    past = s3.get_object_attributes(
        Bucket=mp.bucket, Key=mp.key, ObjectAttributes=["ObjectParts"],
        PartNumberMarker=3,
    )  # fmt: skip
    assert past["ObjectParts"]["TotalPartsCount"] == 3
    assert past["ObjectParts"].get("Parts", []) == []
    assert past["ObjectParts"]["IsTruncated"] is False


def test_object_attributes_one_part_per_page(s3: Any, mp: Multipart) -> None:
    seen, marker = [], 0
    for _ in range(4):
        got = s3.get_object_attributes(
            Bucket=mp.bucket, Key=mp.key, ObjectAttributes=["ObjectParts"],
            MaxParts=1, PartNumberMarker=marker,
        )["ObjectParts"]  # fmt: skip
        seen += [(p["PartNumber"], p["Size"]) for p in got.get("Parts", [])]
        if not got["IsTruncated"]:
            break
        marker = got["NextPartNumberMarker"]
    assert seen == [(1, 5 * MiB), (2, 5 * MiB), (3, 1024)]


def test_object_attributes_of_a_simple_object(s3: Any, bucket: str) -> None:
    put = s3.put_object(
        Bucket=bucket, Key="k", Body=b"simple", ChecksumAlgorithm="CRC32",
        StorageClass="REDUCED_REDUNDANCY",
    )  # fmt: skip
    got = s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=ALL_ATTRIBUTES
    )
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["ObjectSize"] == 6
    assert got["StorageClass"] == "REDUCED_REDUNDANCY"
    assert got["Checksum"] == {
        "ChecksumCRC32": crc32(b"simple"),
        "ChecksumType": "FULL_OBJECT",
    }
    assert "ObjectParts" not in got  # not uploaded in parts
    just_size = s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"]
    )
    assert just_size["ObjectSize"] == 6
    for attribute in ("ETag", "Checksum", "StorageClass", "ObjectParts"):
        assert attribute not in just_size


def test_object_attributes_without_a_stored_checksum(
    gateway: GatewayProcess, bucket: str
) -> None:
    plain = make_client(gateway.endpoint, request_checksum_calculation="when_required")
    plain.put_object(Bucket=bucket, Key="k", Body=b"no checksum")  # type: ignore[attr-defined]
    got = plain.get_object_attributes(  # type: ignore[attr-defined]
        Bucket=bucket, Key="k", ObjectAttributes=["Checksum", "ObjectSize"]
    )
    assert got["ObjectSize"] == 11
    assert "Checksum" not in got


def test_object_attributes_errors(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    attrs = lambda **kw: s3.get_object_attributes(  # noqa: E731
        **{"Bucket": bucket, "Key": "k", "ObjectAttributes": ["ETag"], **kw}
    )
    assert refused(lambda: attrs(Key="absent")) == ("NoSuchKey", 404)
    assert refused(lambda: attrs(Bucket="no-such-bucket-attrs")) == (
        "NoSuchBucket",
        404,
    )
    assert refused(lambda: attrs(ObjectAttributes=["Bogus"])) == (
        "InvalidArgument",
        400,
    )
    assert refused(lambda: attrs(ObjectAttributes=["ETag", "etag"])) == (
        "InvalidArgument",
        400,
    )
    assert refused(lambda: attrs(ExpectedBucketOwner=WRONG_OWNER)) == (
        "AccessDenied",
        403,
    )
    assert refused(lambda: attrs(VersionId="3HL4kqtJlcpXroDTDmJ")) == (
        "InvalidArgument",
        400,
    )
    with on_the_wire(s3, "GetObjectAttributes", **{"x-amz-object-attributes": ""}):
        assert refused(attrs) == ("InvalidRequest", 400)
    for header, value in [
        ("x-amz-max-parts", "two"),
        ("x-amz-max-parts", "-1"),
        ("x-amz-part-number-marker", "x"),
    ]:
        with on_the_wire(s3, "GetObjectAttributes", **{header: value}):
            assert refused(attrs) == ("InvalidArgument", 400), (header, value)
    assert attrs(VersionId="null")["ETag"] == hashlib.md5(b"x").hexdigest()


# ------------------------------------------------------------ storage class


def listed_class(s3: Any, bucket: str, key: str) -> dict[str, str]:
    """The class each listing shows for ``key``."""
    v2 = s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]
    v1 = s3.list_objects(Bucket=bucket, Prefix=key)["Contents"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    return {
        "v2": next(o["StorageClass"] for o in v2 if o["Key"] == key),
        "v1": next(o["StorageClass"] for o in v1 if o["Key"] == key),
        "versions": next(o["StorageClass"] for o in versions if o["Key"] == key),
    }


def shown_class(s3: Any, bucket: str, key: str) -> str | None:
    """The class HEAD gives (None: no header, i.e. STANDARD); GET and
    GetObjectAttributes must agree with it."""
    head = s3.head_object(Bucket=bucket, Key=key)
    got = s3.get_object(Bucket=bucket, Key=key)
    got["Body"].read()
    assert got.get("StorageClass") == head.get("StorageClass")
    attrs = s3.get_object_attributes(
        Bucket=bucket, Key=key, ObjectAttributes=["StorageClass"]
    )
    assert attrs["StorageClass"] == (head.get("StorageClass") or "STANDARD")
    shown: str | None = head.get("StorageClass")
    return shown


@pytest.mark.parametrize(
    ("storage_class", "header"),
    [
        ("STANDARD", None),
        ("REDUCED_REDUNDANCY", "REDUCED_REDUNDANCY"),
        ("STANDARD_IA", "STANDARD_IA"),
    ],
)
def test_each_storage_class_is_stored_and_shown(
    s3: Any, bucket: str, storage_class: str, header: str | None
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"classy", StorageClass=storage_class)
    assert shown_class(s3, bucket, "k") == header
    head = s3.head_object(Bucket=bucket, Key="k")
    # S3 sends x-amz-storage-class for every class but STANDARD.
    assert ("x-amz-storage-class" in head["ResponseMetadata"]["HTTPHeaders"]) == (
        header is not None
    )
    expected = dict.fromkeys(("v2", "v1", "versions"), storage_class)
    assert listed_class(s3, bucket, "k") == expected
    # No class given: STANDARD, even over a key of another class.
    s3.put_object(Bucket=bucket, Key="k", Body=b"plain")
    assert shown_class(s3, bucket, "k") is None
    assert listed_class(s3, bucket, "k")["v2"] == "STANDARD"


BAD_CLASSES = [
    "GLACIER",
    "DEEP_ARCHIVE",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "EXPRESS_ONEZONE",
    "reduced_redundancy",
    "BOGUS",
]


@pytest.mark.parametrize("storage_class", BAD_CLASSES)
def test_other_storage_classes_are_refused_and_change_nothing(
    s3: Any, bucket: str, storage_class: str
) -> None:
    s3.put_object(
        Bucket=bucket, Key="k", Body=b"original", StorageClass="REDUCED_REDUNDANCY"
    )
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    put = lambda: s3.put_object(  # noqa: E731
        Bucket=bucket, Key="k", Body=b"replaced", StorageClass=storage_class
    )
    assert refused(put) == ("InvalidStorageClass", 400)
    put_new = lambda: s3.put_object(  # noqa: E731
        Bucket=bucket, Key="new", Body=b"x", StorageClass=storage_class
    )
    assert refused(put_new) == ("InvalidStorageClass", 400)
    create = lambda: s3.create_multipart_upload(  # noqa: E731
        Bucket=bucket, Key="mp", StorageClass=storage_class
    )
    assert refused(create) == ("InvalidStorageClass", 400)
    for key in ("k", "copy"):
        copy = lambda k=key: s3.copy_object(  # noqa: E731
            Bucket=bucket, Key=k, CopySource=f"{bucket}/k", StorageClass=storage_class
        )
        assert refused(copy) == ("InvalidStorageClass", 400)
    # The object, its class, no new key and no upload.
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"original"
    assert (got["ETag"], got["StorageClass"]) == (etag, "REDUCED_REDUNDANCY")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_multipart_uploads_keep_their_storage_class(s3: Any, bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="STANDARD_IA")
    uid = up["UploadId"]
    plain = s3.create_multipart_upload(Bucket=bucket, Key="plain")
    uploads = {
        u["Key"]: u["StorageClass"]
        for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    }
    assert uploads == {"mp": "STANDARD_IA", "plain": "STANDARD"}
    etags = [
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=data)[
            "ETag"
        ]
        for n, data in ((1, b"p" * 5 * MiB), (2, b"q"))
    ]
    listing = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert listing["StorageClass"] == "STANDARD_IA"
    assert (
        s3.list_parts(Bucket=bucket, Key="plain", UploadId=plain["UploadId"])[
            "StorageClass"
        ]
        == "STANDARD"
    )
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid,
        MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]
        },
    )  # fmt: skip
    assert shown_class(s3, bucket, "mp") == "STANDARD_IA"
    assert listed_class(s3, bucket, "mp") == dict.fromkeys(
        ("v2", "v1", "versions"), "STANDARD_IA"
    )
    part = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert part["Body"].read() == b"q"
    assert (part["StorageClass"], part["PartsCount"]) == ("STANDARD_IA", 2)
    s3.abort_multipart_upload(Bucket=bucket, Key="plain", UploadId=plain["UploadId"])


def test_copy_storage_class(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"source", StorageClass="REDUCED_REDUNDANCY",
        Tagging="t=1",
    )  # fmt: skip
    src = f"{bucket}/src"
    # Without x-amz-storage-class the copy is STANDARD, as on AWS.
    s3.copy_object(Bucket=bucket, Key="c1", CopySource=src)
    assert shown_class(s3, bucket, "c1") is None
    assert listed_class(s3, bucket, "c1")["v2"] == "STANDARD"
    s3.copy_object(Bucket=bucket, Key="c2", CopySource=src, StorageClass="STANDARD_IA")
    assert shown_class(s3, bucket, "c2") == "STANDARD_IA"
    assert s3.get_object(Bucket=bucket, Key="c2")["Body"].read() == b"source"
    # The source is as it was.
    assert shown_class(s3, bucket, "src") == "REDUCED_REDUNDANCY"


def test_a_self_copy_may_change_only_the_storage_class(s3: Any, bucket: str) -> None:
    put = s3.put_object(
        Bucket=bucket, Key="k", Body=b"same bytes", Tagging="t=1",
        Metadata={"m": "v"}, ContentType="text/plain",
    )  # fmt: skip
    self_copy = lambda **kw: s3.copy_object(  # noqa: E731
        Bucket=bucket, Key="k", CopySource=f"{bucket}/k", **kw
    )
    # Changing nothing is refused, and changes nothing.
    assert refused(self_copy) == ("InvalidRequest", 400)
    assert shown_class(s3, bucket, "k") is None
    self_copy(StorageClass="STANDARD_IA")
    assert shown_class(s3, bucket, "k") == "STANDARD_IA"
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"same bytes"
    assert got["ETag"] == put["ETag"]
    assert (got["Metadata"], got["ContentType"]) == ({"m": "v"}, "text/plain")
    tags = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert tags == [{"Key": "t", "Value": "1"}]
    self_copy(StorageClass="STANDARD")
    assert shown_class(s3, bucket, "k") is None
    assert listed_class(s3, bucket, "k")["v2"] == "STANDARD"


def test_aws_cli_storage_class(aws: AwsCli, bucket: str, tmp_path: Any) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"cli bytes")
    aws(
        "s3", "cp", str(src), f"s3://{bucket}/rr.bin",
        "--storage-class", "REDUCED_REDUNDANCY",
    )  # fmt: skip
    aws("s3", "cp", str(src), f"s3://{bucket}/std.bin")
    head = json.loads(
        aws("s3api", "head-object", "--bucket", bucket, "--key", "rr.bin").stdout
    )
    assert head["StorageClass"] == "REDUCED_REDUNDANCY"
    assert head["ContentLength"] == 9
    head = json.loads(
        aws("s3api", "head-object", "--bucket", bucket, "--key", "std.bin").stdout
    )
    assert "StorageClass" not in head
    listing = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket).stdout)
    assert {o["Key"]: o["StorageClass"] for o in listing["Contents"]} == {
        "rr.bin": "REDUCED_REDUNDANCY",
        "std.bin": "STANDARD",
    }
    # A refused class: non-zero exit, S3's code, no object.
    bad = aws(
        "s3", "cp", str(src), f"s3://{bucket}/glacier.bin",
        "--storage-class", "GLACIER", check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "InvalidStorageClass" in bad.stderr, bad.stderr
    listing = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket).stdout)
    assert sorted(o["Key"] for o in listing["Contents"]) == ["rr.bin", "std.bin"]
    # GetObjectAttributes through the CLI.
    out = aws(
        "s3api", "get-object-attributes", "--bucket", bucket, "--key", "rr.bin",
        "--object-attributes", "StorageClass", "ObjectSize",
    )  # fmt: skip
    attrs = json.loads(out.stdout)
    assert (attrs["StorageClass"], attrs["ObjectSize"]) == ("REDUCED_REDUNDANCY", 9)
