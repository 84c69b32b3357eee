"""Reads on a cluster of three datanodes (keys RATIS/THREE) when a replica
fails: a stopped datanode, or a replica whose bytes no longer match their
checksums.  The GET still answers the object byte-exact from another
replica; only when no replica holds good bytes does it fail, and then it
never answers wrong bytes.

Stops are SIGSTOP/SIGCONT of one datanode JVM for a few seconds (shorter
than Ratis' 10 s step-down threshold); corruption flips bytes in the
replica's block file (``<localID>.block`` under the datanode's data
directory), which the datanode serves as they are.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ResponseStreamingError

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess

from ..conftest import Cluster, new_bucket_name
from .conftest import DEADLINE, cluster_dir, datanodes, paused

MiB = 1024 * 1024
SLACK = 3.0


@pytest.fixture
def s3(fault_gateway: GatewayProcess) -> Any:
    return make_client(fault_gateway.endpoint)


def block_files(cluster: Cluster, name: str, bucket: str, key: str) -> list[Path]:
    """The block files of ``key`` on datanode ``name``."""
    info: Any = cluster.ozone_sh_json("key", "info", f"/s3v/{bucket}/{key}")
    local_ids = {str(loc["localID"]) for loc in info["ozoneKeyLocations"]}
    data = cluster_dir(cluster) / name / "data"
    found = [p for p in data.rglob("*.block") if p.stem in local_ids]
    assert len(found) == len(local_ids), (name, local_ids, found)
    return found


def corrupt(path: Path) -> None:
    """Flip 16 bytes in the middle of the block file."""
    with path.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(size // 2)
        old = f.read(16)
        f.seek(size // 2)
        f.write(bytes(b ^ 0xFF for b in old))


def test_read_falls_back_past_a_stopped_replica(three: Cluster, s3, bucket_names):
    bucket = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(6 * MiB + 5)  # two blocks of the cluster's 4 MB
    s3.put_object(Bucket=bucket, Key="k", Body=data)
    attrs = s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=["StorageClass"]
    )
    assert attrs["StorageClass"] == "STANDARD"  # RATIS/THREE
    for name in datanodes(three):
        with paused(three, name):
            t0 = time.monotonic()
            got = s3.get_object(Bucket=bucket, Key="k")["Body"].read()
            took = time.monotonic() - t0
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), name
        # At most one deadline lost to the stopped replica per block fetch
        # (the two blocks are fetched in turn).
        assert took < 2 * DEADLINE + SLACK, (name, took)


def test_read_falls_back_past_corrupt_replicas(
    three: Cluster, fault_gateway: GatewayProcess, s3, bucket_names
):
    bucket = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=bucket)
    names = datanodes(three)[:3]
    objects = {f"good-on-{name}": os.urandom(MiB + 17) for name in names}
    objects["bad-everywhere"] = os.urandom(MiB + 17)
    for key, data in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    # Each key keeps one good replica (a different one each time): whichever
    # replica the gateway asks first, some keys make it go past corrupt ones.
    for key in objects:
        for name in names:
            if key != f"good-on-{name}":
                for path in block_files(three, name, bucket, key):
                    corrupt(path)
    for name in names:
        got = s3.get_object(Bucket=bucket, Key=f"good-on-{name}")["Body"].read()
        assert got == objects[f"good-on-{name}"], name
    # No good replica: never the corrupt bytes.  The damage is past the
    # first piece, so the headers are out and the body is cut short.
    with pytest.raises(ResponseStreamingError):
        s3.get_object(Bucket=bucket, Key="bad-everywhere")["Body"].read()
    log = fault_gateway.log()
    assert "read failed mid-body (checksum mismatch in" in log, log[-3000:]
