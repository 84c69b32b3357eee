"""Fault tests against the shared test cluster: they pause its daemons, so

- they run after every other test of the session (the hook below moves this
  directory's tests to the end, whatever else is collected);
- each pause is undone in a ``finally`` (``paused``), and the module's
  ``restored_cluster`` fixture, on the way out, resumes every daemon of the
  cluster whatever happened, restarts any that died (``cluster start DIR``
  starts only those) and waits until the cluster writes and reads a key
  again through its own S3 gateway.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess

from ..conftest import Cluster, cluster_gateway_process

HERE = Path(__file__).parent
# The gateway's ozone.s3g.cluster.rpc.timeout in these tests.
DEADLINE = 5.0
RESTORE_TIMEOUT = 300.0
GROWS_CLUSTER = "test_ec.py"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mine = [item for item in items if HERE in Path(item.path).parents]
    if mine:
        rest = [item for item in items if HERE not in Path(item.path).parents]
        # The EC tests grow the cluster to five datanodes: last of all.
        mine.sort(key=lambda item: Path(item.path).name == GROWS_CLUSTER)
        items[:] = rest + mine


def cluster_dir(cluster: Cluster) -> Path:
    return Path(cluster.info["ozone_site"]).parent


def daemon_names(cluster: Cluster) -> list[str]:
    return sorted(p.stem for p in (cluster_dir(cluster) / "pids").glob("*.pid"))


def daemon_pid(cluster: Cluster, name: str) -> int | None:
    """The pid of the cluster's daemon ``name`` if it runs (checked as the
    cluster script checks it: the JVM's command line names the cluster dir
    and the daemon), else None."""
    path = cluster_dir(cluster) / "pids" / f"{name}.pid"
    try:
        pid = int(path.read_text().strip())
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    want = {
        f"-Dozs3.cluster.dir={cluster_dir(cluster)}".encode(),
        f"-Dozs3.daemon={name}".encode(),
    }
    return pid if want <= set(args) else None


def datanodes(cluster: Cluster) -> list[str]:
    return [n for n in daemon_names(cluster) if n.startswith("dn")]


def start_what_is_down(cluster: Cluster) -> None:
    """``cluster start DIR``: it starts the daemons that are not running."""
    script = shlex.split(cluster.info["ozone"])[0]
    subprocess.run(
        [script, "start", str(cluster_dir(cluster))],
        stdout=subprocess.DEVNULL,
        timeout=RESTORE_TIMEOUT,
        check=True,
    )


@pytest.fixture
def three(restored_cluster: Cluster) -> Cluster:
    """The cluster, if it has three datanodes (keys RATIS/THREE)."""
    if len(datanodes(restored_cluster)) < 3:
        pytest.skip("needs a cluster of three datanodes (cluster start --datanodes 3)")
    return restored_cluster


def process_state(pid: int) -> str:
    """R, S, T (stopped), ... from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


@contextlib.contextmanager
def paused(cluster: Cluster, name: str) -> Iterator[int]:
    """SIGSTOP the daemon ``name`` for the block; SIGCONT whatever happens."""
    pid = daemon_pid(cluster, name)
    assert pid is not None, f"{name} is not running"
    os.kill(pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 5
        while process_state(pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process_state(pid) == "T", f"{name} ({pid}) did not stop"
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def s3g_round_trip(s3g: Any, bucket: str) -> None:
    key = f"probe-{uuid.uuid4().hex[:8]}"
    data = os.urandom(64 * 1024)
    s3g.put_object(Bucket=bucket, Key=key, Body=data)
    assert s3g.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    s3g.delete_object(Bucket=bucket, Key=key)


def wait_writable(s3g: Any, bucket: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            s3g_round_trip(s3g, bucket)
            return
        except Exception as e:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the cluster does not write a key {timeout:.0f} s after the "
                    f"faults: {e!r}"
                ) from e
            time.sleep(1)


@pytest.fixture(scope="module")
def probe_bucket(cluster: Cluster) -> Iterator[tuple[Any, str]]:
    """A bucket of Ozone's own S3 gateway (a client and its name) to check
    the cluster with."""
    s3g: Any = make_client(cluster.info["s3g"])
    probe = f"ozs3t-probe-{uuid.uuid4().hex[:8]}"
    s3g.create_bucket(Bucket=probe)
    yield s3g, probe
    s3g.delete_bucket(Bucket=probe)


@pytest.fixture(scope="module")
def restored_cluster(
    cluster: Cluster, probe_bucket: tuple[Any, str]
) -> Iterator[Cluster]:
    """The cluster, checked whole before the faults and made whole after."""
    names = daemon_names(cluster)
    for name in names:
        pid = daemon_pid(cluster, name)
        assert pid is not None, f"cluster daemon {name} is not running"
        assert process_state(pid) != "T", f"cluster daemon {name} is stopped"
    s3g, probe = probe_bucket
    s3g_round_trip(s3g, probe)
    try:
        yield cluster
    finally:
        dead = []
        for name in names:
            pid = daemon_pid(cluster, name)
            if pid is None:
                dead.append(name)
            else:
                os.kill(pid, signal.SIGCONT)
        if dead:
            start_what_is_down(cluster)
        wait_writable(s3g, probe, RESTORE_TIMEOUT)
        assert not dead, f"daemons died during the faults (restarted): {dead}"


@pytest.fixture(autouse=True)
def cluster_writable(
    restored_cluster: Cluster, probe_bucket: tuple[Any, str]
) -> Cluster:
    """Each test starts on a cluster that writes (a test that failed in a
    pause leaves a Raft group electing its leader for a few seconds)."""
    wait_writable(*probe_bucket, timeout=RESTORE_TIMEOUT)
    return restored_cluster


@pytest.fixture(scope="module")
def fault_gateway(
    restored_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """ozs3 fronting the cluster with a short RPC deadline (DEADLINE s)."""
    gw = cluster_gateway_process(
        restored_cluster,
        tmp_path_factory.mktemp("gw-faults"),
        **{"OZONE-SITE.XML_ozone.s3g.cluster.rpc.timeout": f"{DEADLINE:g}s"},
    )
    gw.start(timeout=60)
    yield gw
    code = gw.stop()
    assert code in (0, -15), gw.log()
    # An error the faults caused that ozs3 did not expect (a 500 InternalError)
    # leaves a traceback in its log.
    assert not gw.tracebacks(), gw.log()


@pytest.fixture(scope="module")
def gateway(restored_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """ozs3 with its default deadline (a leader election must fit in it)."""
    gw = cluster_gateway_process(
        restored_cluster, tmp_path_factory.mktemp("gw-failover")
    )
    gw.start(timeout=60)
    yield gw
    code = gw.stop()
    assert code in (0, -15), gw.log()
    assert not gw.tracebacks(), gw.log()
