"""Crash torture: concurrent PUTs, overwrites, deletes and multipart uploads
while the gateway is SIGKILLed at random moments, again and again.

After every restart each key holds a version that was acknowledged or was in
flight at the kill (never a mix, never an older one), listings agree with
the objects, and at the end the block files on disk are exactly the blocks
the OM references, with exact reference counts.

``OZS3_TORTURE_KILLS`` sets the number of kills (20 by default; CI runs 20).
``run_torture`` serves the cluster backend's torture too
(tests/cluster/faults/test_gateway_crash.py).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess
from tests.support.storecheck import assert_clean

MiB = 1024 * 1024
KEYS = [f"k{i:02d}" for i in range(16)]
KILLS = int(os.environ.get("OZS3_TORTURE_KILLS", "20"))


class World:
    """What each key may hold: its last acknowledged version (None: absent)
    and whatever was in flight for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, str | None] = dict.fromkeys(KEYS)
        self.inflight: dict[str, set[str | None]] = {k: set() for k in KEYS}

    def possible(self, key: str) -> set[str | None]:
        return {self.acked[key], *self.inflight[key]}


def _worker(
    endpoint: str,
    bucket: str,
    world: World,
    stop: threading.Event,
    seed: int,
    keys: list[str],
) -> None:
    # Each worker owns its keys: one writer per key keeps "last acknowledged"
    # exact (two writers' acknowledgements may arrive out of commit order).
    rng = random.Random(seed)
    s3 = make_client(endpoint)
    while not stop.is_set():
        key = rng.choice(keys)
        kind = rng.random()
        body = rng.randbytes(rng.randint(0, 200_000)) if kind < 0.9 else b""
        version: str | None
        if kind < 0.75:
            version = hashlib.md5(body).hexdigest()
        elif kind < 0.9:
            version = None  # delete
        else:
            body = rng.randbytes(5 * MiB) + rng.randbytes(rng.randint(1, 1000))
            version = hashlib.md5(body).hexdigest()
        with world.lock:
            world.inflight[key].add(version)
        try:
            if version is None:
                s3.delete_object(Bucket=bucket, Key=key)
            elif kind < 0.75:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            else:
                uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
                parts = []
                for n, piece in ((1, body[: 5 * MiB]), (2, body[5 * MiB :])):
                    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid,
                                          PartNumber=n, Body=piece)["ETag"]  # fmt: skip
                    parts.append({"PartNumber": n, "ETag": etag})
                s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                             MultipartUpload={"Parts": parts})  # fmt: skip
        except (BotoCoreError, ClientError, OSError):
            return  # the gateway died under us: the version stays "in flight"
        with world.lock:
            world.acked[key] = version
            world.inflight[key].discard(version)


def _observe(s3, bucket: str, key: str) -> str | None:  # type: ignore[no-untyped-def]
    try:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchKey", e.response
        return None
    return hashlib.md5(data).hexdigest()


def run_torture(
    start: Callable[[], GatewayProcess], bucket: str, kills: int = KILLS
) -> GatewayProcess:
    """``kills`` cycles of workers writing to ``bucket`` through a gateway
    from ``start()``, SIGKILLed at a random moment, then checked after a
    restart.  The last gateway, still running."""
    rng = random.Random(1234)
    world = World()
    gw = start()
    make_client(gw.endpoint).create_bucket(Bucket=bucket)
    for cycle in range(kills):
        stop = threading.Event()
        workers = [threading.Thread(target=_worker, args=(gw.endpoint, bucket, world,
                                    stop, cycle * 10 + i, KEYS[i::4]))
                   for i in range(4)]  # fmt: skip
        for w in workers:
            w.start()
        time.sleep(rng.uniform(0.2, 1.2))
        gw.kill()
        stop.set()
        for w in workers:
            w.join(30)
        gw = start()
        s3 = make_client(gw.endpoint)
        listed = {c["Key"]: c["ETag"].strip('"') for c in
                  s3.list_objects_v2(Bucket=bucket).get("Contents", [])}  # fmt: skip
        for key in KEYS:
            actual = _observe(s3, bucket, key)
            assert actual in world.possible(key), (
                cycle,
                key,
                actual,
                world.possible(key),
            )
            if actual is None:
                assert key not in listed
            else:
                assert key in listed and listed[key].split("-")[0] and listed[key]
            world.acked[key] = actual
            world.inflight[key] = set()
        # Open multipart uploads of killed workers are fine; abort them so
        # the final audit sees a quiet store.
        for up in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(
                Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"]
            )
    return gw


def test_crash_torture(tmp_path) -> None:
    data = str(tmp_path / "data")
    gw = run_torture(lambda: GatewayProcess(data).start(), "torture")
    gw.stop()
    assert not gw.tracebacks(), gw.log()
    assert_clean(data)
