"""The gateway as a twistd service tree: thread pools, the embedded store
(OM + datanode) and one listening endpoint per ``--listen``.

As one of ``--workers N`` (see ``workers.py``) it serves sockets its
supervisor opened and passed down, instead of listening itself."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.web.server import Site

from ._deferred import async_to_deferred
from ._executor import ThreadPoolExecutor
from .config import Config
from .lifecycle.service import LifecycleService
from .listen_addresses import with_backlog
from .ops.admin_http import admin_resource
from .ops.audit import AuditLog
from .ops.metrics import GatewayMetrics
from .s3.app import S3Gateway
from .s3.streaming import S3Site
from .storage.client import EmbeddedObjectStore
from .storage.datadir import DataDirLock
from .storage.datanode.store import LocalBlockStore
from .storage.om.manager import OzoneManager


def cluster_store(config: Config, reactor: Any) -> Any:
    """The store over the Ozone cluster ``config`` names (``ozone.om.address``)."""
    from .storage.ozone.key_writer import WriteSettings
    from .storage.ozone.om_client import OMClient
    from .storage.ozone.store import ClusterObjectStore

    om = OMClient.connect(
        config.om_grpc_address, reactor, deadline=config.cluster_rpc_timeout
    )
    settings = WriteSettings(
        config.block_size,
        config.chunk_size,
        config.checksum_type,
        config.bytes_per_checksum,
    )
    return ClusterObjectStore(
        om,
        reactor,
        settings,
        deadline=config.cluster_rpc_timeout,
        bucket_layout=config.bucket_layout,
    )


class GatewayService(MultiService):
    log = Logger()

    def __init__(
        self,
        config: Config,
        reactor: Any = None,
        slot: int | None = None,
        listen_fds: tuple[int, ...] = (),
        ready_fd: int | None = None,
        lock: DataDirLock | None = None,
    ) -> None:
        super().__init__()
        self.slot = slot
        self.lock = lock  # the data directory's, held until this process exits
        self._listen_fds = listen_fds
        self._ready_fd = ready_fd
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.config = config
        self.reactor = reactor
        data = os.path.abspath(config.data_dir)
        self.om_executor = ThreadPoolExecutor(reactor, 1, "ozs3-om")
        self.om_read_executor = ThreadPoolExecutor(reactor, 2, "ozs3-om-read")
        # Many I/O threads: concurrent fsyncs of small blocks share the file
        # system's journal commits, so more in flight means more per commit.
        self.io_executor = ThreadPoolExecutor(reactor, 4, "ozs3-io")
        self.hash_executor = ThreadPoolExecutor(reactor, 2, "ozs3-hash")
        self._executors = [
            self.om_executor, self.om_read_executor, self.io_executor,
            self.hash_executor,
        ]  # fmt: skip
        self.om: OzoneManager | None = None
        self.store: Any
        if config.om_grpc_address:
            self.store = cluster_store(config, reactor)
        else:
            self.om = OzoneManager(
                os.path.join(data, "om", "om.db"),
                config.volume,
                self.om_executor,
                self.om_read_executor,
                slot=slot,
            )
            self.datanode = LocalBlockStore(
                os.path.join(data, "hdds"),
                config.chunk_size,
                config.bytes_per_checksum,
                config.checksum_type,
                config.du_reserved,
                config.du_reserved_percent,
            )
            self.store = EmbeddedObjectStore(
                self.om, self.datanode, self.io_executor, config.block_size, reactor,
                config.inline_size,
            )  # fmt: skip
        self.gateway = S3Gateway(self.store, config, self.hash_executor, reactor)
        self.lifecycle: LifecycleService | None = None
        if self.om is not None and config.lifecycle_interval > 0:
            self.lifecycle = LifecycleService(
                self.store, reactor, config.lifecycle_interval, config.lifecycle_day,
                on_expired=self._expired, on_aborted=self._aborted,
                on_run=self._lifecycle_ran,
            )  # fmt: skip
        self.site = S3Site(self.gateway, timeout=config.request_timeout)
        self.metrics = GatewayMetrics()
        self.metrics.in_flight.set_function(lambda: len(self.gateway.active))
        if self.om is not None:
            om = self.om
            self.metrics.om_commits.set_function(lambda: om.groups)
            self.metrics.om_writes.set_function(lambda: om.grouped)
        self.audit: AuditLog | None = None
        self.gateway.observers.append(self._observe)
        self._store_open = False
        admin_site = Site(
            admin_resource(
                self.metrics, self._refresh_metrics, lambda: self._store_open,
                config.raw, loopback_only=config.security_enabled,
            )
        )  # fmt: skip
        s3_endpoints = [] if listen_fds else config.listen
        self._listeners = [
            StreamServerEndpointService(
                serverFromString(reactor, with_backlog(desc)), self.site
            )
            for desc in s3_endpoints
        ] + [
            StreamServerEndpointService(serverFromString(reactor, desc), admin_site)
            for desc in config.admin_listen
        ]
        for listener in self._listeners:
            # Failing to listen must stop twistd with an error, not log and idle.
            listener._raiseSynchronously = True

    def startService(self) -> None:
        # Listen only once the store is open: no request sees a half-open OM.
        from twisted.application.service import Service

        Service.startService(self)
        if self.lock is not None:
            self.lock.record_pid()  # twistd may have daemonized since
        for ex in self._executors:
            ex.start()
        self.ready: Deferred[None] = self._open_store()
        self.ready.addErrback(self._fatal)

    @async_to_deferred
    async def _open_store(self) -> None:
        self.audit = AuditLog(os.path.abspath(self.config.audit_log))
        # A worker reclaims only its own slot: the others are serving.
        await self.store.start(every_slot=self.slot is None)
        self._store_open = True
        for listener in self._listeners:
            listener.startService()
        self._adopted = [self._adopt(fd) for fd in self._listen_fds]
        if self.lifecycle is not None:
            self.lifecycle.startService()
        self.log.info(
            "ozs3 {who} serving S3 on {listen}, data in {data}, volume {volume}",
            who="gateway" if self.slot is None else f"worker {self.slot}",
            listen=", ".join(
                [f"{p.getHost().host}:{p.getHost().port}" for p in self._adopted]
                or self.config.listen
            ),
            data=(
                self.config.om_grpc_address
                and f"the Ozone cluster at {self.config.om_grpc_address}"
            )
            or os.path.abspath(self.config.data_dir),
            volume=self.store.volume,
        )
        if self._ready_fd is not None:
            os.write(self._ready_fd, b"ready\n")
            os.close(self._ready_fd)

    def _adopt(self, fd: int) -> Any:
        """Serve a listening socket inherited from the supervisor."""
        family = socket.socket(fileno=os.dup(fd))
        try:
            af = family.family
        finally:
            family.close()
        port = self.reactor.adoptStreamPort(fd, af, self.site)
        os.close(fd)  # the port holds its own duplicate
        return port

    def _fatal(self, f: Any) -> None:
        self.log.failure("ozs3 cannot start", f)
        # twistd exits 0 after reactor.stop(); a gateway that cannot serve
        # must report failure to its supervisor (systemd, compose, tests).
        self.reactor.addSystemEventTrigger("after", "shutdown", os._exit, 1)
        self.reactor.stop()

    def _refresh_metrics(self) -> Deferred[None]:
        if self.om is None:  # a cluster's totals are its OM's (Recon's) to report
            return succeed(None)
        return self.om.stats().addCallback(lambda s: self.metrics.set_store(*s))

    def _observe(self, request: Any, completed: bool) -> None:
        """One finished request: metrics and the audit log."""
        call = getattr(request, "s3_call", None)
        operation = call.op if call is not None else "Invalid"
        status = int(request.code) if completed else 499  # client went away
        if call is not None and call.upload is not None:
            got = call.upload.size
        else:
            got = len(call.body) if call is not None else 0
        sent = int(request.sentLength or 0)
        seconds = time.monotonic() - request.started
        self.metrics.observe(operation, status, seconds, got, sent)
        if self.audit is not None:
            peer = request.getClientAddress()
            self.audit.record(
                request_id=getattr(request, "s3_request_id", "-"),
                remote=getattr(peer, "host", "-"),
                # Who the signature proved, never who the request claims.
                user=call.principal.access_key
                if call is not None and call.principal is not None
                else "-",
                operation=operation,
                bucket=(call.s3.bucket or "") if call is not None else "",
                key=(call.s3.key or "") if call is not None else "",
                style=call.s3.style if call is not None else "",
                status=status,
                bytes_in=got,
                bytes_out=sent,
                duration_ms=round(seconds * 1000, 2),
                **({} if self.slot is None else {"worker": self.slot}),
            )

    # -- the lifecycle service's work: metrics and the audit log ---------------

    def _lifecycle_record(self, **fields: Any) -> None:
        if self.audit is not None:
            self.audit.record(
                request_id="-", remote="-", user="lifecycle", style="", status=204,
                bytes_in=0, bytes_out=0, duration_ms=0,
                **fields, **({} if self.slot is None else {"worker": self.slot}),
            )  # fmt: skip

    def _expired(self, bucket: str, info: Any, rule_id: str) -> None:
        self.metrics.lifecycle_expired.inc()
        self.metrics.lifecycle_expired_bytes.inc(info.size)
        self._lifecycle_record(
            operation="LifecycleExpiration", bucket=bucket, key=info.key,
            size=info.size, rule_id=rule_id,
        )  # fmt: skip

    def _aborted(self, bucket: str, key: str, upload_id: str, rule_id: str) -> None:
        self.metrics.lifecycle_aborted.inc()
        self._lifecycle_record(
            operation="LifecycleAbortMultipartUpload", bucket=bucket, key=key,
            upload_id=upload_id, rule_id=rule_id,
        )  # fmt: skip

    def _lifecycle_ran(self, report: Any, seconds: float) -> None:
        self.metrics.lifecycle_runs.inc()
        self.metrics.lifecycle_seconds.set(seconds)
        if report.expired or report.aborted:
            self.log.info(
                "lifecycle: {n} objects ({b} bytes) expired, {u} uploads aborted "
                "in {s:.1f} s",
                n=report.expired, b=report.expired_bytes, u=report.aborted, s=seconds,
            )  # fmt: skip

    @async_to_deferred
    async def _stop(self) -> None:
        from twisted.application.service import Service
        from twisted.internet.task import deferLater

        Service.stopService(self)
        # The lifecycle service stops at once (between two batches; the
        # next start resumes its run), not after the requests in flight.
        lifecycle_stopped = None
        if self.lifecycle is not None and self.lifecycle.running:
            lifecycle_stopped = self.lifecycle.stopService()
        # Graceful: stop accepting, let in-flight requests finish within the
        # shutdown timeout, then cut what remains (its uploads are aborted:
        # nothing partial becomes visible, start-up reclaims the rest).
        for listener in self._listeners:
            if listener.running:
                await listener.stopService()
        for port in getattr(self, "_adopted", []):
            await port.stopListening()
        deadline = time.monotonic() + self.config.shutdown_timeout
        while self.gateway.active and time.monotonic() < deadline:
            await deferLater(self.reactor, 0.05, lambda: None)
        if self.gateway.active:
            self.log.warn(
                "shutdown: cutting {n} requests still in flight",
                n=len(self.gateway.active),
            )
            for request in list(self.gateway.active):
                if request.transport is not None:
                    request.transport.abortConnection()
            await deferLater(self.reactor, 0.2, lambda: None)
        if lifecycle_stopped is not None:
            await lifecycle_stopped  # its batch in flight ends first
        if self._store_open:
            await self.store.drain()
        if self.slot is None and self._store_open:
            try:
                await self.store.mark_clean()
            except Exception as e:
                # No marker: the next start sweeps, as after a crash.
                self.log.error("could not record the clean stop: {e}", e=e)
        if self.om is None and self._store_open:
            await self.store.close()
        for ex in reversed(self._executors):
            ex.stop()
        if self.audit is not None:
            self.audit.close()

    def stopService(self) -> Deferred[None]:
        return self._stop()
