"""The bucket browser page: ``GET /bucket?browser=true``.

A static page; it asks for the access key and secret, keeps them in the
tab's session storage and signs its S3 requests itself (SigV4 with WebCrypto),
so no secret is ever in a URL or a server log.  Serving the page needs no
credentials: everything it then does is an ordinary signed S3 request.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from ..context import Call, S3Response

if TYPE_CHECKING:
    from ..app import S3Gateway

_PAGE: bytes | None = None


def page() -> bytes:
    global _PAGE
    if _PAGE is None:
        _PAGE = resources.files("ozs3.s3").joinpath("browser/index.html").read_bytes()
    return _PAGE


async def bucket_browser(gw: S3Gateway, call: Call) -> S3Response:
    return S3Response(
        200,
        {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store",
            # Presigned download links must not leak through Referer.
            "referrer-policy": "no-referrer",
            "content-security-policy": "default-src 'self'; script-src 'self' "
            "'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
            "x-content-type-options": "nosniff",
        },
        page(),
    )
