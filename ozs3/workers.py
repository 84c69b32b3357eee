"""``--workers N``: N gateway processes on every core, one store.

The supervisor (the twistd process) recovers the store once (every open key
a crash left is reclaimed, queued blocks are deleted), opens the listening
sockets, then starts N workers: each a full gateway (``twistd ozones3
--worker-slot i``) that adopts the inherited sockets, so the kernel hands
each new connection to whichever worker accepts first.  They share the data
directory: SQLite (WAL) serialises their metadata writes under one
cross-process writer lock, and block files have OM-allocated, unique names.

The supervisor does not serve requests.  It restarts a worker that dies (the
new one reclaims the uploads its predecessor left in its slot), passes
SIGTERM on for a graceful stop, and exits 1 if a worker cannot start.
Worker i serves the admin endpoints on the configured admin port + i.

The supervisor holds the data directory's lock (``storage/datadir.py``) and
each worker inherits it, so no other gateway starts on the directory while
any of them runs.  A worker gets SIGTERM when its supervisor dies (a graceful
stop: its requests finish, it exits), so workers never serve orphaned.  And
no two supervisors share a port: SO_REUSEPORT would let a second one join the
first's port (and its recovery reclaim the first one's in-flight writes).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

from twisted.application.reactors import getReactorTypes
from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from ._executor import SyncExecutor
from .config import ENV_PREFIX, Config, ConfigError
from .listen_addresses import with_backlog
from .storage.client import EmbeddedObjectStore
from .storage.datadir import DataDirLock
from .storage.datanode.store import LocalBlockStore
from .storage.om.manager import OzoneManager

ADMIN_KEY = "ozone.s3g.webadmin.http-address"
RESTART_DELAY = 1.0
READY_FD = 3  # in the worker; its listening sockets follow from 4
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
CLAIM_WAIT = 10.0  # seconds at most to wait for another supervisor's bind


def worker_main(supervisor_pid: int) -> None:
    """A worker's first step, before twistd: SIGTERM when the supervisor
    dies.  The signal is armed for the parent as it is now, so a supervisor
    that died before this ran is caught by the getppid check."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != supervisor_pid:
        raise SystemExit("ozones3 worker: the supervisor is gone")
    from twisted.scripts.twistd import run

    run()


@contextlib.contextmanager
def port_claim(port: int) -> Iterator[None]:
    """Exclusive among ozs3 supervisors on this host (network namespace)
    while held: an abstract unix socket named after the port.  Held only
    while checking that the port is free and binding it."""
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + CLAIM_WAIT
    try:
        while True:
            try:
                claim.bind(f"\0ozs3-supervisor-port-{port}")
                break
            except OSError as e:
                if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        yield
    finally:
        claim.close()


def probe_port(family: int, interface: str, port: int) -> int:
    """Bind without SO_REUSEPORT (then let go): fails with EADDRINUSE if
    any socket holds the port, SO_REUSEPORT ones included.  The port."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((interface, port))
        except OSError as e:
            raise OSError(
                e.errno, f"cannot listen on {interface or '*'}:{port}: {e.strerror}"
            ) from None
        return int(probe.getsockname()[1])


def check_workers_config(config: Config) -> None:
    """Workers share plain TCP sockets: TLS needs the single-process mode."""
    for description in config.listen:
        if config.workers > 1 and not description.startswith(("tcp:", "tcp6:")):
            raise ConfigError(
                f"--workers {config.workers} serves tcp: listeners only, not "
                f"{description.split(':')[0]}: (use one worker for TLS or "
                "socket activation, or a TLS proxy in front)"
            )


def admin_address_for(address: str, slot: int) -> str:
    """Worker ``slot``'s admin address: the configured port + slot."""
    host, _, port = address.rpartition(":")
    if not port.isdigit() or int(port) == 0:
        return address
    return f"{host}:{int(port) + slot}"


def reactor_option(reactor: Any) -> list[str]:
    """twistd's ``-r`` for the reactor this process runs (workers match it)."""
    module = type(reactor).__module__
    for kind in getReactorTypes():
        if kind.moduleName == module:
            return ["-r", kind.shortName]
    return []


class _Worker(ProcessProtocol):
    def __init__(self, supervisor: WorkerSupervisor, slot: int) -> None:
        self.supervisor = supervisor
        self.slot = slot
        self.ready = False
        self.ended: Deferred[None] = Deferred()

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD == READY_FD and b"ready" in data and not self.ready:
            self.ready = True
            self.supervisor.worker_ready(self)

    def signal(self, name: str) -> None:
        try:
            if self.transport is not None:
                self.transport.signalProcess(name)  # type: ignore[call-arg,misc]
        except ProcessExitedAlready:
            pass

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(None)
        self.supervisor.worker_ended(self, reason)


class WorkerSupervisor(Service):
    log = Logger()

    def __init__(
        self,
        config: Config,
        child_args: list[str],
        lock: DataDirLock,
        reactor: Any = None,
    ):
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.config = config  # checked by check_workers_config (tap.py)
        self.child_args = child_args
        self.lock = lock
        self.reactor = reactor
        self.workers: dict[int, _Worker] = {}
        self._ports: list[list[socket.socket]] = []
        self._stopping = False
        self._started = False

    # -- start ------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        self.lock.record_pid()  # twistd may have daemonized since
        try:
            self._recover()
        except Exception:
            self._fatal(Failure())
            return
        for slot in range(self.config.workers):
            self._spawn(slot)

    def _recover(self) -> None:
        """Reclaim, before any worker runs, what a crash of any of them left."""
        self._inline_store(lambda store: store.start())

    def _mark_clean(self) -> None:
        """After the last worker stopped: the next start may skip the sweep."""
        self._inline_store(lambda store: store.mark_clean())

    def _inline_store(self, action: Any) -> None:
        """Run ``action(store)`` on a store of this process's own, inline
        (fronting a cluster there is no local store: nothing to do)."""
        c = self.config
        if c.om_grpc_address:
            return
        data = os.path.abspath(c.data_dir)
        inline = SyncExecutor()
        om = OzoneManager(os.path.join(data, "om", "om.db"), c.volume, inline)
        dn = LocalBlockStore(
            os.path.join(data, "hdds"), c.chunk_size, c.bytes_per_checksum,
            c.checksum_type,
        )  # fmt: skip
        store = EmbeddedObjectStore(om, dn, inline, c.block_size)
        box: list[Any] = []
        action(store).addBoth(box.append)
        om.close()
        if isinstance(box[0], Failure):
            box[0].raiseException()

    def bind(self) -> None:
        """One listening socket per worker and endpoint, all bound to the
        endpoint's address with SO_REUSEPORT: the kernel spreads connections
        evenly over them (one shared socket let whichever worker woke first
        accept a whole burst).  The supervisor keeps them open, never
        accepting, so connections wait in a restarting worker's backlog
        instead of being refused.

        Called before the store is recovered: a port another process holds
        (another supervisor's orphaned workers, say) is an error then."""
        for description in self.config.listen:
            endpoint = serverFromString(self.reactor, with_backlog(description))
            interface = getattr(endpoint, "_interface", "") or ""
            port = int(getattr(endpoint, "_port", 0))
            backlog = int(getattr(endpoint, "_backlog", 50))
            family = socket.AF_INET6 if ":" in interface else socket.AF_INET
            if port == 0:
                port = probe_port(family, interface, 0)  # pick a free one
            sockets: list[socket.socket] = []
            self._ports.append(sockets)
            # Between the probe and the binds, no other supervisor can
            # probe (and then join with SO_REUSEPORT): the claim.
            with port_claim(port):
                probe_port(family, interface, port)
                for _ in range(self.config.workers):
                    sock = socket.socket(family, socket.SOCK_STREAM)
                    sockets.append(sock)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                    sock.bind((interface, port))
                    sock.listen(backlog)
                    sock.setblocking(False)  # adoptStreamPort requires it
            self.log.info("listening on {a}:{p}", a=interface or "*", p=port)

    def _spawn(self, slot: int) -> None:
        fds = [sockets[slot].fileno() for sockets in self._ports]
        child_fds: dict[int, int | str] = {0: "w", 1: 1, 2: 2, READY_FD: "r"}
        # The data directory's lock, inherited (and so held) by the worker.
        child_fds[READY_FD + 1 + len(fds)] = self.lock.fd
        args = [
            sys.executable, "-c",
            f"from ozs3.workers import worker_main; worker_main({os.getpid()})",
            "-n", "--pidfile=", *reactor_option(self.reactor), "ozones3",
            *self.child_args, "--worker-slot", str(slot),
            "--ready-fd", str(READY_FD),
        ]  # fmt: skip
        for i, fd in enumerate(fds):
            child_fds[READY_FD + 1 + i] = fd
            args += ["--listen-fd", str(READY_FD + 1 + i)]
        env = dict(os.environ)
        env[ENV_PREFIX + ADMIN_KEY] = admin_address_for(
            self.config.raw.get(ADMIN_KEY, "0.0.0.0:19878"), slot
        )
        worker = _Worker(self, slot)
        self.workers[slot] = worker
        self.reactor.spawnProcess(
            worker, sys.executable, args, env=env, childFDs=child_fds
        )

    def worker_ready(self, worker: _Worker) -> None:
        if not self._started and all(w.ready for w in self.workers.values()):
            self._started = True
            self.log.info(
                "ozs3 supervisor: {n} workers serving S3 on {listen}",
                n=len(self.workers),
                listen=", ".join(self.config.listen),
            )

    def worker_ended(self, worker: _Worker, reason: Failure) -> None:
        if self.workers.get(worker.slot) is worker:
            del self.workers[worker.slot]
        if self._stopping:
            return
        if not worker.ready and not self._started:
            self.log.error("worker {slot} could not start", slot=worker.slot)
            self._fatal(None)
            return
        self.log.warn(
            "worker {slot} ended ({why}); starting another in its slot",
            slot=worker.slot,
            why=reason.getErrorMessage(),
        )
        self.reactor.callLater(RESTART_DELAY, self._respawn, worker.slot)

    def _respawn(self, slot: int) -> None:
        if not self._stopping and slot not in self.workers:
            self._spawn(slot)

    def _fatal(self, f: Failure | None) -> None:
        if f is not None:
            self.log.failure("ozs3 cannot start", f)
        self._stopping = True
        for worker in self.workers.values():
            worker.signal("KILL")
        self.reactor.addSystemEventTrigger("after", "shutdown", os._exit, 1)
        self.reactor.stop()

    # -- stop -------------------------------------------------------------------

    def stopService(self) -> Deferred[Any]:
        super().stopService()
        self._stopping = True
        for sockets in self._ports:
            for sock in sockets:
                sock.close()
        live = list(self.workers.values())
        for worker in live:
            worker.signal("TERM")
        # Each worker honours the shutdown timeout; then they are killed.
        killer = self.reactor.callLater(
            self.config.shutdown_timeout + 10, self._kill, live
        )
        done = DeferredList([w.ended for w in live])

        def finished(result: object) -> object:
            if killer.active():
                killer.cancel()
                try:
                    self._mark_clean()
                except Exception:
                    self.log.failure("could not record the clean stop")
            return result

        return done.addBoth(finished)

    @staticmethod
    def _kill(workers: list[_Worker]) -> None:
        for worker in workers:
            worker.signal("KILL")
