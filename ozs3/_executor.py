"""Where blocking work runs.  Injected everywhere, never global.

``ThreadPoolExecutor`` runs calls in a dedicated Twisted ``ThreadPool`` (not
the reactor's shared one, which DNS resolution also uses); ``SyncExecutor``
runs them inline, for tests that want already-fired Deferreds.  Each also
makes ``Serial`` queues: calls that must run one at a time, in order.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

T = TypeVar("T")


class Serial(Protocol):
    """Runs its calls one at a time, in the order given."""

    def run(self, f: Callable[..., T], *args: Any) -> Deferred[T]: ...


class Executor(Protocol):
    def run(self, f: Callable[..., T], *args: Any) -> Deferred[T]: ...

    def serial(self) -> Serial: ...


class ThreadPoolExecutor:
    def __init__(self, reactor: IReactorFromThreads, threads: int, name: str) -> None:
        self._reactor = reactor
        self.pool = ThreadPool(minthreads=threads, maxthreads=threads, name=name)

    def start(self) -> None:
        self.pool.start()

    def stop(self) -> None:
        self.pool.stop()

    def run(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        return deferToThreadPool(self._reactor, self.pool, f, *args)

    def serial(self) -> Serial:
        return _PoolSerial(self._reactor, self.pool)


# Calls a serial queue runs before it gives way to the pool's other work
# (each turn costs ~45 us of Twisted's thread pool machinery).
SERIAL_TURN = 4


class _PoolSerial:
    """A pool thread runs the queue's calls: the next call starts as soon as
    the last one ends, not after its result has been through the reactor
    thread and back (~0.3 ms a call, a sixth of MD5's time for a MiB).
    After ``SERIAL_TURN`` calls, the rest of the queue goes to the back of
    the pool's own queue, so that other serial queues sharing the pool get
    their turn (one upload's MD5 would otherwise keep a thread for as long
    as its client sends).  Results reach the reactor thread in order."""

    def __init__(self, reactor: IReactorFromThreads, pool: ThreadPool) -> None:
        self._reactor = reactor
        self._pool = pool
        self._lock = threading.Lock()
        self._calls: deque[tuple[Deferred[Any], Callable[..., Any], tuple[Any, ...]]]
        self._calls = deque()
        self._scheduled = False  # a _turn is in the pool's queue or running

    def run(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        d: Deferred[T] = Deferred()
        with self._lock:
            self._calls.append((d, f, args))
            if self._scheduled:
                return d
            self._scheduled = True
        self._pool.callInThread(self._turn)
        return d

    def _turn(self) -> None:
        for _ in range(SERIAL_TURN):
            with self._lock:
                if not self._calls:
                    self._scheduled = False
                    return
                d, f, args = self._calls.popleft()
            try:
                result = f(*args)
            except BaseException:
                self._reactor.callFromThread(d.errback, Failure())
            else:
                self._reactor.callFromThread(d.callback, result)
        self._pool.callInThread(self._turn)


class SyncExecutor:
    def run(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        try:
            return succeed(f(*args))
        except BaseException:
            return fail()

    def serial(self) -> Serial:
        return self  # inline calls are in order already
