"""twistd plugin options and service construction: ``twistd -n ozones3``."""

from __future__ import annotations

import os
from typing import Any

from twisted.application.service import IService
from twisted.python import usage

from .config import Config, ConfigError, load_config


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "Serve the S3 REST API (default port 9878) over an embedded Ozone-style "
        "store (OM metadata and a datanode under one data directory)."
    )
    optParameters = [
        ["config", "c", None, "Path to an ozone-site.xml (Hadoop configuration XML)."],
        ["data-dir", "d", None, "Data directory (overrides ozone.metadata.dirs)."],
        ["domain", None, None, "Virtual-host domain(s), comma separated "
         "(overrides ozone.s3g.domain.name)."],
        ["workers", "w", None, "Gateway processes sharing the sockets and the "
         "store (overrides ozone.s3g.workers; default 1: this process serves)."],
        # Set by the supervisor of --workers for each worker it starts.
        ["worker-slot", None, None, "(internal) this worker's slot."],
        ["ready-fd", None, None, "(internal) fd to report readiness on."],
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []
        self["listen-fd"] = []
        self.config: Config | None = None

    def opt_listen_fd(self, fd: str) -> None:
        """(internal) an inherited listening socket to serve (repeatable)."""
        self["listen-fd"].append(int(fd))

    def child_args(self) -> list[str]:
        """The options a worker gets: the same configuration sources."""
        out = []
        for name in ("config", "data-dir", "domain"):
            if self[name] is not None:
                out += [f"--{name}", self[name]]
        return out

    def parseOptions(self, options: list[str] | None = None) -> None:
        # twistd answers a UsageError with the whole help text; a gateway
        # that cannot start should say why in one line (and exit 1).
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            raise SystemExit(f"ozones3: {e}") from None

    def opt_listen(self, endpoint: str) -> None:
        """A Twisted endpoint string to serve S3 on (repeatable), e.g.
        tcp:9878:interface=127.0.0.1 or ssl:9879:privateKey=key.pem."""
        self["listen"].append(endpoint)

    def postOptions(self) -> None:
        site_xml = None
        if self["config"]:
            try:
                with open(self["config"], "rb") as f:
                    site_xml = f.read()
            except OSError as e:
                raise usage.UsageError(
                    f"cannot read config {self['config']}: {e.strerror}"
                ) from None
        overrides = {}
        if self["data-dir"]:
            overrides["ozone.metadata.dirs"] = self["data-dir"]
        if self["domain"] is not None:
            overrides["ozone.s3g.domain.name"] = self["domain"]
        if self["workers"] is not None:
            overrides["ozone.s3g.workers"] = self["workers"]
        try:
            self.config = load_config(
                site_xml, os.environ, overrides, tuple(self["listen"])
            )
            if self["worker-slot"] is None:
                from .workers import check_workers_config

                check_workers_config(self.config)
        except ConfigError as e:
            raise usage.UsageError(str(e)) from None
        if self.config.om_grpc_address:
            prefer_asyncio_reactor()
        from twisted.internet import reactor
        from twisted.internet.endpoints import serverFromString

        for description in self.config.listen:
            try:
                serverFromString(reactor, description)
            except (ValueError, TypeError, KeyError) as e:
                raise usage.UsageError(
                    f"bad --listen endpoint {description!r}: {e}"
                ) from None


def prefer_asyncio_reactor() -> None:
    """Fronting a cluster: Twisted's asyncio reactor, unless ``twistd -r``
    named another (then it is installed already and kept).  On it every OM,
    datanode and Ratis call uses grpc.aio on the reactor's own loop, 2-3x the
    small-request rate of grpcio's threads (README, "The cluster backend")."""
    import sys

    if "twisted.internet.reactor" not in sys.modules:
        from twisted.internet import asyncioreactor

        asyncioreactor.install()


def makeService(options: Any) -> IService:
    from .service import GatewayService
    from .storage.datadir import DataDirInUse, DataDirLock
    from .workers import WorkerSupervisor

    config = options.config
    assert config is not None
    service: Any
    if config.om_grpc_address:
        check_cluster_gateway(config, probe_om=options["worker-slot"] is None)
    if options["worker-slot"] is not None:
        # Its supervisor holds the data directory's lock (and passed it on).
        service = GatewayService(
            config,
            slot=int(options["worker-slot"]),
            listen_fds=tuple(options["listen-fd"]),
            ready_fd=int(options["ready-fd"]) if options["ready-fd"] else None,
        )
        return service
    # Before anything touches the store: a second gateway on the same data
    # directory would reclaim the first one's in-flight writes (fronting a
    # cluster, it holds only the audit log, whose writers it keeps to one).
    try:
        lock = DataDirLock.acquire(config.data_dir)
    except (DataDirInUse, OSError) as e:
        raise SystemExit(f"ozones3: {e}") from None
    if config.workers > 1:
        service = WorkerSupervisor(config, options.child_args(), lock)
        try:
            service.bind()
        except OSError as e:
            raise SystemExit(f"ozones3: {e}") from None
    else:
        service = GatewayService(config, lock=lock)
    return service


# See ozs3._libc.limit_malloc_arenas.  Only with a cluster: the embedded
# store's GETs lost a third of their speed with capped arenas.
CLUSTER_MALLOC_ARENAS = 2


def check_cluster_gateway(config: Any, probe_om: bool) -> None:
    """Fronting an Ozone cluster: one line and exit 1 if it cannot be done."""
    from ._libc import limit_malloc_arenas
    from .storage.ozone.om_transport import probe

    if config.security_enabled:
        raise SystemExit(
            "ozones3: ozone.security.enabled=true is not supported with a cluster "
            "backend (ozone.om.address) yet"
        )
    # Before any thread starts (the probe's are grpc's first).
    limit_malloc_arenas(CLUSTER_MALLOC_ARENAS)
    if probe_om:
        problem = probe(config.om_grpc_address, min(config.cluster_rpc_timeout, 10.0))
        if problem:
            raise SystemExit(f"ozones3: {problem}")
