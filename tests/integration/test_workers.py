"""``--workers N``: several gateway processes on one store, over loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from tests.integration.conftest import make_client
from tests.support.gateway import GatewayProcess, child_env, twistd_command
from tests.support.storecheck import assert_clean


def _workers(gw: GatewayProcess) -> dict[int, int]:
    """slot -> pid of the supervisor's live workers."""
    assert gw.proc is not None
    out = subprocess.run(
        ["pgrep", "-P", str(gw.proc.pid), "-a"], capture_output=True, text=True
    ).stdout
    found = {}
    for line in out.splitlines():
        pid, _, cmd = line.partition(" ")
        if "--worker-slot" in cmd:
            found[int(cmd.split("--worker-slot ")[1].split()[0])] = int(pid)
    return found


def _audit(gw: GatewayProcess) -> list[dict[str, object]]:
    with open(os.path.join(gw.data_dir, "logs", "s3g-audit.log")) as f:
        return [json.loads(line) for line in f]


def _wait_ready(gw: GatewayProcess, slot: int, deadline: float) -> None:
    """Until worker ``slot`` answers /health (admin port + slot) ready."""
    import http.client

    while True:
        conn = http.client.HTTPConnection("127.0.0.1", gw.admin_port + slot, timeout=5)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass  # not listening yet
        finally:
            conn.close()
        if time.monotonic() > deadline:
            pytest.fail(f"worker {slot} did not become ready")
        time.sleep(0.1)


def _start(tmp_path, n: int = 2) -> GatewayProcess:
    return GatewayProcess(str(tmp_path / "data"), args=["--workers", str(n)]).start()


def test_two_workers_share_the_port_and_the_store(tmp_path) -> None:
    """Connections are spread over both workers; what one writes the other
    reads; each serves its own admin port; SIGTERM stops them all."""
    gw = _start(tmp_path)
    try:
        assert sorted(_workers(gw)) == [0, 1]
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="shared")
        errors: list[BaseException] = []

        def client(n: int) -> None:
            try:
                c = make_client(gw.endpoint)  # its own connection pool
                for i in range(5):
                    c.put_object(Bucket="shared", Key=f"k{n}/{i}", Body=b"x" * (n + i))
                for i in range(5):
                    body = c.get_object(Bucket="shared", Key=f"k{n}/{i}")["Body"]
                    assert body.read() == b"x" * (n + i)
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[0]
        listed = s3.list_objects_v2(Bucket="shared")
        assert listed["KeyCount"] == 120
        served = {r.get("worker") for r in _audit(gw) if r["operation"] == "PutObject"}
        assert served == {0, 1}
        admin = int(
            gw.env["OZONE-SITE.XML_ozone.s3g.webadmin.http-address"].split(":")[1]
        )
        import http.client

        for port in (admin, admin + 1):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            assert conn.getresponse().status == 200
            conn.close()
        pids = list(_workers(gw).values())
    finally:
        code = gw.stop(timeout=40)
    assert code in (0, -signal.SIGTERM), gw.log()[-3000:]
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or _zombie(pid)
    assert not gw.tracebacks(), gw.log()[-3000:]
    assert_clean(gw.data_dir)


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[1].split()[0] == "Z"


def test_a_killed_worker_is_replaced_and_its_upload_cleaned(tmp_path) -> None:
    """SIGKILL one worker in the middle of uploads: the supervisor starts
    another in its slot, which deletes its predecessor's unfinished blocks;
    committed objects stay; the store is exact after the restart."""
    gw = _start(tmp_path)
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="killed")
        for i in range(20):
            s3.put_object(Bucket="killed", Key=f"kept/{i}", Body=os.urandom(1000))
        # Half-sent uploads on many connections, so both workers hold some.
        socks = []
        for i in range(12):
            sock = socket.create_connection(("127.0.0.1", gw.port))
            sock.sendall(
                f"PUT /killed/partial/{i} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {8 << 20}\r\n\r\n".encode()
                + os.urandom(3 << 20)
            )
            socks.append(sock)
        time.sleep(1.0)
        victim_slot, victim = sorted(_workers(gw).items())[1]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _workers(gw)
            if victim_slot in now and now[victim_slot] != victim:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the killed worker was not replaced")
        # Replaced is not yet started: the new worker deletes its
        # predecessor's unfinished blocks as it opens the store, before its
        # /health says ready; a stop before that leaves them behind.
        _wait_ready(gw, victim_slot, deadline=time.monotonic() + 60)
        for sock in socks:
            sock.close()
        time.sleep(1.0)
        for i in range(20):
            assert (
                len(s3.get_object(Bucket="killed", Key=f"kept/{i}")["Body"].read())
                == 1000
            )
        keys = [
            o["Key"] for o in s3.list_objects_v2(Bucket="killed").get("Contents", [])
        ]
        assert not [k for k in keys if k.startswith("partial/")]
        assert "ended" in gw.log()
    finally:
        gw.stop(timeout=40)
    assert_clean(gw.data_dir)


def test_workers_refuse_tls_listeners(tmp_path) -> None:
    """--workers shares plain TCP sockets; a TLS listener is refused with
    one line and exit status 1, before anything listens."""
    cmd = twistd_command(["--data-dir", str(tmp_path / "d"), "--workers", "2",
                          "--listen", "ssl:0:privateKey=k.pem"])  # fmt: skip
    r = subprocess.run(cmd, env=child_env(), capture_output=True, text=True,
                       cwd=str(tmp_path), timeout=60)  # fmt: skip
    assert r.returncode == 1
    assert "tcp: listeners only" in r.stderr + r.stdout
