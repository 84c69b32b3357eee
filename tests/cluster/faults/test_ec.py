"""EC keys (STANDARD_IA: EC rs-3-2-1024k) on a real cluster of five
datanodes: written by ozs3 and read by Ozone's own Java client, written by
it and read by ozs3, byte-exact; and read through ozs3 (and Java) with the
datanode holding a group's first data cell killed (its cells rebuilt from
the other four), and again once it is back.

The session's cluster has three datanodes for the other tests; the module
grows it to five (``cluster start DIR --datanodes 5`` starts the two new
ones), which is why the directory's hook runs it last of all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess

from ..conftest import Cluster, new_bucket_name
from .conftest import (
    RESTORE_TIMEOUT,
    cluster_dir,
    daemon_pid,
    datanodes,
    start_what_is_down,
)
from .test_write_failover import datanode_uuid, ozone

MiB = 1024 * 1024
# Two block groups of the test cluster (4 MiB blocks: 12 MiB a group), the
# second ending in a short stripe.
SIZE = 13 * MiB + 12345


@pytest.fixture(scope="module")
def five(restored_cluster: Cluster) -> Cluster:
    if len(datanodes(restored_cluster)) < 5:
        script = shlex.split(restored_cluster.info["ozone"])[0]
        subprocess.run(
            [script, "start", str(cluster_dir(restored_cluster)), "--datanodes", "5"],
            stdout=subprocess.DEVNULL,
            timeout=RESTORE_TIMEOUT,
            check=True,
        )
    assert len(datanodes(restored_cluster)) >= 5
    return restored_cluster


@pytest.fixture(scope="module")
def s3(five: Cluster, ozs3_gateway: GatewayProcess) -> Any:
    return make_client(ozs3_gateway.endpoint)


@pytest.fixture
def bucket(s3: Any, bucket_names: list[str]) -> str:
    """A bucket of ozs3's, once the cluster writes EC keys: the two new
    datanodes register with SCM within a minute or so; until then SCM
    counts three and ozs3 answers 501 (or 503 while they register)."""
    name = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=name)
    deadline = time.monotonic() + RESTORE_TIMEOUT
    while True:
        try:
            s3.put_object(Bucket=name, Key="probe", Body=b"p",
                          StorageClass="STANDARD_IA")  # fmt: skip
            break
        except ClientError as e:
            code = e.response["ResponseMetadata"]["HTTPStatusCode"]
            if code not in (501, 503) or time.monotonic() > deadline:
                raise
            time.sleep(2)
    s3.delete_object(Bucket=name, Key="probe")
    return name


def key_info(cluster: Cluster, bucket: str, key: str) -> dict[str, Any]:
    return json.loads(ozone(cluster, "sh", "key", "info", f"s3v/{bucket}/{key}"))


def java_get(cluster: Cluster, bucket: str, key: str, path: Path) -> bytes:
    path.unlink(missing_ok=True)
    ozone(cluster, "sh", "key", "get", f"s3v/{bucket}/{key}", str(path))
    return path.read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_ec_keys_written_by_either_client_read_by_the_other(
    five: Cluster, s3: Any, bucket: str, bucket_names: list[str], tmp_path: Path
) -> None:
    data = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="put", Body=data, StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="put")["StorageClass"] == "STANDARD_IA"
    info = key_info(five, bucket, "put")
    repl = info["replicationConfig"]
    assert (repl["replicationType"], repl["data"], repl["parity"]) == ("EC", 3, 2)
    assert repl["ecChunkSize"] == MiB
    assert [loc["length"] for loc in info["ozoneKeyLocations"]] == [
        12 * MiB,
        SIZE - 12 * MiB,
    ]
    assert sha(java_get(five, bucket, "put", tmp_path / "put")) == sha(data)

    # A multipart upload (parts of their own groups, the last a short one).
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 1), os.urandom(MiB + 7)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="STANDARD_IA")
    etags = [
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                       PartNumber=n, Body=body)["ETag"]
        for n, body in enumerate(parts, 1)
    ]  # fmt: skip
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                   for n, e in enumerate(etags, 1)]},
    )  # fmt: skip
    whole = b"".join(parts)
    assert sha(java_get(five, bucket, "mp", tmp_path / "mp")) == sha(whole)
    assert sha(s3.get_object(Bucket=bucket, Key="mp")["Body"].read()) == sha(whole)
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read()
    assert sha(second) == sha(parts[1])

    # Written by Ozone's Java client, read by ozs3: whole and in ranges
    # across cells, stripes and groups.
    java_data = os.urandom(SIZE - 4321)
    (tmp_path / "java").write_bytes(java_data)
    ozone(five, "sh", "key", "put", "--type", "EC", "--replication", "rs-3-2-1024k",
          f"s3v/{bucket}/java", str(tmp_path / "java"))  # fmt: skip
    assert s3.head_object(Bucket=bucket, Key="java")["StorageClass"] == "STANDARD_IA"
    got = s3.get_object(Bucket=bucket, Key="java")["Body"].read()
    assert sha(got) == sha(java_data)
    for lo, hi in [(0, 0), (MiB - 3, MiB + 3), (3 * MiB - 1, 7 * MiB),
                   (12 * MiB - 10, 12 * MiB + 10), (SIZE - 4321 - 5, SIZE - 4321 - 1)]:  # fmt: skip
        ranged = s3.get_object(Bucket=bucket, Key="java", Range=f"bytes={lo}-{hi}")
        assert ranged["Body"].read() == java_data[lo : hi + 1], (lo, hi)

    # A bucket whose default replication is EC (made with ``ozone sh``):
    # keys written without a storage class are EC keys.
    ec_default = new_bucket_name(bucket_names)
    ozone(five, "sh", "bucket", "create", "--type", "EC", "--replication",
          "rs-3-2-1024k", f"s3v/{ec_default}")  # fmt: skip
    s3.put_object(Bucket=ec_default, Key="plain", Body=java_data)
    assert s3.head_object(Bucket=ec_default, Key="plain")["StorageClass"] == (
        "STANDARD_IA"
    )
    got = s3.get_object(Bucket=ec_default, Key="plain")["Body"].read()
    assert sha(got) == sha(java_data)

    # Copies: EC to EC, and EC to the default (RATIS/THREE).
    source = {"Bucket": bucket, "Key": "java"}
    s3.copy_object(Bucket=bucket, Key="copy-ec", CopySource=source,
                   StorageClass="STANDARD_IA")  # fmt: skip
    s3.copy_object(Bucket=bucket, Key="copy-std", CopySource=source,
                   StorageClass="STANDARD")  # fmt: skip
    for key, shown in [("copy-ec", "STANDARD_IA"), ("copy-std", None)]:
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head.get("StorageClass") == shown, key
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert sha(body) == sha(java_data), key
    assert sha(java_get(five, bucket, "copy-ec", tmp_path / "c")) == sha(java_data)


def replica_holder(cluster: Cluster, container: int, index: int) -> str:
    """The daemon name (dnN) of the datanode holding replica ``index`` of an
    EC container."""
    info = json.loads(ozone(cluster, "admin", "container", "info", str(container),
                            "--json"))  # fmt: skip
    [uuid] = [
        r["datanodeDetails"]["uuidString"]
        for r in info["replicas"]
        if r.get("replicaIndex") == index
    ]
    [name] = [n for n in datanodes(cluster) if datanode_uuid(cluster, n) == uuid]
    return name


def test_reads_rebuild_the_cells_of_a_killed_datanode(
    five: Cluster, ozs3_gateway: GatewayProcess, s3: Any, bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="degraded", Body=data, StorageClass="STANDARD_IA")
    first = key_info(five, bucket, "degraded")["ozoneKeyLocations"][0]
    victim = replica_holder(five, first["containerID"], 1)
    pid = daemon_pid(five, victim)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    try:
        got = s3.get_object(Bucket=bucket, Key="degraded")["Body"].read()
        assert sha(got) == sha(data)
        assert "replica 1 unreadable" in ozs3_gateway.log()
        # Ranges of the lost cells: the first cell, one across the first
        # stripe's cells, and the last bytes of the group.
        for lo, hi in [(0, 99), (MiB - 50, 2 * MiB + 50), (12 * MiB - 7, 12 * MiB)]:
            ranged = s3.get_object(Bucket=bucket, Key="degraded",
                                   Range=f"bytes={lo}-{hi}")["Body"].read()  # fmt: skip
            assert ranged == data[lo : hi + 1], (lo, hi)
        # Ozone's Java client reads the same bytes with that datanode down.
        assert sha(java_get(five, bucket, "degraded", tmp_path / "d")) == sha(data)
    finally:
        start_what_is_down(five)
    assert daemon_pid(five, victim) is not None
    got = s3.get_object(Bucket=bucket, Key="degraded")["Body"].read()
    assert sha(got) == sha(data)
