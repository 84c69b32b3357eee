"""Configuration the Ozone way: ``ozone-site.xml`` plus environment overrides.

Pure: ``load_config(xml_bytes, environ, overrides)`` returns a frozen ``Config``
or raises ``ConfigError`` with a one-line message.  Precedence, highest first:
twistd options (``overrides``), ``OZONE-SITE.XML_<key>=<value>`` environment
variables (the convention of Ozone's container images), the XML file, and the
defaults in ``DEFAULTS``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

import attrs
from lxml import etree

from .config_values import (
    ConfigError,
    parse_bool,
    parse_fraction,
    parse_reserved,
    parse_seconds,
    parse_size,
    positive,
)
from .listen_addresses import address_to_endpoint, listeners, with_bind_host

ENV_PREFIX = "OZONE-SITE.XML_"

# Every key ozs3 reads, with its default, in one place.  Ozone's own key names.
DEFAULTS: dict[str, str] = {
    "ozone.s3g.http-address": "0.0.0.0:9878",
    "ozone.s3g.https-address": "0.0.0.0:9879",
    # HTTP_ONLY, HTTPS_ONLY or HTTP_AND_HTTPS, as in Ozone.
    "ozone.http.policy": "HTTP_ONLY",
    # PEM files for HTTPS (Ozone takes a Java keystore; these are ozs3's keys).
    "ozone.s3g.https.certificate.file": "",
    "ozone.s3g.https.private.key.file": "",
    "ozone.s3g.domain.name": "",
    "ozone.s3g.volume.name": "s3v",
    "ozone.metadata.dirs": "ozs3-data",
    "ozone.security.enabled": "false",
    "ozone.administrators": "",
    "ozone.scm.block.size": "256MB",
    "ozone.scm.chunk.size": "4MB",
    "ozone.client.bytes.per.checksum": "16KB",
    # Empty: the backend's default (embedded: CRC32C, fast here; a cluster:
    # CRC32, Ozone's own default, so its Java clients see what they expect).
    "ozone.client.checksum.type": "",
    "ozone.s3g.list.max.keys.limit": "1000",
    "ozone.s3g.max.object.size": "5GB",
    "ozone.s3g.max.xml.body.size": "4MB",
    "ozone.s3g.request.timeout": "60s",
    # The web admin port: /prom, /health, /conf.
    "ozone.s3g.webadmin.http-address": "0.0.0.0:19878",
    # ozs3's own: gateway processes sharing the listening sockets and store.
    "ozone.s3g.workers": "1",
    "ozone.s3g.webadmin.http.enabled": "true",
    # One JSON line per request; empty: <data dir>/logs/s3g-audit.log.
    "ozone.s3g.audit.log.file": "",
    # On SIGTERM, how long in-flight requests may take before they are cut.
    "ozone.s3g.shutdown.timeout": "30s",
    # Space block writes leave free on the data directory's file system, so
    # that metadata writes and deletes always fit.  Ozone's semantics: a
    # size, or "dir:size" pairs (the entry naming the data directory counts),
    # and a fraction of the capacity; the larger wins.  (Ozone reserves
    # nothing by default; ozs3's OM shares the disk, hence 64MB.)
    "hdds.datanode.dir.du.reserved": "64MB",
    "hdds.datanode.dir.du.reserved.percent": "0.0001",
    # Front a real Ozone cluster: its OM's host:port (Hadoop RPC; ozs3 uses
    # the host with ozone.om.grpc.port).  Empty: the embedded store.
    "ozone.om.address": "",
    "ozone.om.grpc.port": "8981",
    "ozone.s3g.default.bucket.layout": "OBJECT_STORE",
    # ozs3's own: the deadline of every OM and datanode call on a cluster.
    "ozone.s3g.cluster.rpc.timeout": "30s",
    # The lifecycle service: how often it looks for expired objects and
    # stale multipart uploads (0: never; it runs in one gateway process).
    "ozone.s3g.lifecycle.interval": "1h",
    # FOR TESTS ONLY: how long a lifecycle "day" lasts (S3: 24 hours), so
    # that tests can expire objects in seconds.  Never change it in use.
    "ozone.s3g.lifecycle.test.day.length": "24h",
    # ozs3's own, the embedded store: objects (and parts) up to this size
    # keep their bytes in the OM's database, written with the key in one
    # transaction, instead of in a block file of their own (0: never).
    "ozone.s3g.embedded.inline.max.size": "64KB",
    # Where the S3 and admin ports listen, overriding the addresses' hosts.
    "ozone.s3g.http-bind-host": "",
    "ozone.s3g.webadmin.http-bind-host": "",
}

# Ozone's own gateway's keys that mean nothing to ozs3 (Kerberos, its /secret
# REST API, Jetty buffers, FSO directory emulation...): a real cluster's
# ozone-site.xml may set them, so they are accepted, and not used.
IGNORED_OZONE_S3G_KEYS = frozenset({
    "ozone.s3g.http.enabled",
    "ozone.s3g.https-bind-host",
    "ozone.s3g.webadmin.https-address",
    "ozone.s3g.webadmin.https-bind-host",
    "ozone.s3g.client.buffer.size",
    "ozone.s3g.fso.directory.creation",
    "ozone.s3g.list-keys.shallow.enabled",
    "ozone.s3g.metrics.percentiles.intervals.seconds",
    "ozone.s3g.secret.http.enabled",
    "ozone.s3g.secret.http.auth.type",
    "ozone.s3g.http.auth.type",
    "ozone.s3g.http.auth.kerberos.principal",
    "ozone.s3g.http.auth.kerberos.keytab",
    "ozone.s3g.kerberos.principal",
    "ozone.s3g.kerberos.keytab.file",
})  # fmt: skip
_LAYOUTS = ("OBJECT_STORE", "FILE_SYSTEM_OPTIMIZED", "LEGACY")

# Keys in ozs3's own namespace must be known: a typo there is an error, while
# other Ozone keys (a real cluster's ozone-site.xml has hundreds) are ignored.
_STRICT_PREFIXES = ("ozone.s3g.",)

_CHECKSUM_TYPES = ("CRC32C", "CRC32", "NONE")


@attrs.frozen
class Config:
    listen: tuple[str, ...]
    domains: tuple[str, ...]
    volume: str
    data_dir: str
    security_enabled: bool
    administrators: tuple[str, ...]
    block_size: int
    chunk_size: int
    bytes_per_checksum: int
    checksum_type: str
    max_keys_limit: int
    max_object_size: int
    max_xml_body: int
    request_timeout: float
    admin_listen: tuple[str, ...]
    audit_log: str
    shutdown_timeout: float
    workers: int = 1
    du_reserved: int = 0
    du_reserved_percent: float = 0.0
    # A cluster to front (OM gRPC host:port); "": the embedded store.
    om_grpc_address: str = ""
    bucket_layout: str = "OBJECT_STORE"
    cluster_rpc_timeout: float = 30.0
    lifecycle_interval: float = 3600.0
    lifecycle_day: float = 86400.0
    inline_size: int = 64 * 1024
    raw: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)


# The largest inline size allowed: an inline block's bytes are one SQLite row,
# written to the WAL and read whole by every GET of the object.
MAX_INLINE_SIZE = 1024 * 1024


def _inline_size(get: Callable[[str], str], block_size: int) -> int:
    key = "ozone.s3g.embedded.inline.max.size"
    size = parse_size(key, get(key))
    if size > min(MAX_INLINE_SIZE, block_size):
        raise ConfigError(f"{key}: at most 1MB and the block size ({block_size} bytes)")
    return size


def parse_site_xml(data: bytes) -> dict[str, str]:
    """Read Hadoop configuration XML: ``<configuration><property>...``."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise ConfigError(f"ozone-site.xml is not well-formed XML: {e}") from None
    if root.tag != "configuration":
        raise ConfigError(
            f"ozone-site.xml: root element must be <configuration>, not <{root.tag!s}>"
        )
    props: dict[str, str] = {}
    for prop in root.iter("property"):
        name = prop.findtext("name")
        if not name or not name.strip():
            raise ConfigError("ozone-site.xml: a <property> has no <name>")
        props[name.strip()] = (prop.findtext("value") or "").strip()
    return props


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        k[len(ENV_PREFIX) :]: v for k, v in environ.items() if k.startswith(ENV_PREFIX)
    }


def load_config(
    site_xml: bytes | None,
    environ: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
    listen: tuple[str, ...] = (),
) -> Config:
    """Merge every source and validate the result."""
    merged = dict(DEFAULTS)
    if site_xml is not None:
        merged.update(parse_site_xml(site_xml))
    merged.update(env_overrides(environ))
    merged.update(overrides or {})
    unknown = sorted(
        k
        for k in merged
        if k.startswith(_STRICT_PREFIXES)
        and k not in DEFAULTS
        and k not in IGNORED_OZONE_S3G_KEYS
    )
    if unknown:
        raise ConfigError(f"unknown configuration key: {unknown[0]}")

    def get(key: str) -> str:
        return merged[key]

    volume = get("ozone.s3g.volume.name")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", volume):
        raise ConfigError(f"ozone.s3g.volume.name: invalid volume name {volume!r}")
    om_grpc_address = _om_grpc_address(get)
    checksum_type = get("ozone.client.checksum.type").strip().upper()
    if not checksum_type:
        checksum_type = "CRC32" if om_grpc_address else "CRC32C"
    if checksum_type not in _CHECKSUM_TYPES:
        raise ConfigError(
            f"ozone.client.checksum.type: {checksum_type!r} is not one of "
            + ", ".join(_CHECKSUM_TYPES)
        )
    data_dirs = [d.strip() for d in get("ozone.metadata.dirs").split(",") if d.strip()]
    if not data_dirs:
        raise ConfigError("ozone.metadata.dirs: must name a directory")
    block_size = parse_size("ozone.scm.block.size", get("ozone.scm.block.size"))
    chunk_size = parse_size("ozone.scm.chunk.size", get("ozone.scm.chunk.size"))
    bpc = parse_size(
        "ozone.client.bytes.per.checksum", get("ozone.client.bytes.per.checksum")
    )
    if not 0 < bpc <= chunk_size <= block_size:
        raise ConfigError(
            "sizes must satisfy 0 < bytes.per.checksum <= chunk.size <= block.size"
        )
    try:
        max_keys = int(get("ozone.s3g.list.max.keys.limit"))
    except ValueError:
        raise ConfigError("ozone.s3g.list.max.keys.limit: not an integer") from None
    if max_keys < 1:
        raise ConfigError("ozone.s3g.list.max.keys.limit: must be at least 1")
    try:
        workers = int(get("ozone.s3g.workers"))
    except ValueError:
        raise ConfigError("ozone.s3g.workers: not an integer") from None
    if not 1 <= workers <= 64:
        raise ConfigError("ozone.s3g.workers: must be between 1 and 64")
    if not listen:
        listen = listeners(get)
    return Config(
        workers=workers,
        listen=tuple(listen),
        domains=tuple(
            d.strip().strip("[]").lower()
            for d in get("ozone.s3g.domain.name").split(",")
            if d.strip()
        ),
        volume=volume,
        data_dir=data_dirs[0],
        security_enabled=parse_bool(
            "ozone.security.enabled", get("ozone.security.enabled")
        ),
        administrators=tuple(
            a.strip() for a in get("ozone.administrators").split(",") if a.strip()
        ),
        block_size=block_size,
        chunk_size=chunk_size,
        bytes_per_checksum=bpc,
        checksum_type=checksum_type,
        max_keys_limit=max_keys,
        max_object_size=parse_size(
            "ozone.s3g.max.object.size", get("ozone.s3g.max.object.size")
        ),
        max_xml_body=parse_size(
            "ozone.s3g.max.xml.body.size", get("ozone.s3g.max.xml.body.size")
        ),
        request_timeout=parse_seconds(
            "ozone.s3g.request.timeout", get("ozone.s3g.request.timeout")
        ),
        admin_listen=(
            (
                address_to_endpoint(
                    "ozone.s3g.webadmin.http-address",
                    with_bind_host(
                        get("ozone.s3g.webadmin.http-address"),
                        get("ozone.s3g.webadmin.http-bind-host"),
                    ),
                ),
            )
            if parse_bool(
                "ozone.s3g.webadmin.http.enabled",
                get("ozone.s3g.webadmin.http.enabled"),
            )
            else ()
        ),
        audit_log=get("ozone.s3g.audit.log.file")
        or os.path.join(data_dirs[0], "logs", "s3g-audit.log"),
        shutdown_timeout=parse_seconds(
            "ozone.s3g.shutdown.timeout", get("ozone.s3g.shutdown.timeout")
        ),
        lifecycle_interval=parse_seconds(
            "ozone.s3g.lifecycle.interval", get("ozone.s3g.lifecycle.interval")
        ),
        lifecycle_day=positive(
            "ozone.s3g.lifecycle.test.day.length",
            parse_seconds(
                "ozone.s3g.lifecycle.test.day.length",
                get("ozone.s3g.lifecycle.test.day.length"),
            ),
        ),
        du_reserved=parse_reserved(
            "hdds.datanode.dir.du.reserved",
            get("hdds.datanode.dir.du.reserved"),
            data_dirs[0],
        ),
        du_reserved_percent=parse_fraction(
            "hdds.datanode.dir.du.reserved.percent",
            get("hdds.datanode.dir.du.reserved.percent"),
        ),
        om_grpc_address=om_grpc_address,
        bucket_layout=_layout(get("ozone.s3g.default.bucket.layout")),
        inline_size=_inline_size(get, block_size),
        cluster_rpc_timeout=parse_seconds(
            "ozone.s3g.cluster.rpc.timeout", get("ozone.s3g.cluster.rpc.timeout")
        ),
        raw=merged,
    )


def _om_grpc_address(get: Callable[[str], str]) -> str:
    """host:port of the OM's gRPC service, or "" (no cluster configured)."""
    address = get("ozone.om.address").strip()
    if not address:
        return ""
    host, sep, _ = address.rpartition(":")
    host = (host if sep else address).strip("[]")
    if not host:
        raise ConfigError(f"ozone.om.address: expected host[:port], got {address!r}")
    port = get("ozone.om.grpc.port").strip()
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 0 < int(port) <= 65535:
        raise ConfigError(f"ozone.om.grpc.port: not a port: {port!r}")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _layout(text: str) -> str:
    layout = text.strip().upper()
    if layout not in _LAYOUTS:
        raise ConfigError(
            f"ozone.s3g.default.bucket.layout: {text!r} is not one of "
            + ", ".join(_LAYOUTS)
        )
    return layout
