"""GET bodies: a push producer that streams an ``ObjectReader`` to the socket.

Up to ``DEPTH`` reads are in flight in the I/O pool while earlier bytes are
being sent, so the socket does not wait for the disk nor the disk for the
socket.  Reads may finish in any order; bytes are written in order.  The
channel's pause/resume bounds a response's memory at ``DEPTH`` reads plus
one in the transport's buffer, however slowly the client reads; reads
shrink as more bodies stream, so that all of them together stay near
``BUFFER_BUDGET``; beyond ``MAX_STREAMS`` a GET is refused (503 SlowDown)
before its headers; and a response whose client takes no byte for the
request timeout is cut (Twisted's idle timeout is off while a response is
being written, so a client that stops reading would otherwise hold its
connection and buffers for ever).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Request
from zope.interface import implementer

from ..heap import HEAP
from ..storage.errors import StorageError
from ..storage.interfaces import ObjectReader
from .channel import unsent
from .errors import S3Error

STEP = 1 << 20
# A lone body streaming: larger reads (measured on 2 cores, 1 GiB over
# loopback: 2.0 GB/s with 1 MiB steps, 2.4 GB/s with 4 MiB).  More: 1 MiB,
# so memory stays near DEPTH x 1 MiB per response.
BIG_STEP = 4 << 20
BIG_STEP_STREAMS = 1
DEPTH = 2
# What the GET bodies of one process may hold in memory together (reads in
# flight or waiting, and the last one written, in the transport's buffer):
# with many streams each read is smaller, down to MIN_STEP.
BUFFER_BUDGET = 64 << 20
MIN_STEP = 64 << 10
FIRST_STEP = 256 << 10
# Bodies streaming at once, at most (each holds up to DEPTH + 1 reads, so
# about MAX_STREAMS x 3 x MIN_STEP = 192 MiB at worst); more: 503 SlowDown.
MAX_STREAMS = 1024
# Twisted sends at most 128 KiB per send() and reactor turn; a GET body goes
# out in sends as large as its steps: fewer syscalls and turns per MiB
# (measured: a bare twisted.web producer goes from 2.2 to 4.4 GB/s over
# loopback with 1 MiB sends; a 1 GiB GET ~10-20% faster with 4 MiB than with
# 1 MiB).  It bounds each send(), not what is buffered.
SEND_LIMIT = BIG_STEP


def read_size(streams: int) -> int:
    """The size of each read while ``streams`` bodies are streaming."""
    if streams <= BIG_STEP_STREAMS:
        return BIG_STEP
    share = BUFFER_BUDGET // ((DEPTH + 1) * streams)
    return max(MIN_STEP, min(STEP, share))


def first_read_size() -> int:
    """The first read of a body about to stream, done before its headers
    (an unreadable object fails with an error status, and a small one needs
    one trip to the I/O pool).  Small: it is outside the budget, for every
    GET being answered at once."""
    return min(FIRST_STEP, read_size(ReaderProducer.streaming + 1))


class _Read:
    """One read in flight (``size`` bytes reserved), then its bytes."""

    __slots__ = ("data", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: bytes | None = None


class _Budget:
    """BUFFER_BUDGET shared by this process's GET bodies: bytes reserved by
    reads in flight, read and waiting, or written and not yet taken by the
    kernel.  A body holding nothing may always read once (so every body
    progresses); others read only within the budget, or wait their turn."""

    def __init__(self) -> None:
        self.held = 0
        self._waiting: dict[ReaderProducer, None] = {}  # in arrival order
        self._waking = False

    def may_read(self, producer: ReaderProducer, holding: int, size: int) -> bool:
        if holding == 0 or self.held + size <= BUFFER_BUDGET:
            self._waiting.pop(producer, None)
            return True
        self._waiting[producer] = None
        return False

    def release(self, n: int) -> None:
        self.held -= n
        if self._waking or not self._waiting:
            return  # (a woken body releasing: the loop below goes on)
        self._waking = True
        try:
            # Each waiting body once, in turn; one that still cannot read
            # waits again, behind the others.
            for producer in list(self._waiting):
                if self.held + MIN_STEP > BUFFER_BUDGET:
                    break
                if producer in self._waiting:
                    del self._waiting[producer]
                    producer.budget_freed()
        finally:
            self._waking = False

    def forget(self, producer: ReaderProducer) -> None:
        self._waiting.pop(producer, None)


@implementer(IPushProducer)
class ReaderProducer:
    log = Logger()
    streaming = 0  # bodies being streamed by this process
    budget = _Budget()

    def __init__(
        self,
        request: Request,
        reader: ObjectReader,
        first: bytes,
        clock: Any,  # IReactorTime
        stall_timeout: float,
    ) -> None:
        self._request = request
        self._reader = reader
        self._first = first
        self._clock = clock
        self._stall_timeout = stall_timeout
        self._paused = False
        self._stopped = False
        self._in_flight = 0
        self._reads: deque[_Read] = deque()
        self._done: Deferred[bool] = Deferred()
        self._transport: Any = None
        # Bytes of the budget this body holds, of which written to the
        # transport and not yet known to be taken by the kernel.
        self._held = 0
        self._in_transport = 0
        # Progress seen by the stall watch: bytes the kernel took (or, for
        # transports that do not tell, resumes), and when it last grew.
        self._written = 0
        self._resumes = 0
        self._progress = -1
        self._progress_at = 0.0
        self._watch: Any = None  # an IDelayedCall

    @classmethod
    def check_capacity(cls) -> None:
        """Refuse another body beyond MAX_STREAMS (before its headers)."""
        if cls.streaming >= MAX_STREAMS:
            raise S3Error("SlowDown", "Too many responses are streaming; please retry.")

    def start(self) -> Deferred[bool]:
        """Write the first bytes, then the rest as the client takes them.
        Fires with True once every byte was written, False if cut short."""
        channel = self._request.channel
        transport = channel.transport if channel is not None else None
        self._transport = transport
        if transport is not None and getattr(transport, "SEND_LIMIT", 0) < SEND_LIMIT:
            transport.SEND_LIMIT = SEND_LIMIT
        ReaderProducer.streaming += 1
        HEAP.started()
        # Registered before anything is written: a write that fills the
        # transport's buffer pauses the channel, and a producer registered
        # after that would not be paused until the buffer had drained.
        self._request.registerProducer(self, True)
        if self._first:
            self._hold(len(self._first))
            self._send(self._first)
            self._first = b""
        self._pump()
        return self._done

    def _hold(self, n: int) -> None:
        self._held += n
        ReaderProducer.budget.held += n

    def _release(self, n: int) -> None:
        if n:
            self._held -= n
            ReaderProducer.budget.release(n)

    def _send(self, data: bytes) -> None:
        self._written += len(data)
        self._in_transport += len(data)
        self._request.write(data)  # may call pauseProducing() right here

    def _sent(self, unsent: int | None) -> None:
        """The kernel took what the transport no longer holds: give it back
        to the budget.  (None: the transport does not say; a resume means
        it holds nothing.)"""
        if unsent is not None and unsent < self._in_transport:
            self._release(self._in_transport - unsent)
            self._in_transport = unsent

    def _pump(self) -> None:
        """Write what has arrived, in order (unless paused); keep the reads
        in flight topped up, within the budget."""
        self._sent(unsent(self._transport))
        reads = self._reads
        while not self._paused and not self._stopped and reads and reads[0].data:
            data = reads.popleft().data
            assert data is not None
            self._send(data)
        if self._stopped:
            return
        budget = ReaderProducer.budget
        while len(reads) < DEPTH and self._reader.remaining > 0:
            size = min(read_size(ReaderProducer.streaming), self._reader.remaining)
            if not budget.may_read(self, self._held, size):
                break  # budget_freed() calls again
            read = _Read(size)
            reads.append(read)
            self._in_flight += 1
            self._hold(size)
            self._reader.read(size).addCallbacks(
                self._got, self._failed, callbackArgs=(read,)
            )
            if self._stopped:  # the read failed at once
                return
        if not reads and self._reader.remaining <= 0:
            self._finish(True)

    def budget_freed(self) -> None:
        if not self._stopped:
            self._pump()

    def _got(self, data: bytes, read: _Read) -> None:
        self._in_flight -= 1
        if self._stopped:
            self._finish(False)
            return
        if not data:
            self._fail(Failure(EOFError("object ended early")))
            return
        read.data = data
        self._release(read.size - len(data))
        self._pump()

    def _failed(self, f: Failure) -> None:
        self._in_flight -= 1
        self._fail(f)

    def _fail(self, f: Failure) -> None:
        if self._stopped:
            self._finish(False)
            return
        if f.check(StorageError):
            # The store's own words say it all (which block, which replica):
            # a known failure, not a bug, so no traceback.
            self.log.error(
                "read failed mid-body ({error}); cutting the connection",
                error=f.getErrorMessage(),
            )
        else:
            self.log.failure("read failed mid-body; cutting the connection", f)
        # Headers (with Content-Length) are out: the only honest signal left
        # is a short body, so the client cannot mistake it for the object.
        transport = self._request.channel.transport if self._request.channel else None
        self._stopped = True
        self._finish(False)
        if transport is not None:
            transport.abortConnection()

    def _finish(self, complete: bool) -> None:
        self._stopped = True
        self._reads.clear()
        ReaderProducer.budget.forget(self)
        if self._watch is not None and self._watch.active():
            self._watch.cancel()
        self._watch = None
        # The reader's files stay open until no read is using them.
        if self._in_flight or self._done.called:
            return
        self._in_transport = 0
        self._release(self._held)  # what the transport still holds is freed
        try:
            self._request.unregisterProducer()
        except (AttributeError, RuntimeError):
            pass
        self._reader.close()
        ReaderProducer.streaming -= 1
        HEAP.ended(self._written, self._clock)
        self._done.callback(complete)

    def pauseProducing(self) -> None:
        self._paused = True
        if self._watch is None and not self._stopped and self._stall_timeout > 0:
            self._progress = -1
            self._watch = self._clock.callLater(0, self._check_stall)

    def resumeProducing(self) -> None:
        self._paused = False
        self._resumes += 1
        self._sent(0)  # the transport resumes us once it has sent everything
        self._pump()

    def _check_stall(self) -> None:
        """While paused: cut the response once the client has taken no byte
        for the stall timeout (checked four times per timeout)."""
        self._watch = None
        if self._stopped or not self._paused:
            return
        pending = unsent(self._transport)
        self._sent(pending)
        progress = self._resumes if pending is None else self._written - pending
        now = time.monotonic()
        if progress != self._progress:
            self._progress, self._progress_at = progress, now
        elif now - self._progress_at >= self._stall_timeout:
            self.log.info(
                "GET body stalled for {seconds:.0f} s; closing the connection",
                seconds=now - self._progress_at,
            )
            self._finish(False)
            if self._transport is not None:
                self._transport.abortConnection()
            return
        self._watch = self._clock.callLater(self._stall_timeout / 4, self._check_stall)

    def stopProducing(self) -> None:
        # Called (possibly several times) when the client goes away.
        self._finish(False)
