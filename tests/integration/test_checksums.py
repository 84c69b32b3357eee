"""S3 additional checksums (x-amz-checksum-*): verified, stored, returned."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import zlib

import pytest
from botocore.exceptions import ClientError

MiB = 1024 * 1024
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_object_checksum_stored_and_returned(s3, bucket, algorithm) -> None:
    """boto3 sends x-amz-checksum-<alg>; HEAD/GET with ChecksumMode return it."""
    body = os.urandom(100_000)
    put = s3.put_object(Bucket=bucket, Key="c", Body=body, ChecksumAlgorithm=algorithm)
    field = f"Checksum{algorithm}"
    assert put[field]
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[field] == put[field]
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got["Body"].read() == body and got[field] == put[field]
    if algorithm == "SHA256":
        assert put[field] == _b64(hashlib.sha256(body).digest())
    if algorithm == "CRC32":
        assert put[field] == _b64(zlib.crc32(body).to_bytes(4, "big"))
    plain = s3.head_object(Bucket=bucket, Key="c")
    assert field not in plain  # only when asked for


def _put_raw(gw, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    conn.request("PUT", path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def test_wrong_checksum_header_is_bad_digest(gateway, s3, bucket) -> None:
    """A mismatching x-amz-checksum-crc32 is BadDigest; the old object stays."""
    s3.put_object(Bucket=bucket, Key="w", Body=b"old")
    wrong = _b64(zlib.crc32(b"other").to_bytes(4, "big"))
    status, body = _put_raw(gateway, f"/{bucket}/w", b"x" * 300_000,
                            {"x-amz-checksum-crc32": wrong})  # fmt: skip
    assert status == 400 and b"<Code>BadDigest</Code>" in body
    assert s3.get_object(Bucket=bucket, Key="w")["Body"].read() == b"old"


def test_malformed_checksum_header_is_refused_before_body(gateway, bucket) -> None:
    """A checksum value of the wrong length is InvalidRequest."""
    status, body = _put_raw(gateway, f"/{bucket}/m", b"x" * 10,
                            {"x-amz-checksum-sha256": "AAAA"})  # fmt: skip
    assert status == 400 and b"<Code>InvalidRequest</Code>" in body


def _aws_chunked(body: bytes, trailer: bytes) -> bytes:
    out = b""
    for i in range(0, len(body), 65536):
        piece = body[i : i + 65536]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n" + trailer + b"\r\n\r\n"


@pytest.mark.parametrize("good", [True, False])
def test_trailer_checksum_verified(gateway, s3, bucket, good) -> None:
    """A CRC64NVME trailer (pyarrow's form) is verified: a wrong one stores
    nothing, a right one is kept and returned."""
    from awscrt import checksums as crt

    body = os.urandom(500_001)
    crc = crt.crc64nvme(body if good else body + b"!").to_bytes(8, "big")
    framed = _aws_chunked(body, b"x-amz-checksum-crc64nvme:" + _b64(crc).encode())
    status, resp = _put_raw(gateway, f"/{bucket}/t", framed, {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(body)),
        "x-amz-trailer": "x-amz-checksum-crc64nvme",
    })  # fmt: skip
    if good:
        assert status == 200, resp
        head = s3.head_object(Bucket=bucket, Key="t", ChecksumMode="ENABLED")
        assert head["ChecksumCRC64NVME"] == _b64(crc)
    else:
        assert status == 400 and b"BadDigest" in resp
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key="t")


def test_multipart_checksums_in_list_parts_and_complete(s3, bucket) -> None:
    """Parts uploaded with CRC32 report it in ListParts; Complete reports the
    composite value (checksum of the part checksums, then -N)."""
    uid = s3.create_multipart_upload(
        Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32"
    )["UploadId"]
    bodies = [os.urandom(5 * MiB), os.urandom(1234)]
    parts = []
    for n, b in enumerate(bodies, 1):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=b,
                           ChecksumAlgorithm="CRC32")  # fmt: skip
        assert r["ChecksumCRC32"] == _b64(zlib.crc32(b).to_bytes(4, "big"))
        parts.append(
            {"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]}
        )
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    assert [p["ChecksumCRC32"] for p in listed] == [p["ChecksumCRC32"] for p in parts]
    out = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                       MultipartUpload={"Parts": parts})  # fmt: skip
    joined = b"".join(zlib.crc32(b).to_bytes(4, "big") for b in bodies)
    assert out["ChecksumCRC32"] == f"{_b64(zlib.crc32(joined).to_bytes(4, 'big'))}-2"
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == out["ChecksumCRC32"]
