"""One streamed request body on its way into storage: ``UploadSink``.

It decodes (aws-chunked), hashes and checks chunk signatures, and feeds the
body in ~1 MiB batches to storage and to the hashers, each in batch order
and up to three batches in flight, pausing the transport before its next
read could take what it holds past a high-water mark: memory per upload
stays bounded whatever the client sends.
``S3HTTPRequest`` (streaming.py) feeds it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred, DeferredLock, maybeDeferred, succeed
from twisted.python.failure import Failure

from .._executor import Executor
from ..digests import Checksum
from ..storage.interfaces import KeyWriter
from ..storage.model import KeyInfo, PartInfo
from .chunked import AwsChunkedDecoder, AwsChunkedError
from .errors import S3Error
from .sigv4 import SigningContext, chunk_signature, trailer_signature

if TYPE_CHECKING:
    from .streaming import S3HTTPRequest


# What one upload may hold: bytes queued, batches in flight, and the
# transport's next read; reading resumes once it holds LOW_WATER or less.
# Two batches in flight keep MD5 hashing one while the other is written: a
# 1 GiB PUT from curl or bench/ ran as fast with 2 MiB as with 3 (measured
# 2026-12-07), and ten uploads at once hold ~10 MiB less.
HIGH_WATER = 2 << 20
LOW_WATER = 1 << 20
# Until admission (authentication first) has passed, about one read's worth:
# a request not yet known to carry valid credentials holds no more memory.
UNADMITTED_WATER = 64 << 10
BATCH = 1 << 20
# Batches handed to the lanes and not yet through all of them: while one is
# written, MD5 (the slowest lane) can already hash the next.
IN_FLIGHT = 3
INLINE_HASH = 64 << 10


class UploadDigests:
    """What the sink learnt about a body once it is all stored."""

    def __init__(
        self,
        md5: bytes,
        sha256: bytes | None,
        size: int,
        checksum: Checksum | None,
        trailers: dict[str, str],
    ) -> None:
        self.md5 = md5
        self.sha256 = sha256
        self.size = size
        self.checksum = checksum
        self.trailers = trailers


class ChunkSignatures:
    """Verifies STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunk signatures, in order,
    as the payload is hashed (in the hash pool, one batch at a time)."""

    def __init__(self, decoder: AwsChunkedDecoder, context: SigningContext) -> None:
        self._decoder = decoder
        self._context = context
        self._previous = context.seed_signature
        self._index = 0
        self._left = 0
        self._sha = hashlib.sha256()

    def update(self, view: memoryview) -> None:
        pos = 0
        while pos < len(view):
            if self._left == 0:
                self._left = self._decoder.chunks[self._index][0]
                self._sha = hashlib.sha256()
            n = min(self._left, len(view) - pos)
            self._sha.update(view[pos : pos + n])
            pos += n
            self._left -= n
            if self._left == 0:
                self._close()

    def _close(self) -> None:
        _, provided = self._decoder.chunks[self._index]
        expected = chunk_signature(self._context, self._previous, self._sha.hexdigest())
        if provided is None or not hmac.compare_digest(expected, provided):
            raise S3Error(
                "SignatureDoesNotMatch",
                f"The chunk signature of chunk {self._index} does not match.",
            )
        self._previous = expected
        self._index += 1

    def finish(self) -> None:
        """The final empty chunk, then the trailer signature if there is one."""
        while self._index < len(self._decoder.chunks):
            self._sha = hashlib.sha256()
            self._close()
        provided = self._decoder.trailers.get("x-amz-trailer-signature")
        lines = [
            (k, v) for k, v in self._decoder.trailer_lines
            if k != "x-amz-trailer-signature"
        ]  # fmt: skip
        if lines or provided is not None:
            block = "".join(f"{k}:{v}\n" for k, v in lines).encode("latin-1")
            expected = trailer_signature(self._context, self._previous, block)
            if provided is None or not hmac.compare_digest(expected, provided):
                raise S3Error(
                    "SignatureDoesNotMatch", "The trailer signature does not match."
                )


class _BatchDone:
    """Counts one batch's lanes home; the first failure fails the upload."""

    def __init__(self, sink: UploadSink, lanes: int, size: int) -> None:
        self._sink = sink
        self._left = lanes
        self._size = size

    def __call__(self, result: object) -> None:
        self._left -= 1
        if isinstance(result, Failure):
            self._sink._fail(result)
        if self._left == 0:
            self._sink._batch_done(self._size)


class UploadSink:
    """Decodes, hashes and stores one request body with backpressure."""

    def __init__(
        self,
        request: S3HTTPRequest,
        hash_executor: Executor,
        aws_chunked: bool,
        want_sha256: bool,
        checksum_algorithm: str | None = None,
    ) -> None:
        self._request = request
        self._decoder = AwsChunkedDecoder() if aws_chunked else None
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256() if want_sha256 else None
        self._checksum = Checksum(checksum_algorithm) if checksum_algorithm else None
        self._signatures: ChunkSignatures | None = None
        self._queue: deque[bytes | memoryview] = deque()
        self._queued = 0
        self.held = 0  # queued bytes and those of batches in flight
        # MD5 and the other digests each in its own thread queue: the next
        # batch hashed as soon as the last one is, with no trip through the
        # reactor between them.  Storing one call at a time, in order.
        self._md5_lane = hash_executor.serial()
        self._extra_lane = hash_executor.serial()
        self._store_lock = DeferredLock()
        self._in_flight = 0  # batches some lane has not finished yet
        self._paused = False
        self._eof = False
        self._finished = False
        self._committing = False
        self._released = False
        # Decoded bytes received so far, and what they may not exceed.
        self._arrived = 0
        self._max_size: int | None = None
        self._declared: int | None = None
        self.size = 0
        self.writer: KeyWriter | None = None
        self.error: Failure | None = None
        self._result: UploadDigests | None = None
        self._waiters: list[Deferred[UploadDigests]] = []

    @property
    def paused(self) -> bool:
        """Is it holding the transport paused (over its high-water mark)?"""
        return self._paused

    @property
    def trailers(self) -> dict[str, str]:
        return self._decoder.trailers if self._decoder else {}

    # -- input ---------------------------------------------------------------

    def verify_chunks(self, context: SigningContext) -> None:
        """Check signed aws-chunked chunks against the request's signature."""
        assert self._decoder is not None
        self._signatures = ChunkSignatures(self._decoder, context)

    def limit(self, max_size: int, declared: int | None) -> None:
        """Admission's limits: the body may not exceed ``max_size`` decoded
        bytes, nor ``declared`` (x-amz-decoded-content-length) if given.
        Bytes that arrived before this are held to them too."""
        self._max_size, self._declared = max_size, declared
        self._check_size()

    def attach(self, writer: KeyWriter) -> None:
        """Admission done: start storing what has queued up."""
        self.writer = writer
        if self.error is not None or self._released:
            # The client left, or the request ended, while we were admitting.
            writer.abort().addErrback(lambda _: None)
            return
        self._pump()

    def data_received(self, data: bytes) -> None:
        if self.error is not None or self._finished:
            return  # refused or failed: discard the rest of the body
        if self._decoder is not None:
            try:
                pieces: list[bytes | memoryview] = list(self._decoder.feed(data))
            except AwsChunkedError as e:
                self._fail(Failure(S3Error("InvalidRequest", f"aws-chunked: {e}")))
                return
        else:
            pieces = [data]
        self._arrived += sum(len(p) for p in pieces)
        if not self._check_size():
            return  # refused at the first byte over: none of these is stored
        for p in pieces:
            if p:
                self._queue.append(p)
                self._queued += len(p)
                self.held += len(p)
        # Paused before the transport's next read (as large as its
        # bufferSize: 1 MiB for a stored body, see streaming.py) could take
        # what it holds past HIGH_WATER, whatever the read size.
        next_read = getattr(self._request.transport, "bufferSize", 0)
        if self.held + next_read > HIGH_WATER or (
            self.writer is None and self._queued >= UNADMITTED_WATER
        ):
            self._pause()
        self._pump()

    def _check_size(self) -> bool:
        """Refuse the upload as soon as it is over a limit (a chunked body
        declares no length up front, and a declared one may be a lie)."""
        error = None
        if self._declared is not None and self._arrived > self._declared:
            error = S3Error(
                "IncompleteBody",
                extra={
                    "NumberBytesExpected": str(self._declared),
                    "NumberBytesProvided": str(self._arrived),
                },
            )
        elif self._max_size is not None and self._arrived > self._max_size:
            error = S3Error(
                "EntityTooLarge", extra={"MaxSizeAllowed": str(self._max_size)}
            )
        if error is None:
            return True
        self._fail(Failure(error))
        return False

    def body_complete(self) -> None:
        if self._decoder is not None and not self._decoder.done:
            self._fail(
                Failure(S3Error("IncompleteBody", "The aws-chunked body ended early."))
            )
            return
        self._eof = True
        self._pump()

    def connection_lost(self) -> None:
        if not self._finished and self.error is None:
            self._fail(Failure(S3Error("IncompleteBody")), notify_request=False)

    # -- the pump: batches through ordered lanes, a few in flight -----------

    def _pump(self) -> None:
        if self.writer is None or self.error is not None:
            return
        while self._queue and self._in_flight < IN_FLIGHT:
            if self._in_flight and self._queued < BATCH and not self._eof:
                break  # while others are in flight, wait for a whole batch
            parts: list[bytes | memoryview] = []
            n = 0
            while self._queue and n < BATCH:
                p = self._queue.popleft()
                parts.append(p)
                n += len(p)
            self._queued -= n
            batch = parts[0] if len(parts) == 1 else b"".join(parts)
            batch = bytes(batch) if isinstance(batch, memoryview) else batch
            self.size += n
            last = self._eof and not self._queue
            if n < INLINE_HASH and not self._in_flight:
                # A small body: hashing it here costs less than a trip to a
                # thread (and its GIL hand-offs).  Not while batches before
                # it may still be in the queues: digests see bytes in order.
                try:
                    self._md5.update(batch)
                    self._hash_extra(batch)
                except Exception:  # a chunk signature that does not match
                    self._fail(Failure())
                    return
                hashed: list[Deferred[None]] = []
            else:
                # MD5, the other digests and storing run in their own
                # threads (all release the GIL), each in batch order; MD5,
                # the slowest, is alone in its queue.
                hashed = [self._md5_lane.run(self._md5.update, batch)]
                if self._extra_digests:
                    hashed.append(self._extra_lane.run(self._hash_extra, batch))
            self._in_flight += 1
            done = _BatchDone(self, len(hashed) + 1, n)
            for d in hashed:
                d.addBoth(done)
            self._store_lock.run(self._store, batch, last, done)
            self._maybe_resume()
        if (
            self._eof
            and not self._queue
            and self._in_flight == 0
            and not self._finished
            and self.error is None
        ):
            if self._signatures is not None:
                try:
                    self._signatures.finish()
                except S3Error:
                    self._fail(Failure())
                    return
            self._finished = True
            self._result = UploadDigests(
                self._md5.digest(),
                self._sha256.digest() if self._sha256 else None,
                self.size,
                self._checksum,
                self.trailers,
            )
            for w in self._waiters:
                w.callback(self._result)
            self._waiters.clear()

    def _store(self, batch: bytes, last: bool, done: _BatchDone) -> Deferred[None]:
        """One batch's write, under the store lock.  ``done`` hears of it
        before the lock passes to the next batch's write, which then sees a
        failure of this one and does not write."""
        if self.error is not None or self.writer is None:
            stored: Deferred[None] = succeed(None)  # failed: writer aborted
        else:
            stored = maybeDeferred(self.writer.write, batch, last)
        return stored.addBoth(done)

    @property
    def _extra_digests(self) -> bool:
        return bool(self._sha256 or self._checksum or self._signatures)

    def _hash_extra(self, batch: bytes) -> None:
        if self._sha256 is not None:
            self._sha256.update(batch)
        if self._checksum is not None:
            self._checksum.update(batch)
        if self._signatures is not None:
            self._signatures.update(memoryview(batch))

    def _batch_done(self, size: int) -> None:
        self._in_flight -= 1
        self.held -= size
        # Storage progress counts as activity for the idle timeout, which
        # would otherwise fire while we hold the transport paused.  (No
        # channel: the request was refused, or failed, and ended meanwhile;
        # batches still in flight then come home after it.)
        channel = getattr(self._request, "channel", None)
        if channel is not None:
            channel.resetTimeout()
        self._maybe_resume()
        self._pump()

    def _fail(self, f: Failure, notify_request: bool = True) -> None:
        if self.error is not None:
            return
        self.error = f
        self._queue.clear()
        self.held -= self._queued
        self._queued = 0
        self._maybe_resume()
        if self.writer is not None:
            self.writer.abort().addErrback(lambda _: None)
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            w.errback(f)
        if notify_request:
            self._request.upload_failed(f)

    def abort(self) -> Deferred[None] | None:
        """Called by the handler when it will not commit (e.g. bad digest)."""
        self._finished = True
        if self.writer is not None:
            return self.writer.abort()
        return None

    def commit(self, etag: str, checksum: str) -> Deferred[KeyInfo | PartInfo]:
        """The handler commits what was stored (its writer owns the blocks
        from here, committed or not)."""
        assert self.writer is not None
        self._committing = True
        return self.writer.commit(etag, checksum)

    def release(self) -> None:
        """The request is over: unless the handler committed (or is
        committing), drop the open key and its blocks.  Whatever ended the
        request — a refusal, a disconnect, a bug — nothing stays behind."""
        if self._released:
            return
        self._released = True
        if self._committing or self.writer is None:
            return
        self._finished = True
        self.writer.abort().addErrback(lambda _: None)

    # -- flow control ----------------------------------------------------------

    def _pause(self) -> None:
        if not self._paused:
            self._paused = True
        # The channel may have resumed the transport behind our back: always
        # re-pause while over the mark.
        transport = self._request.transport
        if transport is not None:
            transport.pauseProducing()

    def _maybe_resume(self) -> None:
        if self._paused and (self.held <= LOW_WATER or self.error is not None):
            self._paused = False
            transport = self._request.transport
            if transport is not None:
                transport.resumeProducing()

    # -- output ----------------------------------------------------------------

    def when_done(self) -> Deferred[UploadDigests]:
        """Fires once every byte is stored and hashed (not yet committed)."""
        if self._result is not None:
            return succeed(self._result)
        d: Deferred[UploadDigests] = Deferred()
        if self.error is not None:
            d.errback(self.error)
        else:
            self._waiters.append(d)
        return d
