"""Running as a service: web admin port, audit log, graceful shutdown,
systemd units, compose."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tests.integration.conftest import make_client
from tests.support.gateway import REPO, GatewayProcess, free_port
from tests.support.storecheck import assert_clean

MiB = 1024 * 1024


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    r = conn.getresponse()
    out = r.status, r.getheader("Content-Type") or "", r.read()
    conn.close()
    return out


def test_admin_port_prom_health_conf(tmp_path) -> None:
    """/health is ready once the store is open; /prom counts requests by
    operation and status, latency, bytes and store size; /conf redacts."""
    gw = GatewayProcess(str(tmp_path / "data"), env={
        "OZONE-SITE.XML_hadoop.security.credential.password": "hunter2",
    }).start()  # fmt: skip
    try:
        status, ctype, body = _get(gw.admin_port, "/health")
        assert status == 200 and json.loads(body)["status"] == "ready"
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="metrics")
        for i in range(3):
            s3.put_object(Bucket="metrics", Key=f"k{i}", Body=b"x" * 1000)
        s3.get_object(Bucket="metrics", Key="k0")["Body"].read()
        try:
            s3.get_object(Bucket="metrics", Key="missing")
        except Exception:
            pass
        status, ctype, body = _get(gw.admin_port, "/prom")
        text = body.decode()
        assert status == 200 and ctype.startswith("text/plain")
        assert 'ozs3_requests_total{operation="PutObject",status="200"} 3.0' in text
        assert 'ozs3_requests_total{operation="GetObject",status="404"} 1.0' in text
        assert 'ozs3_request_duration_seconds_count{operation="PutObject"} 3.0' in text
        assert "ozs3_store_keys 3.0" in text and "ozs3_store_bytes 3000.0" in text
        assert "ozs3_received_bytes_total 3000.0" in text
        assert "ozs3_open_multipart_uploads 0.0" in text
        status, ctype, body = _get(gw.admin_port, "/conf")
        conf = json.loads(body)
        assert conf["ozone.s3g.volume.name"] == "s3v"
        assert "hadoop.security.credential.password" not in conf  # not ozs3's
        assert b"hunter2" not in body
    finally:
        gw.stop()


def _local_non_loopback_address() -> str:
    """This host's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))
        except OSError:
            pytest.skip("no non-loopback IPv4 address to connect from")
        return str(s.getsockname()[0])


def _get_from(host: str, port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", path)
    r = conn.getresponse()
    out = r.status, r.read()
    conn.close()
    return out


SITE_SECRETS = {
    "fs.azure.account.key.acct.blob.core.windows.net": "AZUREKEYVALUE",
    "fs.gs.auth.service.account.private.key": "-----BEGIN PRIVATE KEY-----GCSKEY",
    "ssl.server.keystore.password": "KEYSTOREPASS",
    "javax.jdo.option.ConnectionURL": "jdbc:mysql://db/hive?password=JDBCPASS",
    "hive.metastore.db.passwd": "DBPASSWD",
    "fs.s3a.secret.key": "S3ASECRET",
}


def test_conf_shows_only_ozs3_keys_and_with_security_only_on_loopback(
    tmp_path,
) -> None:
    """/conf lists only keys ozs3 reads (a site file shared with a cluster
    holds cloud keys, keystore and JDBC passwords): none of their values
    leak.  With security on, the admin port (on 0.0.0.0) answers /conf and
    anything but /prom and /health only to loopback clients: 403 otherwise."""
    site = tmp_path / "ozone-site.xml"
    props = {**SITE_SECRETS, "ozone.s3g.volume.name": "s3v"}
    site.write_text(
        "<configuration>"
        + "".join(
            f"<property><name>{k}</name><value>{v}</value></property>"
            for k, v in props.items()
        )
        + "</configuration>"
    )
    from ozs3.config import DEFAULTS

    admin_port = free_port()
    gw = GatewayProcess(
        str(tmp_path / "data"), args=["--config", str(site)],
        env={
            "OZONE-SITE.XML_ozone.security.enabled": "true",
            "OZONE-SITE.XML_ozone.s3g.webadmin.http-address": f"0.0.0.0:{admin_port}",
        },
    ).start()  # fmt: skip
    try:
        status, body = _get_from("127.0.0.1", admin_port, "/conf")
        assert status == 200
        conf = json.loads(body)
        assert conf["ozone.security.enabled"] == "true"
        assert set(conf) <= set(DEFAULTS)
        for secret in SITE_SECRETS.values():
            assert secret.encode() not in body
        remote = _local_non_loopback_address()
        for path in ("/conf", "/conf/", "/", "/nothing", "/CONF"):
            status, body = _get_from(remote, admin_port, path)
            assert status == 403, (path, status)
            assert b"ozone" not in body
        assert _get_from(remote, admin_port, "/health")[0] == 200
        status, body = _get_from(remote, admin_port, "/prom")
        assert status == 200 and b"ozs3_requests_total" in body
    finally:
        gw.stop()


def test_audit_log_one_line_per_request(tmp_path) -> None:
    """Every request, refused ones included, is one JSON line with its id."""
    gw = GatewayProcess(str(tmp_path / "data")).start()
    try:
        s3 = make_client(gw.endpoint)
        ids = [s3.create_bucket(Bucket="audit")["ResponseMetadata"]["RequestId"]]
        ids.append(s3.put_object(Bucket="audit", Key="a/b", Body=b"12345")
                   ["ResponseMetadata"]["RequestId"])  # fmt: skip
        try:
            s3.head_object(Bucket="audit", Key="nope")
        except Exception as e:
            ids.append(e.response["ResponseMetadata"]["RequestId"])  # type: ignore[attr-defined]
    finally:
        gw.stop()
    with open(os.path.join(gw.data_dir, "logs", "s3g-audit.log")) as f:
        records = {r["request_id"]: r for r in map(json.loads, f)}
    assert set(ids) <= set(records)
    put = records[ids[1]]
    assert (put["operation"], put["bucket"], put["key"], put["status"],
            put["bytes_in"]) == ("PutObject", "audit", "a/b", 200, 5)  # fmt: skip
    assert (
        records[ids[2]]["status"] == 404
        and records[ids[2]]["operation"] == "HeadObject"
    )


def _partial_put(port: int, path: str, declared: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n"
              .encode())  # fmt: skip
    return s


def test_sigterm_lets_inflight_finish_then_cuts_the_rest(tmp_path) -> None:
    """SIGTERM: no new connections; an upload that finishes within the grace
    period commits; one that does not is cut and never visible."""
    data = str(tmp_path / "data")
    gw = GatewayProcess(data, env={"OZONE-SITE.XML_ozone.s3g.shutdown.timeout": "3s"})
    gw.start()
    s3 = make_client(gw.endpoint)
    s3.create_bucket(Bucket="term")
    finishing = _partial_put(gw.port, "/term/finishes", 4 * MiB)
    finishing.sendall(b"a" * (2 * MiB))
    stuck = _partial_put(gw.port, "/term/stuck", 8 * MiB)
    stuck.sendall(b"b" * MiB)
    time.sleep(0.3)
    assert gw.proc is not None
    t = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", gw.port), timeout=2).close()
    finishing.sendall(b"a" * (2 * MiB))
    head = finishing.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head
    gw.proc.wait(20)
    elapsed = time.monotonic() - t
    assert elapsed < 10, elapsed
    finishing.close()
    stuck.close()
    gw2 = GatewayProcess(data).start()
    try:
        s3 = make_client(gw2.endpoint)
        keys = [c["Key"] for c in s3.list_objects_v2(Bucket="term").get("Contents", [])]
        assert keys == ["finishes"]
        assert s3.get_object(Bucket="term", Key="finishes")["Body"].read() == b"a" * (
            4 * MiB
        )
    finally:
        gw2.stop()
    assert_clean(data)


def test_systemd_units_verify(tmp_path) -> None:
    """The unit files pass systemd-analyze verify (with ExecStart pointed at
    this machine's twistd)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is needed (Debian's systemd package)"
    twistd = shutil.which("twistd")
    assert twistd
    src = os.path.join(REPO, "packaging", "systemd")
    for name in os.listdir(src):
        if name.endswith((".service", ".socket")):
            text = open(os.path.join(src, name)).read()
            (tmp_path / name).write_text(text.replace("/usr/local/bin/twistd", twistd))
    units = sorted(str(p) for p in tmp_path.iterdir())
    assert len(units) == 3
    r = subprocess.run([analyze, "verify", *units], capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    problems = [line for line in r.stderr.splitlines() if "ozones3" in line]
    assert not problems, problems


def test_compose_file_is_valid() -> None:
    """docker-compose accepts compose/ozones3/docker-compose.yaml (no engine
    needed for `config`); the gateway is published on 9878 and configured
    through OZONE-SITE.XML_ variables."""
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose is needed (Debian's docker-compose package)"
    path = os.path.join(REPO, "compose", "ozones3", "docker-compose.yaml")
    r = subprocess.run([compose, "-f", path, "config"], capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "9878" in r.stdout and "OZONE-SITE.XML_ozone.metadata.dirs" in r.stdout
