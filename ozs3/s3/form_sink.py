"""A browser form upload's body (POST Object) as it arrives: ``FormSink``.

The multipart/form-data body is parsed as it streams (python-multipart's
push parser, not by hand).  The fields before the file are kept (at most
``MAX_PRE_DATA`` bytes: they say who signs and what may be stored); when
the file part begins the transport is paused while the form is admitted
(signature, policy, authorization, the key opened: ``admit_form``), then
the file's bytes flow into an ``UploadSink`` exactly as a PutObject body
does — hashed, stored in batches, with the same backpressure and bounded
memory.  Parts after the file are ignored, as S3 ignores them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from .errors import S3Error
from .post_form import MAX_FIELDS, MAX_PRE_DATA, no_file

if TYPE_CHECKING:
    from .context import Call
    from .streaming import S3HTTPRequest
    from .upload_sink import UploadSink

MALFORMED = "The body of your POST request is not well-formed multipart/form-data."


def form_boundary(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data body, or S3's refusal."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind.lower() != b"multipart/form-data" or not boundary:
        raise S3Error(
            "PreconditionFailed",
            "Bucket POST must be of the enclosure-type multipart/form-data",
            extra={"Condition": "Bucket POST must be of the enclosure-type"},
        )
    return boundary


class FormSink:
    """Parses one form body, admits it when its file begins, and streams
    the file into storage."""

    def __init__(
        self,
        request: S3HTTPRequest,
        call: Call,
        boundary: bytes,
        admit: Callable[[FormSink], Awaitable[tuple[Call, UploadSink]]],
    ) -> None:
        self._request = request
        self.call = call
        self._admit = admit
        self.fields: dict[str, str] = {}
        self.filename = ""
        self._pre_data = 0
        # The part being read: its headers, name and (for a field) value.
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._name: str | None = None
        self._part_filename: str | None = None
        self._value = bytearray()
        self._in_file = False
        self._file_seen = False
        self._file_done = False
        self._pending: list[bytes] = []  # file bytes that came while admitting
        self._paused = False
        self.put: Call | None = None
        self.upload: UploadSink | None = None
        self.error: Failure | None = None
        self._released = False
        self._waiters: list[Deferred[Call]] = []
        # The policy's content-length-range (min, max), once admitted.
        self.length_range: tuple[int, int] | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field_data,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    @property
    def request(self) -> S3HTTPRequest:
        return self._request

    # -- input from S3HTTPRequest -------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.error is not None:
            return
        try:
            self._parser.write(data)
        except MultipartParseError:
            self._fail(Failure(S3Error("MalformedPOSTRequest", MALFORMED)))
        except S3Error:
            self._fail(Failure())

    def body_complete(self) -> None:
        if self.error is not None:
            return
        try:
            self._parser.finalize()
        except MultipartParseError:
            self._fail(Failure(S3Error("MalformedPOSTRequest", MALFORMED)))
            return
        if not self._file_seen:
            # The handler answers it.
            self._fail(Failure(no_file()), notify_request=False)
        elif not self._file_done:
            self._fail(Failure(S3Error("MalformedPOSTRequest", MALFORMED)))

    def connection_lost(self) -> None:
        if self.upload is not None:
            self.upload.connection_lost()
        elif self.error is None:
            self._fail(Failure(S3Error("IncompleteBody")), notify_request=False)

    def release(self) -> None:
        """The request is over: an upload not committed is dropped."""
        self._released = True
        if self.upload is not None:
            self.upload.release()

    # -- the parser's callbacks ----------------------------------------------

    def _part_begin(self) -> None:
        self._name, self._part_filename = None, None
        self._value.clear()

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        field = bytes(self._header_field).strip().lower()
        value = bytes(self._header_value).strip()
        self._header_field.clear()
        self._header_value.clear()
        if field != b"content-disposition":
            return
        _, options = parse_options_header(value)
        name = options.get(b"name")
        if name is not None:
            self._name = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            self._part_filename = filename.decode("utf-8", "replace")

    def _headers_finished(self) -> None:
        if self._file_seen or self._name is None:
            return
        if self._name.lower() == "file":
            self._file_seen = self._in_file = True
            self.filename = self._part_filename or ""
            self._pause()
            d = Deferred.fromCoroutine(self._admitting())
            d.addErrback(self._fail)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file_done:
            return  # after the file: ignored
        if self._in_file:
            chunk = bytes(data[start:end])
            if self.upload is not None:
                self.upload.data_received(chunk)
            else:
                self._pending.append(chunk)
            return
        if self._file_seen:
            return
        self._pre_data += end - start
        if self._pre_data > MAX_PRE_DATA:
            raise S3Error(
                "MaxPostPreDataLengthExceeded",
                extra={"MaxPostPreDataLength": str(MAX_PRE_DATA)},
            )
        self._value += data[start:end]

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True
            if self.upload is not None:
                self.upload.body_complete()
            return
        if self._file_seen or self._name is None:
            return
        name = self._name.lower()
        if name not in self.fields:  # the first of repeated fields counts
            if len(self.fields) >= MAX_FIELDS:
                raise S3Error("MalformedPOSTRequest", MALFORMED)
            self.fields[name] = self._value.decode("utf-8", "replace")

    # -- admission -----------------------------------------------------------

    async def _admitting(self) -> None:
        put, upload = await self._admit(self)
        self.put, self.upload = put, upload
        if self.error is not None or self._released:
            upload.release()
            return
        pending, self._pending = self._pending, []
        for chunk in pending:
            upload.data_received(chunk)
        if self._file_done:
            upload.body_complete()
        self._resume()
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            w.callback(put)

    def ready(self) -> Deferred[Call]:
        """Fires with the PutObject call the form stands for, once admitted
        (its ``upload`` then has the file); fails as the form does."""
        d: Deferred[Call] = Deferred()
        if self.error is not None:
            d.errback(self.error)
        elif self.put is not None:
            d.callback(self.put)
        else:
            self._waiters.append(d)
        return d

    def _fail(self, f: Failure, notify_request: bool = True) -> None:
        if self.error is not None:
            return
        self.error = f
        self._pending.clear()
        self._resume()
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            w.errback(f)
        if self.upload is not None:
            self.upload.release()
        if notify_request:
            self._request.upload_failed(f)

    # -- flow control --------------------------------------------------------

    def _pause(self) -> None:
        transport: Any = self._request.transport
        if transport is not None and not self._paused:
            self._paused = True
            transport.pauseProducing()

    def _resume(self) -> None:
        if not self._paused:
            return
        self._paused = False
        if self.upload is not None and self.upload.paused:
            return  # the upload holds it paused now, and resumes it
        transport: Any = self._request.transport
        if transport is not None:
            transport.resumeProducing()
