"""SIGKILL in the middle of uploads: committed objects survive intact, the
interrupted ones never appear, and start-up reclaims every orphaned block."""

from __future__ import annotations

import hashlib
import os
import socket
import time

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess
from tests.support.storecheck import assert_clean, block_files

MiB = 1024 * 1024


def _start_partial_upload(
    port: int, path: str, declared: int, send: int
) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n"
              .encode())  # fmt: skip
    chunk = os.urandom(MiB)
    for _ in range(send // MiB):
        s.sendall(chunk)
    return s


@pytest.mark.parametrize("reactor", ["default", "asyncio"])
def test_sigkill_mid_upload_then_restart(tmp_path, reactor: str) -> None:
    data = str(tmp_path / "data")
    gw = GatewayProcess(data, reactor=reactor).start()
    s3 = make_client(gw.endpoint)
    s3.create_bucket(Bucket="crash")
    committed = {}
    for i in range(5):
        body = os.urandom(i * 700_001 + 1)
        s3.put_object(Bucket="crash", Key=f"kept/{i}", Body=body)
        committed[f"kept/{i}"] = hashlib.md5(body).hexdigest()
    # An overwrite and a new key, both cut off mid-body by the kill.
    socks = [
        _start_partial_upload(gw.port, "/crash/kept/0", 64 * MiB, 20 * MiB),
        _start_partial_upload(gw.port, "/crash/never", 300 * MiB, 40 * MiB),
    ]
    time.sleep(1.0)  # let the datanode write some chunks
    gw.kill()
    for s in socks:
        s.close()
    # Partial blocks of the interrupted uploads are on disk now.
    assert len(block_files(data)) > len(committed) - 1

    gw2 = GatewayProcess(data, reactor=reactor).start()
    try:
        s3 = make_client(gw2.endpoint)
        listed = {c["Key"]: c["ETag"].strip('"')
                  for c in s3.list_objects_v2(Bucket="crash")["Contents"]}  # fmt: skip
        assert listed == committed
        for key, md5 in committed.items():
            got = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            assert hashlib.md5(got).hexdigest() == md5
        with pytest.raises(ClientError):
            s3.head_object(Bucket="crash", Key="never")
    finally:
        gw2.stop()
    assert not gw2.tracebacks(), gw2.log()
    assert_clean(data)
