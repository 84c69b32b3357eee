"""minio-py, fsspec/s3fs, pyarrow's S3FileSystem and boto3's resource API."""

from __future__ import annotations

import hashlib
import io
import os

MiB = 1024 * 1024


def test_minio_py(gw) -> None:
    """minio-py: bucket_exists, put (multipart, 5 MiB parts), get, stat,
    list (recursive and by prefix), copy, remove."""
    from minio import Minio
    from minio.commonconfig import CopySource

    m = Minio(f"127.0.0.1:{gw.port}", access_key="clientuser", secret_key="clientsecret",
              secure=False)  # fmt: skip
    assert not m.bucket_exists("minio-bkt")
    m.make_bucket("minio-bkt")
    assert m.bucket_exists("minio-bkt")
    data = os.urandom(12 * MiB + 7)
    m.put_object("minio-bkt", "dir/big", io.BytesIO(data), len(data), part_size=5 * MiB)
    m.put_object("minio-bkt", "small", io.BytesIO(b"tiny"), 4)
    got = m.get_object("minio-bkt", "dir/big")
    assert got.read() == data
    got.close()
    assert m.stat_object("minio-bkt", "small").size == 4
    names = sorted(o.object_name for o in m.list_objects("minio-bkt", recursive=True))
    assert names == ["dir/big", "small"]
    top = sorted(o.object_name for o in m.list_objects("minio-bkt"))
    assert top == ["dir/", "small"]
    m.copy_object("minio-bkt", "copied", CopySource("minio-bkt", "small"))
    assert m.get_object("minio-bkt", "copied").read() == b"tiny"
    for name in ("dir/big", "small", "copied"):
        m.remove_object("minio-bkt", name)
    m.remove_bucket("minio-bkt")
    assert not m.bucket_exists("minio-bkt")


def test_fsspec_s3fs(gw, tmp_path) -> None:
    """fsspec/s3fs: mkdir, put, ls, info, isdir on implicit directories,
    open('wb') with 5 MiB blocks (multipart), cat, rm recursive."""
    import s3fs

    fs = s3fs.S3FileSystem(key="clientuser", secret="clientsecret",
                           client_kwargs={"endpoint_url": gw.endpoint})  # fmt: skip
    fs.mkdir("fsspec-bkt")
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(300_000))
    fs.put(str(src), "fsspec-bkt/a/b/f.bin")
    assert fs.isdir("fsspec-bkt/a") and fs.isdir("fsspec-bkt/a/b")
    assert fs.ls("fsspec-bkt/a") == ["fsspec-bkt/a/b"]
    assert fs.info("fsspec-bkt/a/b/f.bin")["size"] == 300_000
    data = os.urandom(11 * MiB)
    with fs.open("fsspec-bkt/streamed.bin", "wb", block_size=5 * MiB) as f:
        for i in range(0, len(data), MiB):
            f.write(data[i : i + MiB])
    assert (
        hashlib.md5(fs.cat("fsspec-bkt/streamed.bin")).digest()
        == hashlib.md5(data).digest()
    )
    fs.get("fsspec-bkt/a/b/f.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
    fs.rm("fsspec-bkt", recursive=True)
    assert not fs.exists("fsspec-bkt")


def test_pyarrow_s3filesystem(gw) -> None:
    """pyarrow (aws-sdk-cpp): every write is a multipart upload with
    aws-chunked bodies and a CRC64NVME trailer, tiny parts included."""
    import pyarrow.fs as pafs

    s3 = pafs.S3FileSystem(access_key="clientuser", secret_key="clientsecret",
                           endpoint_override=f"127.0.0.1:{gw.port}", scheme="http",
                           region="us-east-1", allow_bucket_creation=True,
                           allow_bucket_deletion=True)  # fmt: skip
    s3.create_dir("arrow-bkt")
    with s3.open_output_stream("arrow-bkt/tiny.txt") as out:
        out.write(b"600 bytes? no: " + b"x" * 585)
    big = os.urandom(23 * MiB + 1)
    with s3.open_output_stream("arrow-bkt/dir/big.bin") as out:
        out.write(big)
    with s3.open_input_file("arrow-bkt/dir/big.bin") as f:
        assert f.read() == big
    with s3.open_input_stream("arrow-bkt/tiny.txt") as f:
        assert f.read().startswith(b"600 bytes?")
    infos = s3.get_file_info(pafs.FileSelector("arrow-bkt", recursive=True))
    assert {i.path for i in infos} == {"arrow-bkt/tiny.txt", "arrow-bkt/dir",
                                       "arrow-bkt/dir/big.bin"}  # fmt: skip
    assert s3.get_file_info("arrow-bkt/dir").type == pafs.FileType.Directory
    s3.delete_dir("arrow-bkt")


def test_boto3_resource_api(gw) -> None:
    """boto3's resource layer: buckets, objects, filters, batch delete."""
    import boto3

    s3 = boto3.resource("s3", endpoint_url=gw.endpoint, aws_access_key_id="clientuser",
                        aws_secret_access_key="clientsecret", region_name="us-east-1")  # fmt: skip
    b = s3.create_bucket(Bucket="resource-bkt")
    for i in range(7):
        b.put_object(Key=f"p/{i}", Body=str(i).encode())
    assert sorted(o.key for o in b.objects.filter(Prefix="p/")) == [
        f"p/{i}" for i in range(7)
    ]
    assert s3.Object("resource-bkt", "p/3").get()["Body"].read() == b"3"
    assert s3.Object("resource-bkt", "p/3").content_length == 1
    assert "resource-bkt" in [x.name for x in s3.buckets.all()]
    b.objects.all().delete()
    assert list(b.objects.all()) == []
    b.delete()
