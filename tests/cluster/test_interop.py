"""ozs3 and the cluster's own clients on the same data, byte for byte, both
ways: what ozs3 writes, ``ozone sh`` and Ozone's Java S3 gateway (the ``s3g=``
of the cluster's info) read, with the same ETag and metadata; what they write,
ozs3 lists and reads; buckets either gateway makes work from the other;
multipart uploads either gateway starts the other continues and completes
(same ETag on both); copies ozs3 makes read through the other; and
``ozone debug replicas verify`` accepts ozs3's blocks as the cluster's own."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.integration.conftest import AwsCli, make_client
from tests.support.gateway import GatewayProcess

from .conftest import Cluster, new_bucket_name

MiB = 1024 * 1024
BLOCK = 4 * MiB  # the test cluster's ozone.scm.block.size


@pytest.fixture(scope="module")
def ozs3(ozs3_gateway: GatewayProcess) -> Any:
    return make_client(ozs3_gateway.endpoint)


@pytest.fixture(scope="module")
def s3g(cluster: Cluster) -> Any:
    """boto3 against Ozone's own (Java) S3 gateway of the cluster."""
    return make_client(cluster.info["s3g"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def quoted_md5(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def key_info(cluster: Cluster, bucket: str, key: str) -> dict[str, Any]:
    return cluster.ozone_sh_json("key", "info", f"/s3v/{bucket}/{key}")  # type: ignore[return-value]


def bucket_layout(cluster: Cluster, bucket: str) -> str:
    info = cluster.ozone_sh_json("bucket", "info", f"/s3v/{bucket}")
    return info["bucketLayout"]  # type: ignore[index]


def ozone_sh_get(cluster: Cluster, bucket: str, key: str, dest: Path) -> bytes:
    cluster.ozone_sh("key", "get", f"/s3v/{bucket}/{key}", str(dest))
    return dest.read_bytes()


def listing(client: Any, bucket: str) -> dict[str, dict[str, Any]]:
    page = client.list_objects_v2(Bucket=bucket)
    assert not page["IsTruncated"]
    return {o["Key"]: o for o in page.get("Contents", [])}


def error_code(e: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_put_through_ozs3_reads_back_through_ozone_sh_and_s3g(
    cluster, ozs3, s3g, bucket_names, tmp_path
):
    bucket = new_bucket_name(bucket_names)
    ozs3.create_bucket(Bucket=bucket)
    data = os.urandom(9 * MiB + 12_345)  # three blocks, the last one partial
    put = ozs3.put_object(
        Bucket=bucket,
        Key="dir/obj",
        Body=data,
        Metadata={"colour": "blue", "Mixed-Case": "Value 1"},
    )
    assert put["ETag"] == quoted_md5(data)

    # Ozone's shell: the same bytes, the ETag in the key's metadata, the
    # blocks as Ozone's own client cuts them.
    by_sh = ozone_sh_get(cluster, bucket, "dir/obj", tmp_path / "o")
    assert sha256(by_sh) == sha256(data)
    info = key_info(cluster, bucket, "dir/obj")
    assert info["dataSize"] == len(data)
    assert info["metadata"]["ETag"] == quoted_md5(data).strip('"')
    assert info["metadata"]["colour"] == "blue"
    assert [(b["keyOffset"], b["length"]) for b in info["ozoneKeyLocations"]] == [
        (0, BLOCK),
        (BLOCK, BLOCK),
        (2 * BLOCK, len(data) - 2 * BLOCK),
    ]

    # Ozone's S3 gateway: the same bytes and ETag, whole and across a block
    # boundary, and the user metadata (Ozone 2.2's s3g answers it on HEAD
    # only: its GET sends no x-amz-meta-* even for objects it wrote itself).
    got = s3g.get_object(Bucket=bucket, Key="dir/obj")
    assert got["ContentLength"] == len(data)
    assert got["ETag"] == put["ETag"]
    assert sha256(got["Body"].read()) == sha256(data)
    part = s3g.get_object(
        Bucket=bucket, Key="dir/obj", Range=f"bytes={BLOCK - 5}-{2 * BLOCK + 4}"
    )
    assert part["Body"].read() == data[BLOCK - 5 : 2 * BLOCK + 5]
    head = s3g.head_object(Bucket=bucket, Key="dir/obj")
    assert head["ETag"] == put["ETag"]
    assert head["ContentLength"] == len(data)
    meta = {k.lower(): v for k, v in head["Metadata"].items()}
    assert meta["colour"] == "blue"
    assert meta["mixed-case"] == "Value 1"
    # What else s3g shows as user metadata is what the README says ozs3 keeps
    # besides (Content-Type, and the additional checksum boto3 sends).
    assert set(meta) - {"colour", "mixed-case"} <= {"content-type", "ozs3-checksum"}
    listed = listing(s3g, bucket)["dir/obj"]
    assert (listed["Size"], listed["ETag"]) == (len(data), put["ETag"])


def test_keys_of_ozone_sh_and_s3g_are_listed_and_read_through_ozs3(
    cluster, ozs3_gateway, ozs3, s3g, bucket_names, tmp_path
):
    bucket = new_bucket_name(bucket_names)
    ozs3.create_bucket(Bucket=bucket)
    by_sh = os.urandom(10 * MiB + 7)  # three blocks
    src = tmp_path / "by-sh"
    src.write_bytes(by_sh)
    cluster.ozone_sh("key", "put", f"/s3v/{bucket}/sh/ten-mib", str(src))
    by_s3g = os.urandom(5 * MiB + 3)  # two blocks
    put = s3g.put_object(
        Bucket=bucket, Key="s3g/obj", Body=by_s3g, Metadata={"origin": "s3g"}
    )
    assert put["ETag"] == quoted_md5(by_s3g)

    listed = listing(ozs3, bucket)
    assert sorted(listed) == ["s3g/obj", "sh/ten-mib"]
    assert listed["s3g/obj"]["Size"] == len(by_s3g)
    assert listed["s3g/obj"]["ETag"] == put["ETag"]
    assert listed["sh/ten-mib"]["Size"] == len(by_sh)
    # An ozone sh key has no ETag: none listed (Ozone's s3g lists none either).
    assert "ETag" not in listed["sh/ten-mib"]
    assert "ETag" not in listing(s3g, bucket)["sh/ten-mib"]

    got = ozs3.get_object(Bucket=bucket, Key="s3g/obj")
    assert got["ETag"] == put["ETag"]
    assert sha256(got["Body"].read()) == sha256(by_s3g)
    head = ozs3.head_object(Bucket=bucket, Key="s3g/obj")
    assert head["Metadata"] == {"origin": "s3g"}
    assert head["ETag"] == put["ETag"]

    got = ozs3.get_object(Bucket=bucket, Key="sh/ten-mib")
    assert got["ContentLength"] == len(by_sh)
    assert "etag" not in got["ResponseMetadata"]["HTTPHeaders"]
    assert sha256(got["Body"].read()) == sha256(by_sh)
    s3g_head = s3g.head_object(Bucket=bucket, Key="sh/ten-mib")
    assert "etag" not in s3g_head["ResponseMetadata"]["HTTPHeaders"]

    # S3 clients still work without an ETag: boto3's ranged parallel
    # download (If-Match only when there is an ETag), ranges, the aws CLI.
    into = tmp_path / "via-boto3"
    ozs3.download_file(
        bucket,
        "sh/ten-mib",
        str(into),
        Config=TransferConfig(multipart_threshold=MiB, multipart_chunksize=3 * MiB),
    )
    assert sha256(into.read_bytes()) == sha256(by_sh)
    part = ozs3.get_object(Bucket=bucket, Key="sh/ten-mib", Range="bytes=-9")
    assert part["Body"].read() == by_sh[-9:]
    aws = AwsCli(
        ozs3_gateway.endpoint, str(tmp_path), "    multipart_threshold = 1GB\n"
    )
    ls = aws("s3", "ls", "--recursive", f"s3://{bucket}/").stdout
    assert f"{len(by_sh)} sh/ten-mib" in ls and f"{len(by_s3g)} s3g/obj" in ls
    aws("s3", "cp", f"s3://{bucket}/sh/ten-mib", str(tmp_path / "via-cli"))
    assert sha256((tmp_path / "via-cli").read_bytes()) == sha256(by_sh)
    head = json.loads(
        aws("s3api", "head-object", "--bucket", bucket, "--key", "sh/ten-mib").stdout
    )
    assert head["ContentLength"] == len(by_sh) and "ETag" not in head


def test_bucket_made_by_s3g_is_usable_from_ozs3(cluster, ozs3, s3g, bucket_names):
    bucket = new_bucket_name(bucket_names)
    s3g.create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in ozs3.list_buckets()["Buckets"]]
    ozs3.head_bucket(Bucket=bucket)
    data = os.urandom(BLOCK + 1)
    put = ozs3.put_object(Bucket=bucket, Key="a/b", Body=data)
    assert put["ETag"] == quoted_md5(data)
    assert ozs3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == data
    assert s3g.get_object(Bucket=bucket, Key="a/b")["Body"].read() == data
    page = ozs3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/"]
    ozs3.delete_object(Bucket=bucket, Key="a/b")
    assert listing(ozs3, bucket) == {} == listing(s3g, bucket)
    ozs3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3g.head_bucket(Bucket=bucket)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_bucket_made_by_ozs3_is_usable_from_s3g(cluster, ozs3, s3g, bucket_names):
    bucket = new_bucket_name(bucket_names)
    ozs3.create_bucket(Bucket=bucket)
    # Both gateways make the same kind of bucket.
    assert bucket_layout(cluster, bucket) == "OBJECT_STORE"
    assert bucket in [b["Name"] for b in s3g.list_buckets()["Buckets"]]
    s3g.head_bucket(Bucket=bucket)
    data = os.urandom(BLOCK + 1)
    put = s3g.put_object(Bucket=bucket, Key="x/y", Body=data)
    assert s3g.get_object(Bucket=bucket, Key="x/y")["Body"].read() == data
    got = ozs3.get_object(Bucket=bucket, Key="x/y")
    assert got["ETag"] == put["ETag"] and got["Body"].read() == data
    assert list(listing(s3g, bucket)) == ["x/y"]
    s3g.delete_object(Bucket=bucket, Key="x/y")
    assert listing(s3g, bucket) == {} == listing(ozs3, bucket)
    s3g.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        ozs3.list_objects_v2(Bucket=bucket)
    assert error_code(e) == ("NoSuchBucket", 404)


def test_object_tags_are_shared_with_s3g(cluster, ozs3, s3g, bucket_names):
    """Tags live in the OM's key, as Ozone's gateway keeps them: set by
    either gateway (on PUT or by PutObjectTagging), read by the other."""
    bucket = new_bucket_name(bucket_names)
    ozs3.create_bucket(Bucket=bucket)
    ozs3.put_object(Bucket=bucket, Key="o", Body=b"ozs3", Tagging="team=a&size=s m")
    expected = [{"Key": "size", "Value": "s m"}, {"Key": "team", "Value": "a"}]
    assert ozs3.get_object_tagging(Bucket=bucket, Key="o")["TagSet"] == expected
    assert s3g.get_object_tagging(Bucket=bucket, Key="o")["TagSet"] == expected
    s3g.put_object(Bucket=bucket, Key="j", Body=b"java", Tagging="from=s3g")
    assert ozs3.get_object_tagging(Bucket=bucket, Key="j")["TagSet"] == [
        {"Key": "from", "Value": "s3g"}
    ]
    head = ozs3.head_object(Bucket=bucket, Key="j")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "1"
    ozs3.put_object_tagging(
        Bucket=bucket, Key="j", Tagging={"TagSet": [{"Key": "by", "Value": "ozs3"}]}
    )
    assert s3g.get_object_tagging(Bucket=bucket, Key="j")["TagSet"] == [
        {"Key": "by", "Value": "ozs3"}
    ]
    s3g.delete_object_tagging(Bucket=bucket, Key="o")
    assert ozs3.get_object_tagging(Bucket=bucket, Key="o")["TagSet"] == []
    # A conditional PUT through ozs3 is checked by the OM against what s3g
    # wrote.
    with pytest.raises(ClientError) as e:
        ozs3.put_object(Bucket=bucket, Key="j", Body=b"x", IfNoneMatch="*")
    assert error_code(e) == ("PreconditionFailed", 412)
    etag = s3g.head_object(Bucket=bucket, Key="j")["ETag"]
    ozs3.put_object(Bucket=bucket, Key="j", Body=b"replaced", IfMatch=etag)
    assert s3g.get_object(Bucket=bucket, Key="j")["Body"].read() == b"replaced"
    for key in ("o", "j"):
        ozs3.delete_object(Bucket=bucket, Key=key)
    ozs3.delete_bucket(Bucket=bucket)


def replicas_verify(cluster: Cluster, path: str) -> tuple[dict[str, Any], str]:
    """``ozone debug replicas verify --checksums --block-existence
    --all-results PATH``: its JSON report (stdout) and its summary (stderr)."""
    cmd = [
        *shlex.split(cluster.info["ozone"]),
        "debug",
        "replicas",
        "verify",
        "--checksums",
        "--block-existence",
        "--all-results",
        path,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = done.stdout
    assert done.returncode == 0, (
        f"{shlex.join(cmd)}: {done.returncode}\n{out}\n{done.stderr[-3000:]}"
    )
    start = out.find("{")
    assert start >= 0, out
    report, end = json.JSONDecoder().raw_decode(out, start)
    return report, out[end:] + done.stderr


def summary_number(summary: str, label: str) -> int:
    for line in summary.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == label:
            return int(value.strip())
    raise AssertionError(f"no {label!r} in the summary:\n{summary}")


def test_ozone_debug_replicas_verify_passes_what_ozs3_wrote(
    cluster, ozs3, bucket_names
):
    bucket = new_bucket_name(bucket_names)
    ozs3.create_bucket(Bucket=bucket)
    sizes = {
        "multi": 9 * MiB + 12_345,  # 4 + 4 + 1.01 MiB
        "aligned": 2 * BLOCK,  # exactly two full blocks
        "small": 1_000,
        "empty": 0,
    }
    for key, size in sizes.items():
        ozs3.put_object(Bucket=bucket, Key=key, Body=os.urandom(size))

    report, summary = replicas_verify(cluster, f"/s3v/{bucket}")
    keys = {k["name"]: k for k in report["keys"]}
    assert sorted(keys) == sorted(sizes)
    for name, size in sizes.items():
        key = keys[name]
        assert key["pass"] is True, json.dumps(key, indent=1)
        assert len(key["blocks"]) == -(-size // BLOCK), name
        for block in key["blocks"]:
            assert block["replicas"], name
            for replica in block["replicas"]:
                checks = {c["type"]: c for c in replica["checks"]}
                assert sorted(checks) == ["blockExistence", "checksum"], checks
                for check in checks.values():
                    assert check["completed"] and check["pass"], (name, check)
                    assert check["failures"] == [], (name, check)
    assert report["pass"] is True
    assert summary_number(summary, "Number of Keys processed") == len(sizes)
    assert summary_number(summary, "Keys passed verification") == len(sizes)
    assert summary_number(summary, "Keys failed verification") == 0
    assert "Status: Success" in summary


@pytest.fixture
def uploads_aborted(ozs3: Any, bucket_names: list[str]) -> Iterator[None]:
    """Uploads a failed test left open are aborted, so that its buckets
    can be deleted (``bucket_names`` deletes them afterwards)."""
    yield
    for name in bucket_names:
        try:
            for u in ozs3.list_multipart_uploads(Bucket=name).get("Uploads", []):
                ozs3.abort_multipart_upload(
                    Bucket=name, Key=u["Key"], UploadId=u["UploadId"]
                )
        except ClientError:
            pass


def ozone_multipart_etag(*parts: bytes) -> str:
    """The OM's ETag of a completed upload: MD5 of the parts' hex ETags
    joined, ``-N`` (not AWS's binary MD5s)."""
    joined = "".join(hashlib.md5(p).hexdigest() for p in parts)
    return f'"{hashlib.md5(joined.encode()).hexdigest()}-{len(parts)}"'


def parts_of(client: Any, bucket: str, key: str, upload_id: str) -> list[tuple]:
    """ListParts as (number, size, bare ETag): Ozone's gateway answers the
    ETags unquoted, ozs3 quoted."""
    page = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert not page["IsTruncated"]
    return [(p["PartNumber"], p["Size"], p["ETag"].strip('"')) for p in page["Parts"]]


def read_everywhere(
    cluster: Cluster, clients: dict[str, Any], bucket: str, key: str, tmp_path: Path
) -> dict[str, str]:
    """The key's bytes through every gateway and ``ozone sh key get``,
    checked equal; each gateway's ETag as HEAD, GET and ListObjects give it
    (which must agree)."""
    dest = tmp_path / key.replace("/", "_")
    got = {"ozone sh": sha256(ozone_sh_get(cluster, bucket, key, dest))}
    etags = {}
    for name, client in clients.items():
        r = client.get_object(Bucket=bucket, Key=key)
        got[name] = sha256(r["Body"].read())
        head = client.head_object(Bucket=bucket, Key=key)
        listed = listing(client, bucket)[key]
        assert r["ETag"] == head["ETag"] == listed["ETag"], name
        assert r["ContentLength"] == head["ContentLength"] == listed["Size"], name
        etags[name] = head["ETag"]
    assert len(set(got.values())) == 1, got
    return etags


def test_upload_through_ozs3_completed_through_s3g(
    cluster: Cluster,
    ozs3: Any,
    s3g: Any,
    bucket_names: list[str],
    uploads_aborted: None,
    tmp_path: Path,
) -> None:
    bucket = new_bucket_name(bucket_names)
    ozs3.create_bucket(Bucket=bucket)
    p1 = os.urandom(5 * MiB + 11)  # two blocks
    p2 = os.urandom(BLOCK + 5)  # two blocks
    uid = ozs3.create_multipart_upload(
        Bucket=bucket,
        Key="mp/ozs3",
        Metadata={"colour": "red"},
        Tagging="t=1",
    )["UploadId"]
    parts = []
    for number, body in enumerate((p1, p2), 1):
        etag = ozs3.upload_part(
            Bucket=bucket, Key="mp/ozs3", UploadId=uid, PartNumber=number, Body=body
        )["ETag"]
        assert etag == quoted_md5(body)
        parts.append({"PartNumber": number, "ETag": etag})
    # Ozone's gateway sees the upload and its parts as ozs3 wrote them.
    uploads = s3g.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp/ozs3", uid)]
    assert parts_of(s3g, bucket, "mp/ozs3", uid) == [
        (1, len(p1), hashlib.md5(p1).hexdigest()),
        (2, len(p2), hashlib.md5(p2).hexdigest()),
    ]
    done = s3g.complete_multipart_upload(
        Bucket=bucket, Key="mp/ozs3", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    etag = ozone_multipart_etag(p1, p2)
    assert done["ETag"] == etag

    data = p1 + p2
    etags = read_everywhere(
        cluster, {"ozs3": ozs3, "s3g": s3g}, bucket, "mp/ozs3", tmp_path
    )
    assert etags == {"ozs3": etag, "s3g": etag}
    assert sha256(ozs3.get_object(Bucket=bucket, Key="mp/ozs3")["Body"].read()) == (
        sha256(data)
    )
    assert ozs3.head_object(Bucket=bucket, Key="mp/ozs3")["Metadata"] == {
        "colour": "red"
    }
    assert s3g.head_object(Bucket=bucket, Key="mp/ozs3")["Metadata"]["colour"] == "red"
    for client in (ozs3, s3g):
        assert client.get_object_tagging(Bucket=bucket, Key="mp/ozs3")["TagSet"] == [
            {"Key": "t", "Value": "1"}
        ]
    # The parts are the OM's: ozs3 reads part 2 of what s3g completed.
    part = ozs3.get_object(Bucket=bucket, Key="mp/ozs3", PartNumber=2)
    assert part["ContentRange"] == f"bytes {len(p1)}-{len(data) - 1}/{len(data)}"
    assert (part["PartsCount"], part["Body"].read()) == (2, p2)
    info = key_info(cluster, bucket, "mp/ozs3")
    assert (info["dataSize"], info["metadata"]["ETag"]) == (len(data), etag.strip('"'))
    assert "Uploads" not in ozs3.list_multipart_uploads(Bucket=bucket)


def test_upload_through_s3g_continued_and_completed_through_ozs3(
    cluster: Cluster,
    ozs3: Any,
    s3g: Any,
    bucket_names: list[str],
    uploads_aborted: None,
    tmp_path: Path,
) -> None:
    bucket = new_bucket_name(bucket_names)
    s3g.create_bucket(Bucket=bucket)
    q1 = os.urandom(5 * MiB + 2)  # two blocks
    q2 = os.urandom(333)
    uid = s3g.create_multipart_upload(
        Bucket=bucket, Key="mp/s3g", Metadata={"origin": "s3g"}
    )["UploadId"]
    e1 = s3g.upload_part(
        Bucket=bucket, Key="mp/s3g", UploadId=uid, PartNumber=1, Body=q1
    )["ETag"]
    assert e1 == quoted_md5(q1)
    # ozs3 lists the upload Ozone's gateway started, adds a part to it ...
    uploads = ozs3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp/s3g", uid)]
    e2 = ozs3.upload_part(
        Bucket=bucket, Key="mp/s3g", UploadId=uid, PartNumber=2, Body=q2
    )["ETag"]
    assert e2 == quoted_md5(q2)
    listed = ozs3.list_parts(Bucket=bucket, Key="mp/s3g", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
        (1, len(q1), e1),
        (2, len(q2), e2),
    ]
    assert listed["IsTruncated"] is False
    # ... and completes it.
    done = ozs3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp/s3g",
        UploadId=uid,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]
        },
    )
    etag = ozone_multipart_etag(q1, q2)
    assert done["ETag"] == etag
    etags = read_everywhere(
        cluster, {"ozs3": ozs3, "s3g": s3g}, bucket, "mp/s3g", tmp_path
    )
    assert etags == {"ozs3": etag, "s3g": etag}
    got = s3g.get_object(Bucket=bucket, Key="mp/s3g")["Body"].read()
    assert sha256(got) == sha256(q1 + q2)
    assert ozs3.head_object(Bucket=bucket, Key="mp/s3g")["Metadata"] == {
        "origin": "s3g"
    }
    assert "Uploads" not in s3g.list_multipart_uploads(Bucket=bucket)


def test_copies_through_ozs3_read_through_s3g(
    cluster: Cluster,
    ozs3: Any,
    s3g: Any,
    bucket_names: list[str],
    uploads_aborted: None,
    tmp_path: Path,
) -> None:
    bucket = new_bucket_name(bucket_names)
    ozs3.create_bucket(Bucket=bucket)
    # A source Ozone's gateway wrote, copied by ozs3 (its bytes move: new
    # blocks, read back by the other gateway).
    data = os.urandom(9 * MiB + 5)  # three blocks
    put = s3g.put_object(
        Bucket=bucket, Key="src", Body=data, Metadata={"colour": "blue"}, Tagging="k=v"
    )
    copied = ozs3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"] == quoted_md5(data)
    etags = read_everywhere(
        cluster, {"ozs3": ozs3, "s3g": s3g}, bucket, "dst", tmp_path
    )
    assert etags == {"ozs3": put["ETag"], "s3g": put["ETag"]}
    got = s3g.get_object(Bucket=bucket, Key="dst")["Body"].read()
    assert sha256(got) == sha256(data)
    assert s3g.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"colour": "blue"}
    assert s3g.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [
        {"Key": "k", "Value": "v"}
    ]
    src_blocks = {
        b["localID"] for b in key_info(cluster, bucket, "src")["ozoneKeyLocations"]
    }
    dst_blocks = {
        b["localID"] for b in key_info(cluster, bucket, "dst")["ozoneKeyLocations"]
    }
    assert len(dst_blocks) == 3 and not src_blocks & dst_blocks

    # Parts copied by ozs3 from ranges of it, completed through s3g.
    uid = ozs3.create_multipart_upload(Bucket=bucket, Key="ranged")["UploadId"]
    cut = 5 * MiB + 1
    parts = []
    for number, (first, last) in enumerate([(0, cut - 1), (cut, len(data) - 1)], 1):
        out = ozs3.upload_part_copy(
            Bucket=bucket,
            Key="ranged",
            UploadId=uid,
            PartNumber=number,
            CopySource=f"{bucket}/src",
            CopySourceRange=f"bytes={first}-{last}",
        )
        assert out["CopyPartResult"]["ETag"] == quoted_md5(data[first : last + 1])
        parts.append({"PartNumber": number, "ETag": out["CopyPartResult"]["ETag"]})
    done = s3g.complete_multipart_upload(
        Bucket=bucket, Key="ranged", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    etag = ozone_multipart_etag(data[:cut], data[cut:])
    assert done["ETag"] == etag
    etags = read_everywhere(
        cluster, {"ozs3": ozs3, "s3g": s3g}, bucket, "ranged", tmp_path
    )
    assert etags == {"ozs3": etag, "s3g": etag}
    assert sha256(s3g.get_object(Bucket=bucket, Key="ranged")["Body"].read()) == (
        sha256(data)
    )
