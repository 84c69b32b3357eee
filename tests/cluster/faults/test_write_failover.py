"""Uploads on a cluster of three datanodes (RATIS/THREE) that outlive a
failure under them:

- the containers being written are closed mid-upload (as SCM closes them
  when full or when a pipeline goes): the block is ended where its
  datanodes acknowledged it and the rest goes to a new block allocated with
  the closed container and pipeline in the ExcludeList;
- the Ratis leader of the pipeline is killed (SIGKILL) mid-upload: the
  unanswered writes are sent again to the new leader, the upload succeeds,
  and the object reads back byte-exact while that datanode is down, and
  again once it is back.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess

from ..conftest import Cluster, new_bucket_name
from .conftest import (
    cluster_dir,
    daemon_pid,
    datanodes,
    start_what_is_down,
)

MiB = 1024 * 1024
PIECE = MiB


def ozone(cluster: Cluster, *args: str) -> str:
    cmd = [*shlex.split(cluster.info["ozone"]), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (cmd, done.stderr[-2000:])
    return done.stdout


def datanode_uuid(cluster: Cluster, name: str) -> str:
    text = (cluster_dir(cluster) / name / "meta" / "datanode.id").read_text()
    m = re.search(r"uuid: (\S+)", text)
    assert m, text
    return m.group(1)


def three_way_pipeline_leader(cluster: Cluster) -> str:
    """The daemon name of the datanode leading the open RATIS/THREE pipeline."""
    pipelines = json.loads(ozone(cluster, "admin", "pipeline", "list", "--json"))
    leaders = [
        p["leaderId"]["uuid"]
        for p in pipelines
        if p["replicationConfig"].get("replicationFactor") == "THREE"
        and p["pipelineState"] == "OPEN"
    ]
    assert len(leaders) == 1, pipelines
    by_uuid = {datanode_uuid(cluster, n): n for n in datanodes(cluster)}
    return by_uuid[leaders[0]]


def close_open_containers(cluster: Cluster) -> list[int]:
    """Close every open RATIS/THREE container; their ids."""
    listed = json.loads(ozone(cluster, "admin", "container", "list", "--state=OPEN"))
    ids = [
        c["containerID"]
        for c in listed
        if c["replicationConfig"].get("replicationFactor") == "THREE"
    ]
    for cid in ids:
        ozone(cluster, "admin", "container", "close", str(cid))
    # SCM tells the datanodes at their next heartbeat: wait until they have
    # closed them, so the upload's next writes meet closed containers.
    deadline = time.monotonic() + 60
    while True:
        # SCM marks them CLOSED when the datanodes report they are.
        closed = json.loads(
            ozone(cluster, "admin", "container", "list", "--state=CLOSED")
        )
        if set(ids) <= {c["containerID"] for c in closed}:
            return ids
        assert time.monotonic() < deadline, closed
        time.sleep(1)


def streamed_put(
    gw: GatewayProcess, path: str, size: int, at: int, fault: Callable[[], None]
) -> tuple[int, bytes, bytes]:
    """PUT ``size`` random bytes a piece at a time, calling ``fault`` once
    ``at`` bytes are sent; (status, body, sha256 of what was sent)."""
    digest = hashlib.sha256()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=300)
    try:
        conn.putrequest("PUT", path)
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        sent = 0
        while sent < size:
            piece = os.urandom(min(PIECE, size - sent))
            conn.send(piece)
            digest.update(piece)
            sent += len(piece)
            if sent == at:
                fault()
        r = conn.getresponse()
        return r.status, r.read(), digest.digest()
    finally:
        conn.close()


def sha256_of(s3: Any, bucket: str, key: str) -> bytes:
    digest = hashlib.sha256()
    for piece in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(MiB):
        digest.update(piece)
    return digest.digest()


def test_upload_survives_its_containers_closing(
    three: Cluster, gateway: GatewayProcess, bucket_names
):
    s3 = make_client(gateway.endpoint)
    bucket = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=bucket)
    closed: list[int] = []
    status, body, sent = streamed_put(
        gateway, f"/{bucket}/k", 48 * MiB, 18 * MiB,
        lambda: closed.extend(close_open_containers(three)),
    )  # fmt: skip
    assert status == 200, body
    assert closed
    assert sha256_of(s3, bucket, "k") == sent
    info: Any = three.ozone_sh_json("key", "info", f"/s3v/{bucket}/k")
    containers = {loc["containerID"] for loc in info["ozoneKeyLocations"]}
    # Blocks before the close in a closed container, the rest in new ones.
    assert containers & set(closed) and containers - set(closed), (containers, closed)
    assert "go to a new block" in gateway.log()


def test_upload_survives_its_pipeline_leader_killed(
    three: Cluster, gateway: GatewayProcess, bucket_names
):
    s3 = make_client(gateway.endpoint)
    bucket = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="warm", Body=b"w")  # a pipeline in use
    victim = three_way_pipeline_leader(three)
    pid = daemon_pid(three, victim)
    assert pid is not None
    t0 = time.monotonic()
    status, body, sent = streamed_put(
        gateway, f"/{bucket}/big", 256 * MiB, 64 * MiB,
        lambda: os.kill(pid, signal.SIGKILL),
    )  # fmt: skip
    took = time.monotonic() - t0
    assert status == 200, body
    assert daemon_pid(three, victim) is None  # still down
    assert sha256_of(s3, bucket, "big") == sent, took
    # The writes in flight when the leader died went to another peer.
    assert "unanswered writes go to" in gateway.log()
    # Back: the cluster script starts only what is down.
    start_what_is_down(three)
    assert daemon_pid(three, victim) is not None
    assert sha256_of(s3, bucket, "big") == sent
