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
from tests.support.storecheck import assert_clean, stored_blocks

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
    assert len(stored_blocks(data)) > len(committed) - 1

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


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.5])
def test_sigkill_during_completes_and_copies(tmp_path, delay: float) -> None:
    """Kill the gateway while uploads of one key complete and copies run:
    after restart the key holds the old version or one whole new one, every
    upload not completed is still open (and completable), and the block
    reference counts match the OM's tables exactly."""
    import threading

    data = str(tmp_path / "data")
    gw = GatewayProcess(data).start()
    s3 = make_client(gw.endpoint)
    s3.create_bucket(Bucket="mpcrash")
    old = os.urandom(1000)
    s3.put_object(Bucket="mpcrash", Key="k", Body=old)
    versions = {hashlib.md5(old).hexdigest(): "old"}
    uploads = []
    for i in range(8):
        head, tail = os.urandom(5 * MiB), os.urandom(100 + i)
        uid = s3.create_multipart_upload(Bucket="mpcrash", Key="k")["UploadId"]
        parts = [
            {"PartNumber": n, "ETag": s3.upload_part(Bucket="mpcrash", Key="k",
             UploadId=uid, PartNumber=n, Body=body)["ETag"]}
            for n, body in ((1, head), (2, tail))
        ]  # fmt: skip
        versions[hashlib.md5(head + tail).hexdigest()] = uid
        uploads.append((uid, parts))
    done: list[str] = []

    def complete_all() -> None:
        for n, (uid, parts) in enumerate(uploads):
            try:
                s3.complete_multipart_upload(Bucket="mpcrash", Key="k", UploadId=uid,
                                             MultipartUpload={"Parts": parts})  # fmt: skip
                done.append(uid)
                s3.copy_object(Bucket="mpcrash", Key=f"copy{n}", CopySource="mpcrash/k")
            except Exception:
                return  # the gateway is gone

    t = threading.Thread(target=complete_all)
    t.start()
    time.sleep(delay)
    gw.kill()
    t.join()
    gw2 = GatewayProcess(data).start()
    try:
        s3 = make_client(gw2.endpoint)
        body = s3.get_object(Bucket="mpcrash", Key="k")["Body"].read()
        version = versions.get(hashlib.md5(body).hexdigest())
        assert version is not None, "the key holds a mix of versions"
        open_ids = {u["UploadId"] for u in
                    s3.list_multipart_uploads(Bucket="mpcrash").get("Uploads", [])}  # fmt: skip
        for uid in done:
            assert uid not in open_ids  # acknowledged completes are durable
        # Each upload is acknowledged-complete, still open, or was the one in
        # flight at the kill, committed unacknowledged: then it is the object.
        missing = {u for u, _ in uploads} - set(done) - open_ids
        assert missing <= {version}, (missing, version)
        for key in [c["Key"] for c in s3.list_objects_v2(Bucket="mpcrash")["Contents"]]:
            copied = s3.get_object(Bucket="mpcrash", Key=key)["Body"].read()
            assert hashlib.md5(copied).hexdigest() in versions
        for uid, parts in uploads:
            if uid in open_ids:
                s3.complete_multipart_upload(Bucket="mpcrash", Key="k", UploadId=uid,
                                             MultipartUpload={"Parts": parts})  # fmt: skip
        assert s3.list_multipart_uploads(Bucket="mpcrash").get("Uploads", []) == []
    finally:
        gw2.stop()
    assert not gw2.tracebacks(), gw2.log()
    assert_clean(data)
