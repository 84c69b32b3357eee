"""The data directory: one gateway's at a time (a lock its workers inherit,
workers that stop with their supervisor, no shared ports), and private
(0700, the OM database 0600)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time

import pytest

from tests.integration.conftest import make_client
from tests.integration.test_security import admin
from tests.integration.test_workers import _workers
from tests.support.gateway import GatewayProcess, child_env, free_port, twistd_command
from tests.support.rawhttp import read_response_head

MiB = 1024 * 1024


def _run(args: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    env = {"OZONE-SITE.XML_ozone.s3g.webadmin.http-address": f"127.0.0.1:{free_port()}"}
    return subprocess.run(
        twistd_command(args), cwd=cwd, env=child_env(env), capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _half_put(port: int, key: str, body: bytes) -> socket.socket:
    """A PUT whose headers and first half are sent; the rest waits."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        f"PUT /{key} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[: len(body) // 2]
    )
    return sock


def _finish_put(sock: socket.socket, body: bytes) -> bytes:
    sock.sendall(body[len(body) // 2 :])
    sock.settimeout(60)
    head = read_response_head(sock)
    sock.close()
    return head


def _supervisor(data: str, port: int, admin_port: int, timeout: str = "60s"):  # type: ignore[no-untyped-def]
    return GatewayProcess(
        data, port=port, args=["--workers", "2"],
        env={
            "OZONE-SITE.XML_ozone.s3g.webadmin.http-address": f"127.0.0.1:{admin_port}",
            "OZONE-SITE.XML_ozone.s3g.shutdown.timeout": timeout,
        },
    )  # fmt: skip


def _admin_ports(n: int = 2) -> int:
    return free_port(n)


def test_second_gateway_on_a_data_dir_refuses_and_leaves_writes_alone(
    tmp_path,
) -> None:
    """G1 serves with a PUT in flight; G2 on the same --data-dir (another
    port) exits 1 with one line naming G1's pid and listens on nothing;
    G1's PUT then completes and reads back whole."""
    data = str(tmp_path / "data")
    g1 = GatewayProcess(data).start()
    try:
        assert g1.proc is not None
        s3 = make_client(g1.endpoint)
        s3.create_bucket(Bucket="held")
        body = os.urandom(40 * MiB)
        sock = _half_put(g1.port, "held/inflight", body)
        time.sleep(0.5)  # its first blocks are on disk
        port2 = free_port()
        r = _run(["--data-dir", data, "--listen", f"tcp:{port2}:interface=127.0.0.1"],
                 str(tmp_path))  # fmt: skip
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout == ""
        assert r.stderr.count("\n") == 1, r.stderr
        assert f"pid {g1.proc.pid}" in r.stderr and "in use" in r.stderr, r.stderr
        assert _refused(port2)
        assert b" 200 " in _finish_put(sock, body).split(b"\r\n")[0]
        got = s3.get_object(Bucket="held", Key="inflight")["Body"].read()
        assert got == body
    finally:
        g1.stop()
    # The lock goes with its holder: the directory serves again.
    g3 = GatewayProcess(data).start()
    try:
        got = make_client(g3.endpoint).get_object(Bucket="held", Key="inflight")
        assert got["Body"].read() == body
    finally:
        g3.stop()


def test_workers_stop_with_their_supervisor_and_keep_the_lock_meanwhile(
    tmp_path,
) -> None:
    """SIGKILL the supervisor of --workers 2 with a PUT in flight: the
    workers stop (gracefully: the PUT still completes), and until the last
    exits no new supervisor starts on the data directory; then one does,
    on the same port, and the acknowledged object is there."""
    data = str(tmp_path / "data")
    admin_port = _admin_ports()
    sup = _supervisor(data, free_port(), admin_port).start()
    assert sup.proc is not None
    make_client(sup.endpoint).create_bucket(Bucket="orphans")
    workers = list(_workers(sup).values())
    assert len(workers) == 2
    body = os.urandom(8 * MiB)
    sock = _half_put(sup.port, "orphans/inflight", body)
    time.sleep(0.5)
    sup.kill()
    r = _run(["--data-dir", data, "--workers", "2",
              "--listen", f"tcp:{free_port()}:interface=127.0.0.1"],
             str(tmp_path))  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and "in use" in r.stderr, r.stderr
    assert b" 200 " in _finish_put(sock, body).split(b"\r\n")[0]
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "workers outlived their supervisor"
        time.sleep(0.1)
    again = _supervisor(data, sup.port, admin_port).start()
    try:
        got = make_client(again.endpoint).get_object(Bucket="orphans", Key="inflight")
        assert got["Body"].read() == body
    finally:
        again.stop(timeout=40)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_two_supervisors_never_share_a_port(tmp_path) -> None:
    """A second supervisor (its own data directory) on a port the first
    serves with SO_REUSEPORT exits 1 with one line, before touching its
    store; the first goes on serving every connection."""
    first = _supervisor(str(tmp_path / "one"), free_port(), _admin_ports()).start()
    try:
        r = _run(["--data-dir", str(tmp_path / "two"), "--workers", "2",
                  "--listen", f"tcp:{first.port}:interface=127.0.0.1"],
                 str(tmp_path))  # fmt: skip
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout == ""
        assert r.stderr.count("\n") == 1, r.stderr
        assert str(first.port) in r.stderr and "in use" in r.stderr, r.stderr
        assert not os.path.exists(tmp_path / "two" / "om")
        # The first still serves every connection.
        s3 = make_client(first.endpoint)
        for _ in range(20):
            s3.list_buckets()
    finally:
        first.stop(timeout=40)


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _assert_private(data: str, mode: int = 0o700) -> None:
    assert _mode(data) == mode, oct(_mode(data))
    om = os.path.join(data, "om")
    names = [n for n in os.listdir(om) if n.startswith("om.db")]
    assert "om.db" in names
    for name in names:
        assert _mode(os.path.join(om, name)) == 0o600, (name, oct(_mode(om)))
    lock = os.path.join(data, "in_use.lock")
    if os.path.exists(lock):
        assert _mode(lock) == 0o600


@pytest.mark.parametrize("workers", [1, 2])
def test_data_dir_and_om_files_are_private(tmp_path, workers) -> None:
    """Whatever the umask: the data directory 0700, om.db and its -wal and
    -shm 0600; made by the gateway, by its workers, or by the admin command
    (which creates secrets on a fresh directory)."""
    old = os.umask(0o022)
    try:
        data = str(tmp_path / "data")
        if workers == 1:
            gw = GatewayProcess(data)
        else:
            gw = _supervisor(data, free_port(), _admin_ports())
        gw.start()
        try:
            make_client(gw.endpoint).create_bucket(Bucket="modes")
            admin(data, "s3", "getsecret", "--user", "someone")
            _assert_private(data)
        finally:
            gw.stop(timeout=40)
        _assert_private(data)
        fresh = str(tmp_path / "fresh")
        admin(fresh, "s3", "getsecret", "--user", "first")
        _assert_private(fresh)
        # A directory an older version left open is narrowed at start: no
        # access for others (a group the operator opened it to keeps read).
        os.chmod(data, 0o755)
        os.chmod(os.path.join(data, "om", "om.db"), 0o644)
        again = GatewayProcess(data).start()
        try:
            _assert_private(data, 0o750)
        finally:
            again.stop()
    finally:
        os.umask(old)


def test_admin_command_works_while_a_gateway_holds_the_lock(tmp_path) -> None:
    """The lock is the gateway's; the admin command never takes it."""
    data = str(tmp_path / "data")
    gw = GatewayProcess(data).start()
    try:
        r = admin(data, "s3", "getsecret", "--user", "live")
        assert "awsSecret=" in r.stdout
        assert make_client(gw.endpoint).list_buckets()["Buckets"] == []
    finally:
        gw.stop()
