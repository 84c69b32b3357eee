"""Multipart uploads, driven by boto3 (and raw XML where clients differ)."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
import uuid

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.support.storecheck import stored_blocks, wait_quiet

MiB = 1024 * 1024


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def _mpu_etag(*parts: bytes) -> str:
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def _wait(cond, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def _upload(s3, bucket: str, key: str, *bodies: bytes, **create) -> tuple[str, list]:  # type: ignore[no-untyped-def]
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    parts = []
    for n, body in enumerate(bodies, 1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n,
                              Body=body)["ETag"]  # fmt: skip
        parts.append({"PartNumber": n, "ETag": etag})
    return uid, parts


def test_multipart_upload_complete_round_trip(s3, bucket) -> None:
    """Parts stitched by Complete read back as one object with AWS's ETag,
    the metadata given at create, and part ETags that are MD5s."""
    p1, p2, p3 = os.urandom(5 * MiB), os.urandom(5 * MiB + 1), os.urandom(77)
    uid, parts = _upload(s3, bucket, "mp/obj", p1, p2, p3, ContentType="text/csv",
                         Metadata={"origin": "test"})  # fmt: skip
    assert parts[0]["ETag"] == f'"{hashlib.md5(p1).hexdigest()}"'
    out = s3.complete_multipart_upload(Bucket=bucket, Key="mp/obj", UploadId=uid,
                                       MultipartUpload={"Parts": parts})  # fmt: skip
    assert out["ETag"] == _mpu_etag(p1, p2, p3)
    assert out["Key"] == "mp/obj" and out["Bucket"] == bucket
    r = s3.get_object(Bucket=bucket, Key="mp/obj")
    assert r["Body"].read() == p1 + p2 + p3
    assert r["ContentType"] == "text/csv" and r["Metadata"] == {"origin": "test"}
    assert r["ETag"] == out["ETag"]
    ranged = s3.get_object(
        Bucket=bucket, Key="mp/obj", Range=f"bytes={5 * MiB - 3}-{5 * MiB + 2}"
    )
    assert ranged["Body"].read() == (p1 + p2)[5 * MiB - 3 : 5 * MiB + 3]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_complete_twice_or_after_abort_is_no_such_upload(s3, bucket) -> None:
    """A completed or aborted upload id is gone: NoSuchUpload."""
    uid, parts = _upload(s3, bucket, "k", b"only part")
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                 MultipartUpload={"Parts": parts})  # fmt: skip
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": parts})  # fmt: skip
    assert _code(e) == "NoSuchUpload"
    uid2, parts2 = _upload(s3, bucket, "k2", b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="k2", UploadId=uid2)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k2", UploadId=uid2,
                                     MultipartUpload={"Parts": parts2})  # fmt: skip
    assert _code(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k2", UploadId=uid2, PartNumber=1, Body=b"y")
    assert _code(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="k2", UploadId=uid2)
    assert _code(e) == "NoSuchUpload"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k2")


def test_complete_validation_errors(s3, bucket) -> None:
    """Out-of-order parts, unknown parts, wrong ETags and small non-last
    parts are refused, and the upload stays open and completable."""
    small, big = os.urandom(1000), os.urandom(5 * MiB)
    uid, parts = _upload(s3, bucket, "v", big, small, big)

    def complete(listed):  # type: ignore[no-untyped-def]
        return s3.complete_multipart_upload(Bucket=bucket, Key="v", UploadId=uid,
                                            MultipartUpload={"Parts": listed})  # fmt: skip

    with pytest.raises(ClientError) as e:
        complete([parts[1], parts[0]])
    assert _code(e) == "InvalidPartOrder"
    with pytest.raises(ClientError) as e:
        complete([parts[0], {"PartNumber": 7, "ETag": parts[0]["ETag"]}])
    assert _code(e) == "InvalidPart"
    with pytest.raises(ClientError) as e:
        complete([{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}])
    assert _code(e) == "InvalidPart"
    with pytest.raises(ClientError) as e:
        complete(parts)  # part 2 (1000 bytes) is not last
    assert _code(e) == "EntityTooSmall"
    with pytest.raises(ClientError) as e:
        complete([])
    assert _code(e) == "MalformedXML"
    assert complete([parts[0], parts[1]])["ETag"] == _mpu_etag(big, small)
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == big + small


def test_upload_part_number_out_of_range(s3, bucket) -> None:
    """Part numbers must be 1..10000."""
    uid = s3.create_multipart_upload(Bucket=bucket, Key="n")["UploadId"]
    for n in (0, 10001):
        with pytest.raises(ClientError) as e:
            s3.upload_part(
                Bucket=bucket, Key="n", UploadId=uid, PartNumber=n, Body=b"x"
            )
        assert _code(e) == "InvalidArgument"


def test_reuploading_a_part_replaces_it(gateway, s3, bucket) -> None:
    """The last upload of a part number wins; the replaced part's blocks go."""
    uid = s3.create_multipart_upload(Bucket=bucket, Key="r")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=1, Body=b"first")
    e2 = s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=1,
                        Body=b"second!")["ETag"]  # fmt: skip
    listed = s3.list_parts(Bucket=bucket, Key="r", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [(1, 7, e2)]
    s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]})  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="r")["Body"].read() == b"second!"


def test_unlisted_and_aborted_parts_free_their_blocks(gateway, s3, bucket) -> None:
    """Parts left out of Complete, and every part of an aborted upload, are
    deleted from the datanode."""
    wait_quiet(gateway.data_dir)  # earlier tests' deletions done
    before = stored_blocks(gateway.data_dir)
    uid, parts = _upload(
        s3, bucket, "u", os.urandom(5 * MiB), os.urandom(10), os.urandom(10)
    )
    assert len(stored_blocks(gateway.data_dir)) == len(before) + 3
    s3.complete_multipart_upload(Bucket=bucket, Key="u", UploadId=uid,
                                 MultipartUpload={"Parts": parts[:2]})  # fmt: skip
    assert _wait(lambda: len(stored_blocks(gateway.data_dir)) == len(before) + 2)
    uid2, _ = _upload(s3, bucket, "a", os.urandom(10), os.urandom(10))
    s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=uid2)
    assert _wait(lambda: len(stored_blocks(gateway.data_dir)) == len(before) + 2)
    s3.delete_object(Bucket=bucket, Key="u")
    assert _wait(lambda: stored_blocks(gateway.data_dir) == before)


@pytest.mark.parametrize("style", ["quoted", "unquoted", "&#34;", "&quot;"])
def test_complete_accepts_every_etag_spelling(gateway, s3, bucket, style) -> None:
    """ETags in the Complete body may be quoted, bare, or with escaped quotes
    (rclone, the JS SDK); no xmlns is needed (s3cmd)."""
    uid, parts = _upload(s3, bucket, "e", b"abc")
    bare = parts[0]["ETag"].strip('"')
    etag = {"quoted": f'"{bare}"', "unquoted": bare, "&#34;": f"&#34;{bare}&#34;",
            "&quot;": f"&quot;{bare}&quot;"}[style]  # fmt: skip
    body = (f"<CompleteMultipartUpload><Part><ETag>{etag}</ETag>"
            "<PartNumber>1</PartNumber></Part></CompleteMultipartUpload>").encode()  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    conn.request("POST", f"/{bucket}/e?uploadId={uid}", body=body)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    assert r.status == 200, data
    assert s3.get_object(Bucket=bucket, Key="e")["Body"].read() == b"abc"


def test_concurrent_uploads_same_key_last_complete_wins(gateway, s3, bucket) -> None:
    """Two uploads of one key: the one completed last is the object; the
    other's blocks are freed and readers never see a mix."""
    a, b = os.urandom(5 * MiB + 11), os.urandom(5 * MiB + 22)
    uid_a, parts_a = _upload(s3, bucket, "same", a[: 5 * MiB], a[5 * MiB :])
    uid_b, parts_b = _upload(s3, bucket, "same", b[: 5 * MiB], b[5 * MiB :])
    ids = [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]]
    assert ids == [uid_a, uid_b]  # one key's uploads in the order started
    s3.complete_multipart_upload(Bucket=bucket, Key="same", UploadId=uid_b,
                                 MultipartUpload={"Parts": parts_b})  # fmt: skip
    s3.complete_multipart_upload(Bucket=bucket, Key="same", UploadId=uid_a,
                                 MultipartUpload={"Parts": parts_a})  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="same")["Body"].read() == a


def test_reader_during_complete_sees_old_or_new(s3, bucket) -> None:
    """While uploads keep completing over a key, every GET returns one whole
    version, never a mix."""
    versions = {hashlib.md5(v).hexdigest() for v in []}
    bodies = [bytes([i]) * (5 * MiB + i) for i in range(1, 4)]
    versions = {hashlib.md5(v).hexdigest() for v in bodies}
    s3.put_object(Bucket=bucket, Key="mix", Body=bodies[0])
    stop = threading.Event()
    seen: list[str] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                data = s3.get_object(Bucket=bucket, Key="mix")["Body"].read()
                seen.append(hashlib.md5(data).hexdigest())
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for body in bodies[1:] * 2:
            uid, parts = _upload(s3, bucket, "mix", body[: 5 * MiB], body[5 * MiB :])
            s3.complete_multipart_upload(Bucket=bucket, Key="mix", UploadId=uid,
                                         MultipartUpload={"Parts": parts})  # fmt: skip
    finally:
        stop.set()
        t.join()
    assert not errors, errors
    assert seen and set(seen) <= versions


def test_list_parts_pagination(s3, bucket) -> None:
    """ListParts pages with max-parts and part-number-marker, quoted ETags."""
    uid = s3.create_multipart_upload(Bucket=bucket, Key="lp")["UploadId"]
    etags = {}
    for n in (1, 2, 3, 5, 8, 13):
        etags[n] = s3.upload_part(Bucket=bucket, Key="lp", UploadId=uid, PartNumber=n,
                                  Body=str(n).encode())["ETag"]  # fmt: skip
    seen = []
    marker = 0
    while True:
        page = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=4,
                             PartNumberMarker=marker)  # fmt: skip
        seen += [(p["PartNumber"], p["ETag"]) for p in page["Parts"]]
        assert page["MaxParts"] == 4
        if not page["IsTruncated"]:
            break
        marker = page["NextPartNumberMarker"]
        assert marker == seen[-1][0]
    assert seen == sorted(etags.items())
    assert all(e.startswith('"') for _, e in seen)
    capped = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=5000)
    assert capped["MaxParts"] == 1000


def test_list_parts_unknown_upload(s3, bucket) -> None:
    """ListParts of an unknown upload is NoSuchUpload."""
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="x", UploadId="nope")
    assert _code(e) == "NoSuchUpload"


def test_list_multipart_uploads_pagination_prefix_delimiter(s3, bucket) -> None:
    """ListMultipartUploads: prefix, delimiter, key/upload-id markers,
    max-uploads and url encoding behave as in S3."""
    made = []
    for key in ["a/1", "a/2", "b", "b", "c+d", "dir/x/y", "dir/z"]:
        made.append(
            (key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
        )
    made.sort()
    seen = []
    kwargs: dict[str, str] = {}
    while True:
        page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kwargs)
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"],
                  "UploadIdMarker": page["NextUploadIdMarker"]}  # fmt: skip
    assert seen == made
    page = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "dir/"]
    assert [u["Key"] for u in page["Uploads"]] == ["b", "b", "c+d"]
    page = s3.list_multipart_uploads(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["dir/x/"]
    assert [u["Key"] for u in page["Uploads"]] == ["dir/z"]
    page = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
    assert [u["Key"] for u in page["Uploads"]] == ["c+d", "dir/x/y", "dir/z"]
    page = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url", Prefix="c")
    # botocore leaves ListMultipartUploads keys encoded, as S3 sends them.
    assert [u["Key"] for u in page["Uploads"]] == ["c%2Bd"]
    assert page["EncodingType"] == "url"


def test_delete_bucket_with_open_upload_is_not_empty(s3) -> None:
    """A bucket with an open upload cannot be deleted (its parts would leak)."""
    name = f"open-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    uid = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert _code(e) == "BucketNotEmpty"
    s3.abort_multipart_upload(Bucket=name, Key="k", UploadId=uid)
    s3.delete_bucket(Bucket=name)


def test_upload_part_bad_content_md5(s3, bucket) -> None:
    """A part whose Content-MD5 does not match is BadDigest and not stored."""
    import base64

    uid = s3.create_multipart_upload(Bucket=bucket, Key="md5")["UploadId"]
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="md5", UploadId=uid, PartNumber=1,
                       Body=b"data", ContentMD5=wrong)  # fmt: skip
    assert _code(e) == "BadDigest"
    assert s3.list_parts(Bucket=bucket, Key="md5", UploadId=uid).get("Parts", []) == []


def test_boto3_upload_file_download_file_copy_small_parts(s3, bucket, tmp_path) -> None:
    """boto3's managed transfers with 5 MiB parts: multipart upload, ranged
    parallel download (If-Match), and managed copy (UploadPartCopy)."""
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                         max_concurrency=4)  # fmt: skip
    data = os.urandom(23 * MiB + 5)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    s3.upload_file(str(src), bucket, "managed", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="managed")
    assert head["ETag"].endswith('-5"') and head["ContentLength"] == len(data)
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "managed", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    s3.copy({"Bucket": bucket, "Key": "managed"}, bucket, "managed-copy", Config=cfg)
    assert s3.get_object(Bucket=bucket, Key="managed-copy")["Body"].read() == data


def test_open_uploads_survive_restart(tmp_path) -> None:
    """An upload started before a restart can be continued and completed."""
    from tests.integration.conftest import make_client
    from tests.support.gateway import GatewayProcess
    from tests.support.storecheck import assert_clean

    data = str(tmp_path / "data")
    gw = GatewayProcess(data).start()
    s3 = make_client(gw.endpoint)
    s3.create_bucket(Bucket="persist")
    p1 = os.urandom(5 * MiB)
    uid, parts = _upload(s3, "persist", "k", p1)
    gw.kill()
    gw = GatewayProcess(data).start()
    try:
        s3 = make_client(gw.endpoint)
        e2 = s3.upload_part(Bucket="persist", Key="k", UploadId=uid, PartNumber=2,
                            Body=b"tail")["ETag"]  # fmt: skip
        s3.complete_multipart_upload(
            Bucket="persist", Key="k", UploadId=uid,
            MultipartUpload={"Parts": [*parts, {"PartNumber": 2, "ETag": e2}]},
        )  # fmt: skip
        assert s3.get_object(Bucket="persist", Key="k")["Body"].read() == p1 + b"tail"
    finally:
        gw.stop()
    assert_clean(data)
