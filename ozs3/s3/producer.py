"""GET bodies: a push producer that streams an ``ObjectReader`` to the socket.

One read of ``STEP`` bytes is in flight at a time, issued as soon as the
previous one is written, so disk reads overlap network sends; the channel's
pause/resume keeps memory flat when the client reads slowly.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Request
from zope.interface import implementer

from ..storage.interfaces import ObjectReader

STEP = 1 << 20


@implementer(IPushProducer)
class ReaderProducer:
    log = Logger()

    def __init__(self, request: Request, reader: ObjectReader) -> None:
        self._request = request
        self._reader = reader
        self._paused = False
        self._reading = False
        self._stopped = False
        self._done: Deferred[bool] = Deferred()

    def start(self) -> Deferred[bool]:
        """Fires with True once every byte was written, False if cut short."""
        self._request.registerProducer(self, True)
        self._next()
        return self._done

    def _next(self) -> None:
        if self._paused or self._reading or self._stopped:
            return
        if self._reader.remaining <= 0:
            self._finish(True)
            return
        self._reading = True
        self._reader.read(STEP).addCallbacks(self._got, self._failed)

    def _got(self, data: bytes) -> None:
        self._reading = False
        if self._stopped:
            self._finish(False)
            return
        if not data:
            self._failed(Failure(EOFError("object ended early")))
            return
        self._request.write(data)  # may call pauseProducing() right here
        self._next()

    def _failed(self, f: Failure) -> None:
        self._reading = False
        self.log.failure("read failed mid-body; cutting the connection", f)
        # Headers (with Content-Length) are out: the only honest signal left
        # is a short body, so the client cannot mistake it for the object.
        transport = self._request.channel.transport if self._request.channel else None
        self._finish(False)
        if transport is not None:
            transport.abortConnection()

    def _finish(self, complete: bool) -> None:
        if self._done.called:
            return
        self._stopped = True
        try:
            self._request.unregisterProducer()
        except (AttributeError, RuntimeError):
            pass
        self._reader.close()
        self._done.callback(complete)

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        self._next()

    def stopProducing(self) -> None:
        # Called (possibly several times) when the client goes away.
        self._stopped = True
        if not self._reading:
            self._finish(False)
