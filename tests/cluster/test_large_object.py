"""1 GiB through ozs3 into the cluster and back: one streamed PUT (no
multipart), one GET, verified by SHA-256 with the gateway's memory bounded.
The body is generated as it is sent and hashed as it arrives: the test never
holds more than a few MiB of it."""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import time
from collections.abc import Iterator

import pytest

from tests.support.gateway import GatewayProcess

from .conftest import Cluster, cluster_gateway_process, new_bucket_name

MiB = 1024 * 1024
SIZE = 1024 * MiB
PIECE = 4 * MiB
RSS_LIMIT = 150 * MiB

pytestmark = pytest.mark.slow


class RssOverLimit(AssertionError):
    pass


class PseudoRandomStream:
    """``size`` reproducible pseudo-random bytes, ``PIECE`` at a time, hashed
    (SHA-256 and MD5) as they are produced.  Piece i is a window of a random
    pool at an offset that differs for every piece, led by its index, so a
    piece lost, repeated or swapped changes the digest; slicing costs a copy,
    not a random generator's time."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.pool = random.Random(seed).randbytes(PIECE + 65_536)
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5()

    def __iter__(self) -> Iterator[bytes]:
        left, i = self.size, 0
        while left:
            offset = (i * 40_009) % 65_536
            n = min(left, PIECE)
            piece = i.to_bytes(8, "big") + self.pool[offset + 8 : offset + n]
            self.sha256.update(piece)
            self.md5.update(piece)
            yield piece
            left -= n
            i += 1


@pytest.fixture
def big_gateway(cluster: Cluster, tmp_path) -> Iterator[GatewayProcess]:
    gw = cluster_gateway_process(cluster, tmp_path).start(timeout=60)
    yield gw
    code = gw.stop()
    assert code in (0, -15), gw.log()
    assert not gw.tracebacks(), gw.log()


def test_1gib_streamed_put_and_get_sha256_bounded_rss(big_gateway, bucket_names):
    bucket = new_bucket_name(bucket_names)
    conn = http.client.HTTPConnection("127.0.0.1", big_gateway.port, timeout=120)
    conn.request("PUT", f"/{bucket}")
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b"")
    idle_rss = big_gateway.rss()

    stream = PseudoRandomStream(SIZE, seed=20261203)
    t0 = time.monotonic()
    conn.request(
        "PUT",
        f"/{bucket}/one-gib",
        body=iter(stream),
        headers={"Content-Length": str(SIZE)},
    )
    r = conn.getresponse()
    body = r.read()
    put_s = time.monotonic() - t0
    assert r.status == 200, body
    # The gateway's MD5 of what it received is the stream's.
    assert r.getheader("ETag") == f'"{stream.md5.hexdigest()}"'

    conn.request("HEAD", f"/{bucket}/one-gib")
    r = conn.getresponse()
    r.read()
    assert r.status == 200 and int(r.getheader("Content-Length", -1)) == SIZE

    t0 = time.monotonic()
    conn.request("GET", f"/{bucket}/one-gib")
    r = conn.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length", -1)) == SIZE
    got, n = hashlib.sha256(), 0
    while piece := r.read(PIECE):
        got.update(piece)
        n += len(piece)
    get_s = time.monotonic() - t0
    assert n == SIZE
    assert got.hexdigest() == stream.sha256.hexdigest()

    conn.request("DELETE", f"/{bucket}/one-gib")
    r = conn.getresponse()
    r.read()
    assert r.status == 204
    conn.close()
    # VmHWM over the gateway's whole life, start-up included.
    peak = big_gateway.peak_rss()
    print(
        f"\n1 GiB to the cluster: PUT {SIZE / put_s / 1e6:.0f} MB/s, "
        f"GET {SIZE / get_s / 1e6:.0f} MB/s; gateway RSS idle "
        f"{idle_rss / MiB:.0f} MiB, peak {peak / MiB:.0f} MiB"
    )
    if peak >= RSS_LIMIT:
        raise RssOverLimit(f"peak RSS {peak / MiB:.0f} MiB")


def test_workers_front_the_cluster_together(cluster: Cluster, tmp_path, bucket_names):
    """--workers 2 fronting the cluster: both workers serve (each connection
    may land on either), and what one writes the other reads."""
    gw = cluster_gateway_process(cluster, tmp_path, ["--workers", "2"]).start(60)
    try:
        # start() returns once the port answers (the first worker is up); the
        # supervisor says when every worker is.
        deadline = time.monotonic() + 60
        while "2 workers serving S3" not in gw.log():
            assert time.monotonic() < deadline, gw.log()
            time.sleep(0.1)
        assert gw.log().count("fronting the Ozone cluster") == 2, gw.log()
        bucket = new_bucket_name(bucket_names)
        body = os.urandom(100_000)
        for i in range(8):  # new connections: the kernel spreads them
            conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=60)
            if i == 0:
                conn.request("PUT", f"/{bucket}")
                assert conn.getresponse().read() == b""
            conn.request("PUT", f"/{bucket}/k{i}", body=body)
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, b"")
            conn.close()
        for i in range(8):
            conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=60)
            conn.request("GET", f"/{bucket}/k{i}")
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, body)
            conn.request("DELETE", f"/{bucket}/k{i}")
            assert conn.getresponse().status == 204
            conn.close()
    finally:
        code = gw.stop()
    assert code in (0, -15), gw.log()
    assert not gw.tracebacks(), gw.log()
