"""Faults: a full disk (a small real tmpfs: block writes refused at the
reserve, metadata still written, restarts), and corrupted bytes on disk."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess
from tests.support.storecheck import assert_clean, flip_bits, stored_blocks

MiB = 1024 * 1024


@contextlib.contextmanager
def _tmpfs(mnt: str, size: str) -> Iterator[str]:
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt],
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs (needs root): {r.stderr}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt], check=False)


@pytest.fixture
def small_fs(tmp_path) -> Iterator[str]:
    with _tmpfs(str(tmp_path / "small"), "48m") as mnt:
        yield mnt


# Block writes keep this much free on the data's file system.
RESERVE = {"OZONE-SITE.XML_hdds.datanode.dir.du.reserved": "12MB"}


def test_disk_full_refuses_cleanly_and_keeps_serving(small_fs) -> None:
    """On a full disk an upload gets a 503 S3 error with XML, nothing is
    committed, its space comes back, and the gateway goes on serving."""
    data = os.path.join(small_fs, "data")
    gw = GatewayProcess(data, env=RESERVE).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="full")
        s3.put_object(Bucket="full", Key="before", Body=b"kept")
        free_before = shutil.disk_usage(small_fs).free
        files_before = stored_blocks(data)
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="full", Key="huge", Body=os.urandom(80 * MiB))
        err = e.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] in (500, 503), err
        assert err["Error"]["Code"] in (
            "ServiceUnavailable",
            "SlowDown",
            "InternalError",
        )
        with pytest.raises(ClientError):
            s3.head_object(Bucket="full", Key="huge")
        # The refused upload's files go, and their space comes back (an I/O
        # thread may close a deleted file a moment after it is unlinked).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            stored_blocks(data) != files_before
            or shutil.disk_usage(small_fs).free < free_before - 2 * MiB
        ):
            time.sleep(0.1)
        assert stored_blocks(data) == files_before
        assert shutil.disk_usage(small_fs).free >= free_before - 2 * MiB
        assert s3.get_object(Bucket="full", Key="before")["Body"].read() == b"kept"
        s3.put_object(Bucket="full", Key="after", Body=b"still serving")
        assert (
            s3.get_object(Bucket="full", Key="after")["Body"].read() == b"still serving"
        )
    finally:
        gw.stop()
    assert_clean(data)


def test_small_bodies_stop_at_the_reserve_too(small_fs) -> None:
    """Small bodies are kept in the OM's database (inline blocks), which
    shares the disk: they are refused at the reserve like block writes, so
    a bucket of small objects cannot fill it; deletes still work and free
    their space for new writes."""
    data = os.path.join(small_fs, "data")
    gw = GatewayProcess(data, env=RESERVE).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="full")
        body = os.urandom(60 * 1024)
        stored = []
        with pytest.raises(ClientError) as e:
            for i in range(2000):  # ~117 MiB: more than the 48 MiB there is
                s3.put_object(Bucket="full", Key=f"k{i}", Body=body)
                stored.append(f"k{i}")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert e.value.response["Error"]["Code"] in ("ServiceUnavailable", "SlowDown")
        assert len(stored) > 100
        free = shutil.disk_usage(small_fs).free
        assert free >= 11 * MiB, free  # the reserve is kept
        for key in stored[:: max(1, len(stored) // 10)]:
            assert s3.get_object(Bucket="full", Key=key)["Body"].read() == body
        s3.delete_objects(
            Bucket="full",
            Delete={"Objects": [{"Key": k} for k in stored[:50]]},
        )
        s3.put_object(Bucket="full", Key="after", Body=body)
        assert s3.get_object(Bucket="full", Key="after")["Body"].read() == body
    finally:
        gw.stop()
    assert_clean(data)


def test_flipped_bit_fails_the_get(tmp_path) -> None:
    """A flipped bit in a stored chunk: GET answers 500 InternalError (XML)
    instead of corrupt bytes; other objects stay readable."""
    data = str(tmp_path / "data")
    gw = GatewayProcess(data).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="rot")
        s3.put_object(Bucket="rot", Key="victim", Body=os.urandom(200_000))
        (victim,) = stored_blocks(data)
        s3.put_object(Bucket="rot", Key="bystander", Body=b"fine")
        from ozs3.storage.datanode.store import LocalBlockStore

        path = LocalBlockStore(os.path.join(data, "hdds"), 4 * MiB, 16384,
                               "CRC32").block_path(victim)  # fmt: skip
        flip_bits(path, 100_000, 0x10)
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket="rot", Key="victim")["Body"].read()
        assert e.value.response["Error"]["Code"] == "InternalError"
        assert s3.get_object(Bucket="rot", Key="bystander")["Body"].read() == b"fine"
    finally:
        gw.stop()


def _code(e: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


def test_full_disk_still_frees_space_commits_metadata_and_restarts(
    tmp_path,
) -> None:
    """A 64 MiB file system filled by PUTs (refused with 503 once only the
    reserve is left): DeleteObject, DeleteObjects, CompleteMultipartUpload
    and CreateBucket still work (metadata fits in the reserve), and a
    restarted gateway starts.  Filled to the last byte by someone else:
    reads work, metadata writes answer 503 (never 500), the stop records no
    clean-shutdown marker (writing it failed), and once space is back the
    gateway starts and serves."""
    with _tmpfs(str(tmp_path / "fs"), "64m") as data:  # the log stays outside
        gw = GatewayProcess(data, env=RESERVE).start()
        try:
            s3 = make_client(gw.endpoint)
            s3.create_bucket(Bucket="full")
            s3.put_object(Bucket="full", Key="keep", Body=b"kept")
            mp = s3.create_multipart_upload(Bucket="full", Key="mp")["UploadId"]
            part = os.urandom(5 * MiB)
            etag = s3.upload_part(Bucket="full", Key="mp", UploadId=mp,
                                  PartNumber=1, Body=part)["ETag"]  # fmt: skip
            stored = []
            with pytest.raises(ClientError) as e:
                for i in range(30):
                    s3.put_object(Bucket="full", Key=f"fill/{i}",
                                  Body=os.urandom(4 * MiB))  # fmt: skip
                    stored.append(f"fill/{i}")
            assert _code(e) == (503, "ServiceUnavailable"), e.value.response
            assert len(stored) >= 4
            assert shutil.disk_usage(data).free >= 8 * MiB  # the reserve held
            with pytest.raises(ClientError) as e:
                s3.put_object(Bucket="full", Key="more", Body=os.urandom(4 * MiB))
            assert _code(e) == (503, "ServiceUnavailable")
            # Metadata fits in the reserve: none of these is refused.
            done = s3.complete_multipart_upload(
                Bucket="full", Key="mp", UploadId=mp,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
            )  # fmt: skip
            assert done["ResponseMetadata"]["HTTPStatusCode"] == 200
            s3.create_bucket(Bucket="made-when-full")
            s3.delete_object(Bucket="full", Key=stored[0])
            gone = s3.delete_objects(Bucket="full", Delete={"Objects": [
                {"Key": stored[1]}, {"Key": stored[2]}]})  # fmt: skip
            assert len(gone["Deleted"]) == 2 and not gone.get("Errors")
        finally:
            gw.stop()
        gw = GatewayProcess(data, env=RESERVE).start()  # a restart when full
        try:
            s3 = make_client(gw.endpoint)
            assert s3.get_object(Bucket="full", Key="keep")["Body"].read() == b"kept"
            assert s3.get_object(Bucket="full", Key="mp")["Body"].read() == part
            s3.head_bucket(Bucket="made-when-full")
            # The deletes freed space: writes work again.
            deadline = time.monotonic() + 30
            while True:
                try:
                    s3.put_object(Bucket="full", Key="after", Body=os.urandom(MiB))
                    break
                except ClientError as e:
                    assert e.response["Error"]["Code"] == "ServiceUnavailable"
                    assert time.monotonic() < deadline, "space never came back"
                    time.sleep(0.2)
            # Now someone else takes every last byte.
            filler = os.path.join(data, "filler")
            with open(filler, "wb") as f, contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * MiB)
                    f.flush()
            assert s3.get_object(Bucket="full", Key="keep")["Body"].read() == b"kept"
            for attempt in (
                lambda: s3.delete_object(Bucket="full", Key=stored[3]),
                lambda: s3.create_bucket(Bucket="made-when-very-full"),
            ):
                try:
                    attempt()
                except ClientError as e:
                    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                    assert e.response["Error"]["Code"] == "ServiceUnavailable"
        finally:
            gw.stop()
        assert not [n for n in os.listdir(os.path.join(data, "om"))
                    if n.startswith("clean-shutdown")]  # fmt: skip
        gw = GatewayProcess(data, env=RESERVE).start()
        try:
            s3 = make_client(gw.endpoint)
            assert s3.get_object(Bucket="full", Key="keep")["Body"].read() == b"kept"
        finally:
            gw.stop()
        os.unlink(filler)
        gw = GatewayProcess(data, env=RESERVE).start()
        try:
            s3 = make_client(gw.endpoint)
            assert s3.get_object(Bucket="full", Key="keep")["Body"].read() == b"kept"
        finally:
            gw.stop()
        assert not gw.tracebacks(), gw.log()
        assert_clean(data)
