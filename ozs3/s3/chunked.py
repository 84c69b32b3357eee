"""A sans-IO decoder for ``Content-Encoding: aws-chunked`` bodies.  Pure.

Bytes in (any split), payload pieces out.  Handles signed chunks
(``<hex>;chunk-signature=<sig>``), unsigned ones and trailers
(``x-amz-checksum-*``, ``x-amz-trailer-signature``) after the final
zero-length chunk.  Payload pieces are ``memoryview`` slices of the input:
nothing is copied.
"""

from __future__ import annotations

import re

MAX_HEADER_LINE = 4096
_HEX = re.compile(rb"[0-9a-fA-F]{1,16}")
MAX_TRAILERS = 16384

_HEADER, _DATA, _DATA_CRLF, _TRAILER, _DONE = range(5)


class AwsChunkedError(ValueError):
    """The body does not follow the aws-chunked framing."""


class AwsChunkedDecoder:
    def __init__(self) -> None:
        self._state = _HEADER
        self._line = bytearray()
        self._remaining = 0
        self._trailer_bytes = 0
        # (declared size, signature) of every chunk, the final empty one too:
        # what a verifier of signed chunks walks alongside the payload.
        self.chunks: list[tuple[int, str | None]] = []
        self.trailers: dict[str, str] = {}
        # Trailer lines in the order sent, as (lower-case name, value).
        self.trailer_lines: list[tuple[str, str]] = []
        self.decoded = 0

    @property
    def chunk_signatures(self) -> list[str | None]:
        return [signature for _, signature in self.chunks]

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes | memoryview) -> list[memoryview]:
        out: list[memoryview] = []
        view = memoryview(data)
        while view:
            state = self._state
            if state == _DATA:
                n = min(self._remaining, len(view))
                out.append(view[:n])
                view = view[n:]
                self._remaining -= n
                self.decoded += n
                if self._remaining == 0:
                    self._state = _DATA_CRLF
            elif state == _DONE:
                raise AwsChunkedError("data after the final chunk")
            else:
                view = self._feed_line(view)
        return out

    def _feed_line(self, view: memoryview) -> memoryview:
        need_crlf_only = self._state == _DATA_CRLF
        idx = bytes(view[: MAX_HEADER_LINE + 2]).find(b"\n")
        if idx < 0:
            self._line += view
            # +1: the line's CR may already be here, its LF still to come.
            if len(self._line) > MAX_HEADER_LINE + 1:
                raise AwsChunkedError("chunk header line too long")
            return view[len(view) :]
        self._line += view[: idx + 1]
        rest = view[idx + 1 :]
        line = bytes(self._line)
        self._line.clear()
        if not line.endswith(b"\r\n"):
            raise AwsChunkedError("chunk line not terminated by CRLF")
        line = line[:-2]
        if len(line) > MAX_HEADER_LINE:
            raise AwsChunkedError("chunk header line too long")
        if need_crlf_only:
            if line:
                raise AwsChunkedError("chunk data longer than its declared size")
            self._state = _HEADER
        elif self._state == _HEADER:
            self._chunk_header(line)
        else:
            self._trailer(line)
        return rest

    def _chunk_header(self, line: bytes) -> None:
        size_text, _, ext = line.partition(b";")
        if not _HEX.fullmatch(size_text.strip()):
            raise AwsChunkedError(f"bad chunk size {size_text[:32]!r}")
        size = int(size_text.strip(), 16)
        signature = None
        if ext:
            name, _, value = ext.partition(b"=")
            if name.strip() == b"chunk-signature":
                signature = value.strip().decode("ascii", "replace")
        self.chunks.append((size, signature))
        if size == 0:
            self._state = _TRAILER
        else:
            self._remaining = size
            self._state = _DATA

    def _trailer(self, line: bytes) -> None:
        if not line:
            self._state = _DONE
            return
        self._trailer_bytes += len(line)
        if self._trailer_bytes > MAX_TRAILERS:
            raise AwsChunkedError("trailers too large")
        name, sep, value = line.partition(b":")
        if not sep:
            raise AwsChunkedError("malformed trailer line")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        self.trailers[key] = text
        self.trailer_lines.append((key, text))
