"""Big transfers through the real gateway: bytes intact, memory bounded."""

from __future__ import annotations

import hashlib
import http.client
import os
import random
from collections.abc import Iterator

import pytest
from boto3.s3.transfer import TransferConfig

from tests.integration.conftest import AwsCli, make_client
from tests.support.gateway import GatewayProcess

MiB = 1024 * 1024
RSS_LIMIT = 150 * MiB

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(str(tmp_path_factory.mktemp("big") / "data")).start()
    yield gw
    gw.stop()
    assert not gw.tracebacks(), gw.log()


def _random_file(path: str, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(left, 16 * MiB))
            digest.update(block)
            f.write(block)
            left -= len(block)
    return digest.hexdigest()


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(16 * MiB):
            digest.update(block)
    return digest.hexdigest()


def test_1gib_aws_cli_upload_and_parallel_download(big_gateway, tmp_path) -> None:
    """aws s3 cp uploads 1 GiB in one streamed PUT; boto3's parallel ranged
    download (If-Match on every part) brings back identical bytes, verified
    by SHA-256, with the gateway's peak RSS under 150 MiB."""
    src = str(tmp_path / "1g.bin")
    want = _random_file(src, 1024 * MiB)
    # One single streamed PUT, not multipart: the single-PUT path at scale.
    aws = AwsCli(big_gateway.endpoint, str(tmp_path), "    multipart_threshold = 6GB\n")
    aws("s3", "mb", "s3://big")
    big_gateway.reset_peak_rss()
    aws("s3", "cp", src, "s3://big/one-gib.bin")
    s3 = make_client(big_gateway.endpoint)
    head = s3.head_object(Bucket="big", Key="one-gib.bin")
    assert head["ContentLength"] == 1024 * MiB
    dst = str(tmp_path / "back.bin")
    s3.download_file(
        "big", "one-gib.bin", dst,
        Config=TransferConfig(multipart_chunksize=64 * MiB, max_concurrency=4),
    )  # fmt: skip
    assert _sha256_file(dst) == want
    peak = big_gateway.peak_rss()
    assert peak < RSS_LIMIT, f"peak RSS {peak / MiB:.0f} MiB"
    os.unlink(src)
    os.unlink(dst)


class _Stream:
    """2 GiB of reproducible pseudo-random bytes, generated as sent."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.md5 = hashlib.md5()

    def __iter__(self) -> Iterator[bytes]:
        left = self.size
        while left:
            block = self.rng.randbytes(min(left, 4 * MiB))
            self.md5.update(block)
            left -= len(block)
            yield block


def test_2gib_streamed_put_and_get_bounded_memory(big_gateway) -> None:
    """A 2 GiB PUT streams to the datanode and back out of it with the
    gateway's peak RSS under 150 MiB; the ETag and the bytes read match."""
    s3 = make_client(big_gateway.endpoint)
    s3.create_bucket(Bucket="stream")
    size = 2048 * MiB
    stream = _Stream(size, seed=7)
    big_gateway.reset_peak_rss()
    conn = http.client.HTTPConnection("127.0.0.1", big_gateway.port, timeout=120)
    conn.request("PUT", "/stream/two-gib", body=iter(stream),
                 headers={"Content-Length": str(size)})  # fmt: skip
    r = conn.getresponse()
    r.read()
    assert r.status == 200
    assert r.getheader("ETag") == f'"{stream.md5.hexdigest()}"'
    conn.request("GET", "/stream/two-gib")
    r = conn.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) == size
    got = hashlib.md5()
    while block := r.read(4 * MiB):
        got.update(block)
    conn.close()
    assert got.hexdigest() == stream.md5.hexdigest()
    peak = big_gateway.peak_rss()
    assert peak < RSS_LIMIT, f"peak RSS {peak / MiB:.0f} MiB"
    s3.delete_object(Bucket="stream", Key="two-gib")


def test_3gib_aws_cli_multipart_upload_and_download(big_gateway, tmp_path) -> None:
    """aws s3 cp of 3 GiB goes multipart with the CLI's default 8 MiB parts
    (384 parts, 10 at a time); the download (parallel ranged GETs) matches
    by SHA-256; peak RSS stays under 150 MiB.  Prints the throughput."""
    import time

    src = str(tmp_path / "3g.bin")
    want = _random_file(src, 3072 * MiB)
    aws = AwsCli(big_gateway.endpoint, str(tmp_path))
    aws("s3", "mb", "s3://multi")
    big_gateway.reset_peak_rss()
    t = time.perf_counter()
    aws("s3", "cp", src, "s3://multi/three-gib.bin")
    up = time.perf_counter() - t
    s3 = make_client(big_gateway.endpoint)
    head = s3.head_object(Bucket="multi", Key="three-gib.bin")
    assert head["ContentLength"] == 3072 * MiB
    assert head["ETag"].endswith('-384"')
    os.unlink(src)
    dst = str(tmp_path / "back.bin")
    t = time.perf_counter()
    aws("s3", "cp", "s3://multi/three-gib.bin", dst)
    down = time.perf_counter() - t
    assert _sha256_file(dst) == want
    peak = big_gateway.peak_rss()
    print(f"\n3 GiB multipart upload {3072 * MiB / up / 1e6:.0f} MB/s, "
          f"download {3072 * MiB / down / 1e6:.0f} MB/s, peak RSS {peak / MiB:.0f} MiB")  # fmt: skip
    assert peak < RSS_LIMIT, f"peak RSS {peak / MiB:.0f} MiB"
    os.unlink(dst)
