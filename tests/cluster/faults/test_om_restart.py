"""The OM restarted (SIGKILL, then started again) in the middle of long
uploads: each upload either completes, byte-exact, or fails with a
retryable S3 error (503); none ever commits a partial key, and the same
gateway process serves again once the OM is back."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import threading
import time

import pytest

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess

from ..conftest import Cluster, new_bucket_name
from .conftest import RESTORE_TIMEOUT, daemon_pid, start_what_is_down
from .test_write_failover import sha256_of, streamed_put

MiB = 1024 * 1024
SIZE = 48 * MiB


def restart_om(cluster: Cluster) -> None:
    pid = daemon_pid(cluster, "om")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while daemon_pid(cluster, "om") is not None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    start_what_is_down(cluster)


def test_uploads_across_an_om_restart(
    restored_cluster: Cluster,
    gateway: GatewayProcess,
    bucket_names,
) -> None:
    s3 = make_client(gateway.endpoint)
    bucket = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=bucket)
    results: dict[str, tuple[int, bytes, bytes]] = {}
    midway = threading.Event()
    restarted = threading.Event()

    def restarter() -> None:
        # Once the first upload is 8 MiB in; every upload keeps sending.
        midway.wait(120)
        restart_om(restored_cluster)
        restarted.set()

    def upload(key: str) -> None:
        results[key] = streamed_put(gateway, f"/{bucket}/{key}", SIZE, 8 * MiB,
                                    midway.set)  # fmt: skip

    threads = [threading.Thread(target=restarter)] + [
        threading.Thread(target=upload, args=(f"k{i}",)) for i in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(RESTORE_TIMEOUT + 120)
    assert restarted.is_set() and len(results) == 3, results
    for key, (status, body, sent) in results.items():
        if status == 200:
            assert sha256_of(s3, bucket, key) == sent, key
            continue
        # Refused: retryable, and nothing of it is visible.
        code = re.search(rb"<Code>([^<]*)</Code>", body)
        assert status == 503 and code is not None, (key, status, body[:500])
        assert code.group(1) in (b"ServiceUnavailable", b"SlowDown"), body[:500]
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        assert key not in [o["Key"] for o in listed], (key, listed)
    # The same gateway serves again.
    data = os.urandom(MiB)
    s3.put_object(Bucket=bucket, Key="after", Body=data)
    got = s3.get_object(Bucket=bucket, Key="after")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert gateway.proc.poll() is None  # type: ignore[union-attr]


@pytest.fixture(autouse=True)
def _om_back(restored_cluster: Cluster):  # type: ignore[no-untyped-def]
    yield
    assert daemon_pid(restored_cluster, "om") is not None
