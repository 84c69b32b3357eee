"""Streaming request bodies: from the socket into storage as they arrive.

twisted.web buffers a whole body before any resource runs.  ``S3HTTPRequest``
takes over at ``gotLength`` (headers complete, body unread) for every request
with a body: it runs admission (routing, authentication, then for operations
that stream, such as PutObject, bucket lookup, header checks, open key) while
the socket is held, answers ``Expect: 100-continue`` itself, or refuses with
the final response without reading the body.  Other operations' bodies go to
a ``BufferedBody`` (buffered.py), in memory and capped; streamed bodies to an
``UploadSink`` (upload_sink.py), which stores them with backpressure.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from io import BytesIO
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import ITCPTransport
from twisted.python.failure import Failure
from twisted.web import server
from twisted.web.http_headers import Headers

from ..heap import HEAP
from .buffered import BufferedBody
from .channel import s3_channel_protocol, send_held
from .errors import S3Error
from .form_sink import FormSink
from .headers import http_date_bytes
from .upload_sink import UploadSink

if TYPE_CHECKING:
    from .app import S3Gateway

LINGER_SECONDS = 5.0
READ_SIZE = 1 << 16  # Twisted's tcp.Connection.bufferSize
UPLOAD_READ = 1 << 20


def request_line(channel: Any) -> tuple[bytes, bytes, bytes]:
    """Method, raw URI and version before ``requestReceived`` sets them.

    These are private attributes of ``HTTPChannel`` (stable since 2004); a
    test pins them so a Twisted upgrade that renames them fails loudly.
    """
    return channel._command, channel._path, channel._version


class S3ResponseHeaders(Headers):
    """Response headers that send ``x-amz-*`` names in lower case, as S3 does.

    Twisted writes every name in Header-Case; header names are case-insensitive,
    but SDKs return ``x-amz-meta-*`` names with the case they received, so
    ``x-amz-meta-foo`` must not come back as ``Foo``.
    """

    def getAllRawHeaders(self) -> Iterator[tuple[bytes, Sequence[bytes]]]:
        for name, values in super().getAllRawHeaders():
            if name.startswith(b"X-Amz-"):
                name = name.lower()
            yield name, values


class S3HTTPRequest(server.Request):
    """A Request that authenticates before it reads a body, and streams
    upload bodies instead of buffering them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responseHeaders = S3ResponseHeaders()
        self.started = time.monotonic()

    def track(self, gateway: S3Gateway) -> None:
        """Count this request as in flight until it ends, then tell the
        gateway's observers (metrics, audit log)."""
        self.gateway = gateway
        gateway.active.add(self)
        self.notifyFinish().addBoth(self._ended)

    def _ended(self, result: object) -> None:
        self.gateway.active.discard(self)
        if getattr(self.transport, "bufferSize", None) == UPLOAD_READ:
            self.transport.bufferSize = READ_SIZE
        if self._heap_counted and isinstance(self.sink, UploadSink):
            HEAP.ended(self.sink.size, self.gateway.clock)
        if isinstance(self.sink, UploadSink | FormSink) and not self._processing:
            # Ended before its handler ran (which releases the sink itself,
            # once it has committed or failed).
            self.sink.release()
        for observer in self.gateway.observers:
            observer(self, result is None)

    gateway: S3Gateway
    transport: Any
    sink: UploadSink | BufferedBody | FormSink | None = None
    s3_call: Any = None
    _expect: Sequence[bytes] | None = None
    _admitting: bool = False
    _body_done: tuple[bytes, bytes, bytes] | None = None
    _lingering: Any = None  # an IDelayedCall
    _rejected = False
    _processing = False
    _heap_counted = False  # a stored body: counted by HEAP until it ends

    def gotLength(self, length: int | None) -> None:
        method, uri, version = request_line(self.channel)
        try:
            plan = self.gateway.plan_body(self, method, uri, length)
        except S3Error as error:
            self._reject_before_body(method, uri, version, error)
            return
        if plan is None:  # no body
            super().gotLength(length)
            return
        # The sink has the body: requestReceived() will seek this placeholder.
        self.method, self.uri, self.clientproto = method, uri, version
        self.content = BytesIO()
        expect = self.requestHeaders.getRawHeaders(b"expect")
        if expect is not None:
            # Keep Twisted from sending 100 Continue before admission.
            self._expect = expect
            self.requestHeaders.removeHeader(b"expect")
        self.sink = plan
        self._admitting = True
        d = self.gateway.admit(self)
        d.addCallbacks(self._admitted, self._refused)

    def _reject_before_body(
        self, method: bytes, uri: bytes, version: bytes, error: S3Error
    ) -> None:
        self.method, self.uri, self.clientproto = method, uri, version
        self._rejected = True
        self._expect = self.requestHeaders.getRawHeaders(b"expect")
        self.requestHeaders.removeHeader(b"expect")
        self.gateway.write_early_error(self, error, body_read=False)
        self._linger_or_finish()

    def _admitted(self, _: object) -> None:
        self._admitting = False
        if self._disconnected or self.finished or self._rejected:
            return
        if isinstance(self.sink, UploadSink) and isinstance(
            getattr(self.transport, "bufferSize", None), int
        ):
            # A stored body: read it from the socket in pieces of UPLOAD_READ
            # (Twisted reads 64 KiB at a time), far fewer trips through the
            # HTTP parser per MiB.  The sink's high-water mark still bounds
            # what is held.  The connection's next request reads as usual.
            self.transport.bufferSize = UPLOAD_READ
        if isinstance(self.sink, UploadSink):
            self._heap_counted = True
            HEAP.started()
        if (
            self._expect
            and self._expect[0].lower() == b"100-continue"
            and self.clientproto == b"HTTP/1.1"
            and self._body_done is None
        ):
            send_held(self.channel)  # a response still held goes first
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if self._body_done is not None:
            self._process()

    def _refused(self, f: Failure) -> None:
        self._admitting = False
        if self._disconnected or self.finished:
            return
        self.upload_failed(f)

    def upload_failed(self, f: Failure) -> None:
        """Admission refused, or storage/decoding failed mid-body."""
        if self._rejected or self._disconnected or self.finished:
            return
        if self._processing:
            return  # the handler is running and will render the failure
        self._rejected = True
        self.gateway.write_early_failure(self, f, body_read=self._body_done is not None)
        if self._body_done is not None:
            self.finish()
            return
        self._linger_or_finish()

    def _linger_or_finish(self) -> None:
        # Closing a socket with unread input makes the kernel send RST, which
        # can destroy the response before the client reads it: half-close,
        # then keep reading (and discarding) for a few seconds.
        client_is_sending = not self._expect
        if client_is_sending and ITCPTransport.providedBy(self.transport):
            send_held(self.channel)  # the refusal, before the half-close
            self.transport.resumeProducing()
            self.transport.loseWriteConnection()
            self._lingering = self.gateway.clock.callLater(
                LINGER_SECONDS, self.transport.abortConnection
            )
            return
        self.finish()

    def handleContentChunk(self, data: bytes) -> None:
        if self._rejected:
            return  # answered: the rest is read (lingering) and dropped
        if self.sink is not None:
            self.sink.data_received(data)
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self._rejected:
            if self._lingering is not None and self._lingering.active():
                self._lingering.cancel()
                self._lingering = None
                if not self.finished:
                    self.finish()
            return
        if self.sink is None:
            super().requestReceived(command, path, version)
            return
        self._body_done = (command, path, version)
        self.sink.body_complete()
        if not self._admitting and not self.finished and not self._rejected:
            self._process()

    def _process(self) -> None:
        if self._expect is not None:
            self.requestHeaders.setRawHeaders(b"expect", self._expect)
        assert self._body_done is not None
        self._processing = True
        super().requestReceived(*self._body_done)

    def process(self) -> None:
        """twisted.web's ``Request.process`` without what this gateway never
        uses, on the path of every request: its one resource is a leaf that
        parses the raw URI itself (no traversal, no ``postpath`` of unquoted
        segments, no content encoders), its Server header is set where
        responses are written (``S3Gateway._emit``), and the Date header is
        formatted once per second, not once per response."""
        self.site = self.channel.site  # type: ignore[attr-defined]
        self.setHeader(b"Date", http_date_bytes(int(time.time())))
        self.prepath = []
        self.postpath = []
        if self.path == b"*":
            self._handleStar()
            return
        try:
            self.render(self.site.resource)
        except BaseException:
            self.processingFailed(Failure())

    def _handleStar(self) -> None:
        # "OPTIONS *" (or any method on "*"): S3's answer, not Twisted's
        # empty 200 / 405.
        assert self.site is not None  # process() has set it
        self.render(self.site.resource)

    def processingFailed(self, reason: Failure) -> None:
        """A bug outside the handlers' error path: S3 XML, not Twisted's
        HTML page."""
        self.gateway.log.failure("request processing failed", reason)
        self.gateway.write_early_failure(self, reason, body_read=True)
        if not self.finished and not self._disconnected:
            self.finish()

    def connectionLost(self, reason: Failure) -> None:
        if self._lingering is not None and self._lingering.active():
            self._lingering.cancel()
        if self.sink is not None:
            self.sink.connection_lost()
        super().connectionLost(reason)


class S3Site(server.Site):
    """A Site whose requests stream uploads into ``gateway``, on channels
    that send what a turn's responses wrote at the end of the turn
    (channel.py)."""

    protocol = s3_channel_protocol

    def __init__(self, gateway: S3Gateway, timeout: float) -> None:
        super().__init__(gateway.resource(), timeout=timeout)
        self.gateway = gateway
        self.requestFactory = self._make_request  # type: ignore[assignment]
        self.parsePOSTFormSubmission = False

    def _make_request(self, channel: Any, queued: object = None) -> S3HTTPRequest:
        request = S3HTTPRequest(channel)
        request.track(self.gateway)
        return request

    def log(self, request: Any) -> None:
        """No Twisted access log: the audit log (ozs3.ops.audit) has one
        structured line per request, without query strings."""
