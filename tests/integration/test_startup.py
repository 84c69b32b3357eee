"""Starting the gateway: the twistd plugin, configuration and its errors."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.support.gateway import GatewayProcess, child_env, free_port, twistd_command


def _run(args: list[str], cwd: str, env: dict[str, str] | None = None,
         timeout: float = 30) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        twistd_command(args), cwd=cwd, env=child_env(env), capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip


def test_plugin_is_discovered() -> None:
    """twistd finds the ozones3 plugin."""
    from twisted.application.service import IServiceMaker
    from twisted.plugin import getPlugins

    names = {p.tapname for p in getPlugins(IServiceMaker)}
    assert "ozones3" in names


def test_make_service_builds_listeners(tmp_path) -> None:
    """Parsed options build a service with one listener per --listen."""
    from ozs3.tap import Options, makeService

    opts = Options()
    opts.parseOptions(["--data-dir", str(tmp_path), "--listen", "tcp:0",
                       "--listen", "tcp:0:interface=127.0.0.1"])  # fmt: skip
    service = makeService(opts)
    # Two S3 listeners plus the web admin port.
    assert len(service._listeners) == 3  # type: ignore[attr-defined]
    assert service.config.admin_listen == ("tcp:19878",)  # type: ignore[attr-defined]
    assert service.config.data_dir == str(tmp_path)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("bad.xml", ["--config", "bad.xml"], "not well-formed"),
        (None, ["--config", "missing.xml"], "cannot read config"),
        ("unknown.xml", ["--config", "unknown.xml"], "unknown configuration key"),
        (None, ["--listen", "nonsense:1:2"], "bad --listen endpoint"),
        (None, ["--bogus-option"], "bogus-option"),
    ],
)
def test_bad_configuration_exits_nonzero_with_one_line(
    tmp_path, setup: str | None, args: list[str], message: str
) -> None:
    """Bad config or options: an error naming the problem, non-zero exit,
    nothing started."""
    if setup == "bad.xml":
        (tmp_path / "bad.xml").write_text("<configuration><property>")
    if setup == "unknown.xml":
        (tmp_path / "unknown.xml").write_text(
            "<configuration><property><name>ozone.s3g.no.such.key</name>"
            "<value>1</value></property></configuration>"
        )
    r = _run(args, str(tmp_path))
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not (tmp_path / "ozs3-data").exists()


def test_bad_value_in_environment_is_refused(tmp_path) -> None:
    """OZONE-SITE.XML_ overrides are validated like the file."""
    r = _run([], str(tmp_path), env={"OZONE-SITE.XML_ozone.security.enabled": "maybe"})
    assert r.returncode != 0
    assert "ozone.security.enabled" in r.stdout + r.stderr


def test_config_file_and_env_override(tmp_path) -> None:
    """ozone-site.xml sets the address and data dir; the environment wins."""
    port, env_port = free_port(), free_port()
    (tmp_path / "ozone-site.xml").write_text(
        "<configuration>"
        f"<property><name>ozone.s3g.http-address</name><value>127.0.0.1:{port}</value></property>"
        f"<property><name>ozone.metadata.dirs</name><value>{tmp_path / 'fromxml'}</value></property>"
        "</configuration>"
    )
    env = {
        "OZONE-SITE.XML_ozone.s3g.http-address": f"127.0.0.1:{env_port}",
        "OZONE-SITE.XML_ozone.s3g.webadmin.http-address": f"127.0.0.1:{free_port()}",
    }
    proc = subprocess.Popen(
        twistd_command(["--config", "ozone-site.xml"]), cwd=str(tmp_path),
        env=child_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        gw = GatewayProcess(str(tmp_path / "x"), port=env_port)
        for _ in range(200):
            if gw.ready():
                break
            import time

            time.sleep(0.05)
        assert gw.ready()
        assert (tmp_path / "fromxml" / "om" / "om.db").exists()
    finally:
        proc.terminate()
        proc.wait(10)


def test_no_configuration_listens_on_9878_with_local_data(tmp_path) -> None:
    """With nothing configured: port 9878, data under ./ozs3-data."""
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", 9878))
        except OSError:
            pytest.fail("port 9878 is busy on this machine; cannot check the default")
    # Everything default but the admin port (19878 may be taken here).
    admin = {
        "OZONE-SITE.XML_ozone.s3g.webadmin.http-address": f"127.0.0.1:{free_port()}"
    }
    proc = subprocess.Popen(
        twistd_command([]), cwd=str(tmp_path), env=child_env(admin),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        gw = GatewayProcess(str(tmp_path / "ozs3-data"), port=9878)
        import time

        for _ in range(200):
            if gw.ready():
                break
            time.sleep(0.05)
        assert gw.ready()
        assert (tmp_path / "ozs3-data" / "om" / "om.db").exists()
        assert (tmp_path / "ozs3-data" / "hdds" / "containers").is_dir()
    finally:
        proc.terminate()
        proc.wait(10)


def test_port_in_use_exits_nonzero(tmp_path) -> None:
    """A listener that cannot bind stops the gateway with a failure code."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = _run(["--listen", f"tcp:{port}:interface=127.0.0.1"], str(tmp_path),
                 env={"OZONE-SITE.XML_ozone.s3g.webadmin.http-address":
                      f"127.0.0.1:{free_port()}"})  # fmt: skip
    assert f"{port}" in r.stdout + r.stderr
    assert r.returncode != 0
    assert "Address already in use" in r.stdout + r.stderr or "CannotListen" in (
        r.stdout + r.stderr
    )


def test_twistd_help_lists_options(tmp_path) -> None:
    """`twistd ozones3 --help` documents --config, --data-dir and --listen."""
    r = _run(["--help"], str(tmp_path))
    for opt in ("--config", "--data-dir", "--listen"):
        assert opt in r.stdout
    assert os.path.exists(tmp_path)


def _closed_port() -> int:
    # Bound, never listening: connections to it are refused at once.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "cannot reach the Ozone Manager's gRPC service at 127.0.0.1:"),
        (
            {"OZONE-SITE.XML_ozone.security.enabled": "true"},
            "ozone.security.enabled=true is not supported with a cluster",
        ),
        (
            # The supervisor of --workers probes the OM before it starts any.
            {"OZONE-SITE.XML_ozone.s3g.workers": "2"},
            "cannot reach the Ozone Manager's gRPC service at 127.0.0.1:",
        ),
    ],
)
def test_cluster_backend_that_cannot_start_exits_1_with_one_line(
    tmp_path, extra: dict[str, str], message: str
) -> None:
    """ozone.om.address names an OM nobody answers at (or security on, which
    the cluster backend does not have yet): one line on stderr, exit 1, within the probe's
    deadline, and no S3 port was ever opened."""
    port = free_port()
    env = {
        "OZONE-SITE.XML_ozone.om.address": "127.0.0.1:9862",
        "OZONE-SITE.XML_ozone.om.grpc.port": str(_closed_port()),
        "OZONE-SITE.XML_ozone.s3g.cluster.rpc.timeout": "3s",
        **extra,
    }
    r = _run(["--listen", f"tcp:{port}:interface=127.0.0.1"], str(tmp_path), env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
