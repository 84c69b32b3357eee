"""What the gateway reads off a Twisted request before an S3 call exists:
its request id, headers, resource and declared length."""

from __future__ import annotations

import random
from typing import Any

from twisted.web.server import Request as IRequest

from .context import Headers


def request_id(request: Any) -> str:
    rid = getattr(request, "s3_request_id", None)
    if rid is None:
        # Unique, not secret: no getrandom() syscall per request.
        rid = f"{random.getrandbits(64):016X}"
        request.s3_request_id = rid
    return str(rid)


def headers_of(request: IRequest) -> Headers:
    return Headers(
        tuple(
            (name.decode("latin-1").lower(), value.decode("utf-8", "replace"))
            for name, values in request.requestHeaders.getAllRawHeaders()
            for value in values
        )
    )


def resource_of(uri: bytes) -> str:
    from urllib.parse import unquote

    return unquote(uri.split(b"?", 1)[0].decode("latin-1"))


def declared_length(request: IRequest) -> int | None:
    value = request.getHeader(b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
