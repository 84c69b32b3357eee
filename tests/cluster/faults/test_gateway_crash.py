"""The gateway SIGKILLed again and again in front of a cluster (the crash
torture of tests/integration/test_torture.py, on the cluster backend):
concurrent PUTs, overwrites, deletes and multipart uploads, 20 kills.

After every restart each key holds its acknowledged version, or one that was
in flight at the kill, never a mix; listings agree with the objects.  At the
end, the only open keys the OM still holds in the bucket are those of writes
that were cut off (at most one per worker per kill), which the OM's open-key
cleanup reclaims: an acknowledged write leaves none.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import uuid
from pathlib import Path

from tests.integration.test_torture import KILLS, run_torture
from tests.support.gateway import GatewayProcess

from ..conftest import Cluster, cluster_gateway_process
from .conftest import RESTORE_TIMEOUT

WORKERS = 4


def open_keys(cluster: Cluster, bucket: str) -> list[object]:
    """The OM's open keys under the bucket (``ozone admin om lof``)."""
    cmd = [*shlex.split(cluster.info["ozone"]), "admin", "om", "list-open-files",
           f"--service-host={cluster.info['om']}", "--json",
           f"--prefix=/s3v/{bucket}/", "--length=10000"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=RESTORE_TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    listed = json.loads(done.stdout)
    assert not listed["hasMore"], listed
    return list(listed["openKeys"])


def test_gateway_killed_20_times_over_a_cluster(
    restored_cluster: Cluster, tmp_path: Path, bucket_names: list[str]
) -> None:
    bucket = f"ozs3t-torture-{uuid.uuid4().hex[:8]}"
    bucket_names.append(bucket)

    def start() -> GatewayProcess:
        gw = cluster_gateway_process(restored_cluster, tmp_path)
        return gw.start(timeout=60)

    gw = run_torture(start, bucket)
    try:
        left = open_keys(restored_cluster, bucket)
        # Cut-off writes only: a worker's one write in flight at each kill
        # (a multipart upload's part, or a key).
        assert len(left) <= KILLS * WORKERS, left
    finally:
        gw.stop()
    assert not gw.tracebacks(), gw.log()
