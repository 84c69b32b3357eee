"""The web admin port (Ozone's s3g uses 19878): /prom, /health, /conf.

/conf shows only the keys ozs3 reads (an ozone-site.xml shared with a real
cluster holds cloud account keys, keystore passwords, JDBC URLs), values of
sensitive ones redacted as Hadoop's ConfigRedactor does.  With security on,
everything but /prom and /health answers only clients on loopback: the port
listens on 0.0.0.0 by default, and metrics and health are what monitoring
from elsewhere needs.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred
from twisted.web.pages import forbidden
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET, Request

from ..config import DEFAULTS
from .metrics import GatewayMetrics

# Hadoop's hadoop.security.sensitive-config-keys default (CommonConfiguration
# KeysPublic, Hadoop 3.4), matched anywhere in a key (Matcher.find); the
# configured list, if any, adds to it.
SENSITIVE_KEYS_KEY = "hadoop.security.sensitive-config-keys"
HADOOP_SENSITIVE_KEYS = (
    "secret$", "password$", "username$", "ssl.keystore.pass$",
    "fs.s3.*[Ss]ecret.?[Kk]ey", "fs.s3a.*.server-side-encryption.key",
    "fs.s3a.encryption.algorithm", "fs.s3a.encryption.key",
    r"fs.azure\.account.key.*", "credential$", "oauth.*secret",
    "oauth.*password", "oauth.*token", SENSITIVE_KEYS_KEY,
)  # fmt: skip
# And ozs3's own, looser rule: these words anywhere in a key name.
_SECRET_WORD = r"(?i:secret|password|passwd|token|credential)"
REDACTED = "<redacted>"
PUBLIC_PATHS = (b"prom", b"health")


def _sensitive(conf: Mapping[str, str]) -> re.Pattern[str]:
    configured = [p.strip() for p in conf.get(SENSITIVE_KEYS_KEY, "").split(",")]
    patterns = [*HADOOP_SENSITIVE_KEYS, *filter(None, configured), _SECRET_WORD]
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def redacted(conf: Mapping[str, str]) -> dict[str, str]:
    """The keys ozs3 reads, with their effective values; sensitive ones
    redacted."""
    sensitive = _sensitive(conf)
    return {
        k: (REDACTED if sensitive.search(k) else v)
        for k, v in conf.items()
        if k in DEFAULTS
    }


def is_loopback(request: Request) -> bool:
    host = getattr(request.getClientAddress(), "host", None)
    if host is None:
        return True  # a unix socket: local
    try:
        addr = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


class _AdminRoot(Resource):
    def __init__(self, loopback_only: bool) -> None:
        super().__init__()
        self._loopback_only = loopback_only

    def getChildWithDefault(self, path: bytes, request: Request) -> IResource:
        if (
            self._loopback_only
            and path not in PUBLIC_PATHS
            and not is_loopback(request)
        ):
            return forbidden(message="Only /prom and /health answer off loopback.")
        return super().getChildWithDefault(path, request)


class _Leaf(Resource):
    isLeaf = True

    def __init__(
        self, render: Callable[[Request], bytes | Deferred[bytes]], ctype: str
    ):
        super().__init__()
        self._render = render
        self._ctype = ctype

    def render_GET(self, request: Request) -> Any:
        request.setHeader(b"content-type", self._ctype.encode())
        result = self._render(request)
        if isinstance(result, Deferred):

            def done(body: bytes) -> None:
                if not request._disconnected:
                    request.write(body)
                    request.finish()

            result.addCallback(done)
            return NOT_DONE_YET
        return result


def admin_resource(
    metrics: GatewayMetrics,
    refresh: Callable[[], Deferred[None]],
    ready: Callable[[], bool],
    conf: Mapping[str, str],
    loopback_only: bool = False,
) -> Resource:
    """``loopback_only``: all but /prom and /health answer 403 to clients
    that are not on loopback (with security on)."""
    root = _AdminRoot(loopback_only)

    def prom(request: Request) -> Deferred[bytes]:
        return refresh().addCallback(lambda _: metrics.render())

    def health(request: Request) -> bytes:
        ok = ready()
        request.setResponseCode(200 if ok else 503)
        return json.dumps({"status": "ready" if ok else "starting"}).encode() + b"\n"

    def conf_page(request: Request) -> bytes:
        return json.dumps(redacted(conf), indent=1, sort_keys=True).encode() + b"\n"

    children: dict[bytes, Any] = {
        b"prom": _Leaf(prom, "text/plain; version=0.0.4; charset=utf-8"),
        b"health": _Leaf(health, "application/json"),
        b"conf": _Leaf(conf_page, "application/json"),
    }
    for name, child in children.items():
        root.putChild(name, child)
    return root
