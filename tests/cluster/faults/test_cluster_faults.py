"""Faults of the cluster under ozs3 (a gateway of its own, RPC deadline
DEADLINE s): a datanode that stops answering mid-upload, an OM that stops
answering, an OM that cannot be reached at all.  Each time the client gets an
S3 error (503 ServiceUnavailable, XML) within the deadline plus a little,
nothing half-written shows, and the same gateway process serves again once
the cluster is back, without a restart.

Pauses are SIGSTOP/SIGCONT of the daemon's JVM, held for PAUSE s: longer than
Ratis' step-down threshold (10 s, a JVM pause detector in every Ratis server),
so, as after a long GC pause, the daemon's Raft group has no leader for a few
seconds once it resumes, and writes meanwhile must be 503s too (retryable),
never 500s.  See conftest.py for how the shared cluster is put back.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess

from ..conftest import Cluster, cluster_gateway_process, new_bucket_name
from .conftest import DEADLINE, datanodes, paused

MiB = 1024 * 1024
# What a failing request may take beyond the deadline (request set-up, the
# gateway's own work, a loaded 2-core machine).
SLACK = 3.0
# A client timeout that no answer within the deadline reaches: hitting it is a hang.
HANG = DEADLINE + 20
PAUSE = 12.5
# How long the cluster may take to serve writes again after a pause.
RECOVERY = 60.0


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, took: float):
        self.status = status
        self.headers = headers
        self.body = body
        self.took = took

    @property
    def code(self) -> str | None:
        m = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return m.group(1).decode() if m else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.code} in {self.took:.2f} s: {self.body[:300]!r}>"


def call(
    gw: GatewayProcess,
    method: str,
    path: str,
    body: bytes | None = None,
    timeout: float = HANG,
) -> Answer:
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=timeout)
    try:
        conn.request(method, path, body=body)
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    return Answer(
        r.status,
        {k.lower(): v for k, v in r.getheaders()},
        data,
        time.monotonic() - t0,
    )


def assert_unavailable(a: Answer, deadline: float = DEADLINE) -> None:
    """A 503 ServiceUnavailable in S3's XML, within the deadline + SLACK."""
    assert a.status == 503, a
    assert a.headers.get("content-type") == "application/xml", a
    assert a.code == "ServiceUnavailable", a
    assert a.took < deadline + SLACK, a


def serves_again(attempt: Callable[[], Answer], what: str) -> list[Answer]:
    """Retry ``attempt`` until it answers 2xx (at most RECOVERY s); every
    failure meanwhile must be a 503 ServiceUnavailable (retryable), never
    another error or a hang.  The answers, in order."""
    answers: list[Answer] = []
    deadline = time.monotonic() + RECOVERY
    while True:
        a = attempt()
        answers.append(a)
        if 200 <= a.status < 300:
            return answers
        assert (a.status, a.code) == (503, "ServiceUnavailable"), (what, answers)
        assert a.took < DEADLINE + SLACK, (what, a)
        assert time.monotonic() < deadline, (
            f"{what}: not back in {RECOVERY} s: {answers}"
        )
        time.sleep(0.2)


@pytest.fixture
def s3(fault_gateway: GatewayProcess) -> Any:
    return make_client(fault_gateway.endpoint)


def keys_of(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


@contextlib.contextmanager
def all_paused(cluster: Cluster, names: list[str]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(paused(cluster, name))
        yield


def test_datanodes_stopped_during_an_upload(
    restored_cluster: Cluster, fault_gateway: GatewayProcess, s3, bucket_names
):
    gw = fault_gateway
    pid = gw.proc.pid  # type: ignore[union-attr]
    bucket = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=bucket)
    before = os.urandom(5 * MiB + 1)
    s3.put_object(Bucket=bucket, Key="before", Body=before)

    # A slow upload: headers and 2 MiB, then every datanode stops (one
    # stopped replica of three is not a failure: see the tests below), then
    # more body (past the first 4 MiB chunk), never all of it.
    total = 16 * MiB
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=HANG)
    sock.sendall(
        f"PUT /{bucket}/victim HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Length: {total}\r\n\r\n".encode()
    )
    sock.sendall(os.urandom(2 * MiB))
    time.sleep(0.5)  # the gateway has opened the key with the OM

    def send_more() -> None:
        with contextlib.suppress(OSError):  # the gateway answers and closes
            for _ in range(10):
                sock.sendall(os.urandom(MiB))

    with all_paused(restored_cluster, datanodes(restored_cluster)):
        t0 = time.monotonic()
        sender = threading.Thread(target=send_more, daemon=True)
        sender.start()
        raw = b""
        try:
            while b"</Error>" not in raw:
                more = sock.recv(65536)
                if not more:
                    break
                raw += more
        finally:
            took = time.monotonic() - t0
            sock.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        upload = Answer(status, {}, body, took)
        assert upload.status == 503 and upload.code == "ServiceUnavailable", upload
        assert took < DEADLINE + SLACK, upload
        assert b"application/xml" in head.lower(), head

        # The gateway keeps serving what needs no datanode...
        assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert keys_of(s3, bucket) == ["before"]
        assert call(gw, "HEAD", f"/{bucket}/victim").status == 404
        # ... and a read when no replica answers is a 503, each replica
        # given the deadline.
        replicas = min(3, len(datanodes(restored_cluster)))
        assert_unavailable(call(gw, "GET", f"/{bucket}/before"), DEADLINE * replicas)
        time.sleep(max(0.0, PAUSE - (time.monotonic() - t0)))

    # Back: writes work again (503s meanwhile while the datanode's Raft group
    # elects its leader), the half-sent upload never shows.
    data = os.urandom(5 * MiB + 7)
    serves_again(lambda: call(gw, "PUT", f"/{bucket}/after", data), "PUT after")
    assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="before")["Body"].read() == before
    assert keys_of(s3, bucket) == ["after", "before"]
    assert call(gw, "HEAD", f"/{bucket}/victim").status == 404
    assert gw.proc.poll() is None and gw.proc.pid == pid  # type: ignore[union-attr]


def test_om_stopped_gives_503_in_time_then_serves_again(
    restored_cluster: Cluster, fault_gateway: GatewayProcess, s3, bucket_names
):
    gw = fault_gateway
    pid = gw.proc.pid  # type: ignore[union-attr]
    bucket = new_bucket_name(bucket_names)
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(MiB + 3)
    s3.put_object(Bucket=bucket, Key="k", Body=data)

    requests = [
        ("GET", "/", None),  # ListBuckets
        ("GET", f"/{bucket}?list-type=2", None),
        ("HEAD", f"/{bucket}/k", None),
        ("GET", f"/{bucket}/k", None),
        # (Not a DELETE: a request past its deadline may still run once the
        # OM resumes; an unfinished PUT cannot, it never commits.)
        ("PUT", f"/{bucket}/new", b"x" * 1000),
    ]
    answers: dict[str, Answer] = {}

    def one(method: str, path: str, body: bytes | None) -> None:
        answers[f"{method} {path}"] = call(gw, method, path, body)

    with paused(restored_cluster, "om"):
        t0 = time.monotonic()
        threads = [threading.Thread(target=one, args=r) for r in requests]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HANG + 5)
        assert len(answers) == len(requests), answers
        for what, a in answers.items():
            if a.status == 503 and not a.body:  # HEAD: no body to show the code
                assert a.took < DEADLINE + SLACK, (what, a)
            else:
                assert_unavailable(a)
            # The deadline, not a quick refusal: the OM was asked and is silent.
            assert a.took > DEADLINE * 0.8, (what, a)
        time.sleep(max(0.0, PAUSE - (time.monotonic() - t0)))

    # Back, the same process: every answer meanwhile a 503 or a success.
    serves_again(lambda: call(gw, "PUT", f"/{bucket}/new", b"y" * 1000), "PUT after")
    assert call(gw, "GET", "/").status == 200
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data
    assert keys_of(s3, bucket) == ["k", "new"]
    assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == b"y" * 1000
    s3.delete_object(Bucket=bucket, Key="new")
    assert keys_of(s3, bucket) == ["k"]
    assert gw.proc.poll() is None and gw.proc.pid == pid  # type: ignore[union-attr]


class Proxy:
    """A TCP proxy on a fixed local port to ``upstream``: ``down()`` refuses
    and drops every connection (an OM whose process is gone), ``up()``
    listens again on the same port (the OM restarted)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            listener.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def om_proxy(restored_cluster: Cluster) -> Iterator[Proxy]:
    host, port = restored_cluster.om_grpc.rsplit(":", 1)
    proxy = Proxy((host, int(port)))
    proxy.up()
    yield proxy
    proxy.down()


def test_om_unreachable_then_back_without_gateway_restart(
    restored_cluster: Cluster, om_proxy: Proxy, bucket_names, tmp_path
):
    """The OM's gRPC port through a proxy that goes away and comes back, as
    an OM process that dies and is restarted does (connection refused, then a
    new connection): 503s at once while it is gone, then the gateway's gRPC
    channel reconnects by itself.  The cluster itself is not touched."""
    gw = cluster_gateway_process(
        restored_cluster,
        tmp_path,
        **{
            "OZONE-SITE.XML_ozone.s3g.cluster.rpc.timeout": f"{DEADLINE:g}s",
            "OZONE-SITE.XML_ozone.om.grpc.port": str(om_proxy.port),
        },
    )
    gw.start(timeout=60)
    try:
        pid = gw.proc.pid  # type: ignore[union-attr]
        bucket = new_bucket_name(bucket_names)
        assert call(gw, "PUT", f"/{bucket}").status == 200
        assert call(gw, "PUT", f"/{bucket}/k", b"v1").status == 200

        om_proxy.down()
        for method, path, body in [
            ("GET", "/", None),
            ("GET", f"/{bucket}/k", None),
            ("PUT", f"/{bucket}/k", b"v2"),
        ]:
            assert_unavailable(call(gw, method, path, body))

        om_proxy.up()
        serves_again(lambda: call(gw, "PUT", f"/{bucket}/k", b"v3"), "PUT after")
        got = call(gw, "GET", f"/{bucket}/k")
        assert (got.status, got.body) == (200, b"v3")
        assert gw.proc.poll() is None and gw.proc.pid == pid  # type: ignore[union-attr]
    finally:
        code = gw.stop()
    assert code in (0, -15), gw.log()
    assert not gw.tracebacks(), gw.log()
    assert "fronting the Ozone cluster at 127.0.0.1:" + str(om_proxy.port) in gw.log()
