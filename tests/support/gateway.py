"""Run the real gateway (``twistd -n ozones3``) as a child process.

Used by the integration tests and by ``bench/``.  The child runs the working
tree (PYTHONPATH=repo root), so there is no stale installed copy to test.
"""

from __future__ import annotations

import collections
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def scrape_prom(port: int, timeout: float = 30.0) -> dict[str, float]:
    """A gateway's /prom samples on its admin ``port``: series -> value."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/prom")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports below the kernel's ephemeral range: no outgoing connection (of this
# test's clients, of the cluster's JVMs, of tests running alongside) is ever
# given one, so a port found free here stays free until the gateway binds
# it.  A port the kernel hands out (bind to 0) can be taken meanwhile by
# any connect(): a worker's admin port was, once, on a loaded machine.
#
# OZS3_TEST_PORT_SHARE="i/n" gives this run the i-th of n equal slices of that
# range: tests/run.sh runs two pytest processes side by side, and a port one
# of them found free could otherwise be picked by the other before either
# gateway binds it.
def _port_range() -> tuple[int, int]:
    low, high = 10000, min(_ephemeral_start(), 65536)
    share = os.environ.get("OZS3_TEST_PORT_SHARE")
    if share:
        index, count = (int(n) for n in share.split("/"))
        if not 0 <= index < count:
            raise ValueError(f"OZS3_TEST_PORT_SHARE={share!r}: want i/n, 0 <= i < n")
        size = (high - low) // count
        low, high = low + index * size, low + (index + 1) * size
    # free_port(n) takes n consecutive ports from the base it picks.
    return low, high - 16


_PORT_RANGE = _port_range()
_random = random.SystemRandom()


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# Ports handed out lately: free until their gateway binds them, so a later
# pick must not hand them out again (a gateway's admin port once came out
# equal to its S3 port, picked just before: "Address already in use").
_recent: collections.deque[int] = collections.deque(maxlen=256)


def free_port(n: int = 1) -> int:
    """A free loopback port, the first of ``n`` consecutive free ones (a
    gateway with ``--workers n`` serves admin ports base .. base+n-1), none
    of them handed out by a recent call."""
    for _ in range(1000):
        base = _random.randrange(*_PORT_RANGE)
        ports = range(base, base + n)
        if not any(p in _recent for p in ports) and all(map(_bindable, ports)):
            _recent.extend(ports)
            return base
    raise RuntimeError(f"no {n} consecutive free ports in {_PORT_RANGE}")


def twistd_command(args: Sequence[str], reactor: str | None = None) -> list[str]:
    cmd = [*TWISTD, "-n", "--pidfile="]
    if reactor and reactor != "default":
        cmd += ["-r", reactor]
    return [*cmd, "ozones3", *args]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


class GatewayProcess:
    def __init__(
        self,
        data_dir: str,
        port: int | None = None,
        reactor: str | None = None,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        listen: bool = True,
        tls: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.reactor = reactor
        self.args = list(args)
        self.env = dict(env or {})
        workers = (
            int(self.args[self.args.index("--workers") + 1])
            if ("--workers" in self.args)
            else 1
        )
        self.admin_port = free_port(workers)
        self.env.setdefault(
            "OZONE-SITE.XML_ozone.s3g.webadmin.http-address",
            f"127.0.0.1:{self.admin_port}",
        )
        # listen=False: the configuration names the listeners (port must match).
        self.listen = listen
        self.tls = tls
        self.log_path = os.path.join(
            os.path.dirname(data_dir.rstrip("/")), f"gateway-{self.port}.log"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        args = ["--data-dir", self.data_dir, *self.args]
        if self.listen:
            args += ["--listen", f"tcp:{self.port}:interface=127.0.0.1"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            twistd_command(args, self.reactor),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env(self.env),
            cwd=os.path.dirname(self.data_dir.rstrip("/")),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gateway exited with {self.proc.returncode}:\n{self.log()}"
                )
            if self.ready():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"gateway not ready after {timeout}s:\n{self.log()}")

    def ready(self) -> bool:
        try:
            if self.tls:
                import ssl

                context = ssl._create_unverified_context()
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    "127.0.0.1", self.port, timeout=2, context=context
                )
            else:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/")
            # Any S3 answer (403 when security is on) means it is serving.
            ok = conn.getresponse().status in (200, 403)
            conn.close()
            return ok
        except OSError:
            return False

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def tracebacks(self) -> list[str]:
        text = self.log()
        return [
            line for line in text.splitlines()
            if "Traceback" in line or "Unhandled" in line
        ]  # fmt: skip

    def _status_bytes(self, field: str) -> int:
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field}")

    def peak_rss(self) -> int:
        """The child's peak resident set (VmHWM), in bytes."""
        return self._status_bytes("VmHWM")

    def rss(self) -> int:
        return self._status_bytes("VmRSS")

    def reset_peak_rss(self) -> None:
        """Start a new peak measurement (Linux: write 5 to clear_refs)."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
            f.write("5")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode
