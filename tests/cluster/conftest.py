"""Tests against a real Ozone cluster (compose/ozone-local/cluster).

The cluster's address lines (``name=value``, as ``cluster start`` prints them)
are read from the file named by ``OZS3_CLUSTER_INFO``, which ``tests/run.sh``
(the README's test command, and so CI) sets after starting a cluster of its
own; without it the cluster tests are skipped.  A file that names a cluster
that is down fails them.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import pytest_twisted

from ozs3.storage.errors import StorageError
from ozs3.storage.ozone.om_client import OMClient
from tests.support.gateway import GatewayProcess

CLUSTER_INFO = Path(os.environ.get("OZS3_CLUSTER_INFO") or "/nonexistent/ozs3-cluster")
# Set by tests/run.sh, which starts the cluster in the background while the
# tests that need none run first: a file that appears, holding the exit
# status of `cluster start`, once it has ended (its output is beside it, in
# start.log).
CLUSTER_STARTED = os.environ.get("OZS3_CLUSTER_STARTED")
# Resolving Ozone's jars from Maven on a fresh machine, then starting SCM,
# OM, three datanodes and s3g on two busy cores.
START_TIMEOUT = 1800.0


class Cluster:
    def __init__(self, info: dict[str, str]) -> None:
        self.info = info
        self.om_grpc = info["om_grpc"]

    def port(self, name: str) -> int:
        return int(self.info[name].rsplit(":", 1)[1])

    def ozone_sh(self, *args: str) -> str:
        """Run ``ozone sh ARGS`` against the cluster (a JVM: ~4 s); its stdout."""
        cmd = [*shlex.split(self.info["ozone_sh"]), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise AssertionError(
                f"{shlex.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}"
            )
        return done.stdout

    def ozone_sh_json(self, *args: str) -> object:
        return json.loads(self.ozone_sh(*args))


def _read_info(path: Path) -> dict[str, str]:
    info = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            info[name.strip()] = value.strip()
    return info


def _wait_for_start(started: Path) -> None:
    """Until the background ``cluster start`` has ended; a failure to start
    fails the cluster's tests with what it said."""
    deadline = time.monotonic() + START_TIMEOUT
    while not started.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the Ozone cluster has not started in {START_TIMEOUT:.0f} s")
        time.sleep(1)
    status = started.read_text().strip()
    if status != "0":
        log = started.with_name("start.log")
        said = log.read_text()[-3000:] if log.exists() else ""
        pytest.fail(f"`cluster start` exited {status}:\n{said}")


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    if CLUSTER_STARTED:
        _wait_for_start(Path(CLUSTER_STARTED))
    if not CLUSTER_INFO.exists():
        pytest.skip(
            "no Ozone cluster: OZS3_CLUSTER_INFO names no file (run "
            "`compose/ozone-local/cluster start DIR > FILE` and set OZS3_CLUSTER_INFO)"
        )
    info = _read_info(CLUSTER_INFO)
    c = Cluster(info)
    host, port = c.om_grpc.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        pytest.fail(f"{CLUSTER_INFO} names OM gRPC {c.om_grpc}, which is down: {e}")
    return c


@pytest_twisted.async_yield_fixture
async def om(cluster: Cluster) -> Iterator[OMClient]:
    from twisted.internet import reactor

    client = OMClient.connect(cluster.om_grpc, reactor, access_id="ozs3-test")
    await client.start()
    yield client
    await close(client)


@pytest_twisted.async_yield_fixture
async def bucket_names(om: OMClient) -> Iterator[list[str]]:
    """Unique bucket names (call ``new()``); every bucket named is emptied and
    deleted afterwards, whoever created it."""
    names: list[str] = []
    yield names
    for name in names:
        try:
            page = await om.list_keys(name, count=1000)
            if page.keys:
                await om.delete_keys(name, [k.name for k in page.keys])
            await om.delete_bucket(name)
        except StorageError:
            pass


async def close(client: OMClient) -> None:
    closing = client.close()
    if closing is not None:
        await closing


def new_bucket_name(names: list[str]) -> str:
    name = f"ozs3t-{uuid.uuid4().hex[:12]}"
    names.append(name)
    return name


def cluster_gateway_process(
    cluster: Cluster, base: Path, args: Sequence[str] = (), **env: str
) -> GatewayProcess:
    """ozs3 fronting ``cluster``: ``--config`` the cluster's ozone-site.xml, as a
    user runs it (its own data directory for the audit log, free ports)."""
    return GatewayProcess(
        str(base / "data"),
        args=["--config", cluster.info["ozone_site"], *args],
        env=dict(env),
    )


@pytest.fixture(scope="module")
def ozs3_gateway(
    cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """The real gateway process fronting the cluster (one per module)."""
    gw = cluster_gateway_process(cluster, tmp_path_factory.mktemp("gw-cluster"))
    gw.start(timeout=60)
    assert "fronting the Ozone cluster" in gw.log(), gw.log()
    yield gw
    code = gw.stop()
    assert code in (0, -15), gw.log()
    assert not gw.tracebacks(), gw.log()
