"""The gateway as a twistd service tree: thread pools, the embedded store
(OM + datanode) and one listening endpoint per ``--listen``."""

from __future__ import annotations

import os
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger

from ._deferred import async_to_deferred
from ._executor import ThreadPoolExecutor
from .config import Config
from .s3.app import S3Gateway
from .s3.streaming import S3Site
from .storage.client import EmbeddedObjectStore
from .storage.datanode.store import LocalBlockStore
from .storage.om.manager import OzoneManager


class GatewayService(MultiService):
    log = Logger()

    def __init__(self, config: Config, reactor: Any = None) -> None:
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.config = config
        self.reactor = reactor
        data = os.path.abspath(config.data_dir)
        self.om_executor = ThreadPoolExecutor(reactor, 1, "ozs3-om")
        self.io_executor = ThreadPoolExecutor(reactor, 4, "ozs3-io")
        self.hash_executor = ThreadPoolExecutor(reactor, 2, "ozs3-hash")
        self.om = OzoneManager(
            os.path.join(data, "om", "om.db"), config.volume, self.om_executor
        )
        self.datanode = LocalBlockStore(
            os.path.join(data, "hdds"),
            config.chunk_size,
            config.bytes_per_checksum,
            config.checksum_type,
        )
        self.store = EmbeddedObjectStore(
            self.om, self.datanode, self.io_executor, config.block_size
        )
        self.gateway = S3Gateway(self.store, config, self.hash_executor, reactor)
        self.site = S3Site(self.gateway, timeout=config.request_timeout)
        self._listeners = [
            StreamServerEndpointService(serverFromString(reactor, desc), self.site)
            for desc in config.listen
        ]
        for listener in self._listeners:
            # Failing to listen must stop twistd with an error, not log and idle.
            listener._raiseSynchronously = True

    def startService(self) -> None:
        # Listen only once the store is open: no request sees a half-open OM.
        from twisted.application.service import Service

        Service.startService(self)
        for ex in (self.om_executor, self.io_executor, self.hash_executor):
            ex.start()
        self.ready: Deferred[None] = self._open_store()
        self.ready.addErrback(self._fatal)

    @async_to_deferred
    async def _open_store(self) -> None:
        await self.store.start()
        for listener in self._listeners:
            listener.startService()
        self.log.info(
            "ozs3 serving S3 on {listen}, data in {data}, volume {volume}",
            listen=", ".join(self.config.listen),
            data=os.path.abspath(self.config.data_dir),
            volume=self.config.volume,
        )

    def _fatal(self, f: Any) -> None:
        self.log.failure("ozs3 cannot start", f)
        # twistd exits 0 after reactor.stop(); a gateway that cannot serve
        # must report failure to its supervisor (systemd, compose, tests).
        self.reactor.addSystemEventTrigger("after", "shutdown", os._exit, 1)
        self.reactor.stop()

    @async_to_deferred
    async def _stop(self) -> None:
        from twisted.application.service import Service

        Service.stopService(self)
        for listener in self._listeners:
            if listener.running:
                await listener.stopService()
        pending = self.store.wait_idle()
        if pending is not None:
            await pending
        for ex in (self.hash_executor, self.io_executor, self.om_executor):
            ex.stop()

    def stopService(self) -> Deferred[None]:
        return self._stop()
