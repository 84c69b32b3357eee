"""Faults: a full disk (a small real tmpfs), and corrupted bytes on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess
from tests.support.storecheck import assert_clean, block_files

MiB = 1024 * 1024


@pytest.fixture
def small_fs(tmp_path) -> Iterator[str]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs (needs root): {r.stderr}")
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_refuses_cleanly_and_keeps_serving(small_fs) -> None:
    """On a full disk an upload gets a 503 S3 error with XML, nothing is
    committed, its space comes back, and the gateway goes on serving."""
    data = os.path.join(small_fs, "data")
    gw = GatewayProcess(data).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="full")
        s3.put_object(Bucket="full", Key="before", Body=b"kept")
        free_before = shutil.disk_usage(small_fs).free
        files_before = block_files(data)
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
        import time

        deadline = time.monotonic() + 10
        while block_files(data) != files_before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert block_files(data) == files_before
        assert shutil.disk_usage(small_fs).free >= free_before - 2 * MiB
        assert s3.get_object(Bucket="full", Key="before")["Body"].read() == b"kept"
        s3.put_object(Bucket="full", Key="after", Body=b"still serving")
        assert (
            s3.get_object(Bucket="full", Key="after")["Body"].read() == b"still serving"
        )
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
        s3.put_object(Bucket="rot", Key="bystander", Body=b"fine")
        (victim,) = sorted(block_files(data))[:1]
        from ozs3.storage.datanode.store import LocalBlockStore

        path = LocalBlockStore(os.path.join(data, "hdds"), 4 * MiB, 16384,
                               "CRC32").block_path(victim)  # fmt: skip
        with open(path, "r+b") as f:
            f.seek(100_000)
            byte = f.read(1)
            f.seek(100_000)
            f.write(bytes([byte[0] ^ 0x10]))
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket="rot", Key="victim")["Body"].read()
        assert e.value.response["Error"]["Code"] == "InternalError"
        assert s3.get_object(Bucket="rot", Key="bystander")["Body"].read() == b"fine"
    finally:
        gw.stop()
