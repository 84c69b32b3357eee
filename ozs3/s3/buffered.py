"""Small request bodies (the XML of DeleteObjects, CompleteMultipartUpload,
CreateBucket, ...) held in memory, and only once the request is authenticated.

``S3HTTPRequest`` hands a ``BufferedBody`` the body of every operation that
does not stream (see ``S3Gateway.plan_body``).  From the end of the headers
until admission (authentication, authorization, the size declared) has
passed, the transport is paused: what arrived in the same read as the
headers is kept, up to ``UNAUTHENTICATED_LIMIT``, and nothing more is read.
Admitted, the body may grow to ``limit`` (``ozone.s3g.max.xml.body.size``);
a byte more refuses the request.  Nothing goes to disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from .errors import S3Error

if TYPE_CHECKING:
    from .context import Call

# Bytes kept for a request whose credentials are not checked yet: one read's
# worth arrives with the headers; more would mean the pause did not hold.
UNAUTHENTICATED_LIMIT = 256 << 10


class BufferedBody:
    def __init__(self, request: Any, call: Call, limit: int) -> None:
        self._request = request
        self._call = call
        self._limit = limit
        self._chunks: list[bytes] = []
        self.size = 0
        self._admitted = False
        self._failed = False
        self._pause()

    def start(self) -> None:
        """Admission passed: read the rest of the body."""
        self._admitted = True
        transport = self._request.transport
        if transport is not None and not self._failed:
            transport.resumeProducing()

    def data_received(self, data: bytes) -> None:
        if self._failed:
            return
        self.size += len(data)
        if not self._admitted:
            # The channel may resume the transport behind our back (when its
            # send buffer drains): keep it paused until admission.
            self._pause()
            if self.size > UNAUTHENTICATED_LIMIT:
                self._fail(S3Error("SlowDown"))
                return
        if self.size > self._limit:
            self._fail(S3Error("MaxMessageLengthExceeded"))
            return
        self._chunks.append(data)

    def body_complete(self) -> None:
        if not self._failed:
            self._call.body = b"".join(self._chunks)
        self._chunks = []

    def connection_lost(self) -> None:
        self._chunks = []

    def _fail(self, error: S3Error) -> None:
        self._failed = True
        self._chunks = []
        self._request.upload_failed(Failure(error))

    def _pause(self) -> None:
        transport = self._request.transport
        if transport is not None:
            transport.pauseProducing()
