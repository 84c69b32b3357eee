"""The web admin port (Ozone's s3g uses 19878): /prom, /health, /conf."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from .metrics import GatewayMetrics

_SECRET_KEY = re.compile(r"(secret|password|token|credential)", re.IGNORECASE)


def redacted(conf: Mapping[str, str]) -> dict[str, str]:
    return {k: ("<redacted>" if _SECRET_KEY.search(k) else v) for k, v in conf.items()}


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
) -> Resource:
    root = Resource()

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
