"""Security on, real clients: boto3 signing with SigV2 (the aws CLI v1 on
this botocore signs requests with SigV4 whatever its s3 signature_version
says, and presigns with SigV2: test_security covers that); presigned PUTs
that send x-amz-content-sha256 unsigned (as Ozone's own acceptance suite
does with curl); CreateMultipartUpload's checksum echo."""

from __future__ import annotations

import hashlib
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import REACTORS
from tests.integration.test_security import client, getsecret, secure_gateway
from tests.support.gateway import GatewayProcess


@pytest.fixture(scope="module", params=REACTORS)
def secure(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "secc", request.param)


@pytest.fixture(scope="module")
def secret(secure: GatewayProcess) -> str:
    return getsecret(secure.data_dir, "carol")


@pytest.fixture(scope="module")
def carol(secure, secret):  # type: ignore[no-untyped-def]
    c = client(secure, "carol", secret)
    c.create_bucket(Bucket="carol-ck")
    return c


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def test_boto3_sigv2_bucket_level_operations(secure, secret) -> None:
    """boto3 with signature_version='s3' (botocore signs /bucket/ for the
    path /bucket): create, head, list, ListMultipartUploads, DeleteObjects,
    delete bucket, and a presigned V2 listing, all with security on."""
    v2 = client(secure, "carol", secret, signature_version="s3")
    v2.create_bucket(Bucket="v2-bkt")
    v2.head_bucket(Bucket="v2-bkt")
    v2.put_object(Bucket="v2-bkt", Key="a/b", Body=b"v2")
    assert [o["Key"] for o in v2.list_objects(Bucket="v2-bkt")["Contents"]] == ["a/b"]
    assert v2.list_objects_v2(Bucket="v2-bkt", Prefix="a/")["KeyCount"] == 1
    uid = v2.create_multipart_upload(Bucket="v2-bkt", Key="mp")["UploadId"]
    uploads = v2.list_multipart_uploads(Bucket="v2-bkt")["Uploads"]
    assert [u["UploadId"] for u in uploads] == [uid]
    v2.abort_multipart_upload(Bucket="v2-bkt", Key="mp", UploadId=uid)
    url = v2.generate_presigned_url("list_objects", Params={"Bucket": "v2-bkt"})
    assert "AWSAccessKeyId=" in url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200 and b"<Key>a/b</Key>" in r.read()
    deleted = v2.delete_objects(Bucket="v2-bkt", Delete={"Objects": [{"Key": "a/b"}]})
    assert [d["Key"] for d in deleted["Deleted"]] == ["a/b"]
    v2.delete_bucket(Bucket="v2-bkt")
    with pytest.raises(ClientError) as e:
        v2.head_bucket(Bucket="v2-bkt")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    wrong = client(secure, "carol", "not-the-secret", signature_version="s3")
    with pytest.raises(ClientError) as e:
        wrong.list_objects(Bucket="v2-bkt")
    assert _code(e) == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("algorithm", "kind", "echoed"),
    [
        ("SHA256", None, "COMPOSITE"),
        ("SHA1", None, "COMPOSITE"),
        ("CRC32", None, "COMPOSITE"),
        ("CRC32C", "FULL_OBJECT", "FULL_OBJECT"),
        ("CRC64NVME", None, "FULL_OBJECT"),
    ],
)
def test_create_multipart_upload_echoes_checksum_algorithm_and_type(
    carol, algorithm, kind, echoed
) -> None:
    """CreateMultipartUpload answers x-amz-checksum-algorithm and
    x-amz-checksum-type as S3 does (its default type per algorithm)."""
    c = carol
    extra: dict[str, Any] = {"ChecksumType": kind} if kind else {}
    r = c.create_multipart_upload(Bucket="carol-ck", Key="k", ChecksumAlgorithm=algorithm,
                                  **extra)  # fmt: skip
    assert (r["ChecksumAlgorithm"], r["ChecksumType"]) == (algorithm, echoed)
    c.abort_multipart_upload(Bucket="carol-ck", Key="k", UploadId=r["UploadId"])


def test_create_multipart_upload_refuses_impossible_checksum_types(carol) -> None:
    """SHA-1 has no FULL_OBJECT type and CRC-64/NVME no COMPOSITE one; a type
    without an algorithm is refused too; without either, nothing is echoed."""
    c = carol
    for algorithm, kind in (("SHA1", "FULL_OBJECT"), ("CRC64NVME", "COMPOSITE")):
        with pytest.raises(ClientError) as e:
            c.create_multipart_upload(Bucket="carol-ck", Key="k", ChecksumAlgorithm=algorithm,
                                      ChecksumType=kind)  # fmt: skip
        assert _code(e) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        c.create_multipart_upload(Bucket="carol-ck", Key="k", ChecksumType="COMPOSITE")
    assert _code(e) == "InvalidRequest"
    plain = c.create_multipart_upload(Bucket="carol-ck", Key="k")
    assert "ChecksumAlgorithm" not in plain and "ChecksumType" not in plain
    c.abort_multipart_upload(Bucket="carol-ck", Key="k", UploadId=plain["UploadId"])
    assert c.list_multipart_uploads(Bucket="carol-ck").get("Uploads", []) == []


def _curl_put(url: str, path: str, *headers: str) -> tuple[int, bytes]:
    args = [
        "curl",
        "-s",
        "-X",
        "PUT",
        "--data-binary",
        f"@{path}",
        "-w",
        "\n%{http_code}",
    ]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run([*args, url], capture_output=True, timeout=60).stdout
    body, _, status = out.rpartition(b"\n")
    return int(status), body


def test_presigned_put_with_unsigned_content_sha256(secure, secret, tmp_path) -> None:
    """A SigV4 presigned PUT that also sends x-amz-content-sha256 (unsigned,
    as Ozone's acceptance suite does with curl) is stored when the body
    matches it and refused with XAmzContentSHA256Mismatch when not; other
    unsigned x-amz-* headers are still HeadersNotSigned."""
    c = client(secure, "carol", secret, signature_version="s3v4")
    c.create_bucket(Bucket="carol-pre")
    data = os.urandom(300_000)
    src = tmp_path / "body"
    src.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()

    def url() -> str:
        return str(c.generate_presigned_url("put_object", ExpiresIn=300,
                                            Params={"Bucket": "carol-pre", "Key": "k"}))  # fmt: skip

    status, body = _curl_put(url(), str(src), f"x-amz-content-sha256: {sha}")
    assert status == 200, body
    assert c.get_object(Bucket="carol-pre", Key="k")["Body"].read() == data
    other = tmp_path / "other"
    other.write_bytes(b"not what was hashed")
    status, body = _curl_put(url(), str(other), f"x-amz-content-sha256: {sha}")
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body, body
    assert c.get_object(Bucket="carol-pre", Key="k")["Body"].read() == data
    status, body = _curl_put(
        url(), str(other), "x-amz-content-sha256: UNSIGNED-PAYLOAD"
    )
    assert status == 200, body
    assert (
        c.get_object(Bucket="carol-pre", Key="k")["Body"].read()
        == b"not what was hashed"
    )
    status, body = _curl_put(url(), str(src), "x-amz-meta-smuggled: 1")
    assert status == 403 and b"HeadersNotSigned" in body, body
