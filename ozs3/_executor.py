"""Where blocking work runs.  Injected everywhere, never global.

``ThreadPoolExecutor`` runs calls in a dedicated Twisted ``ThreadPool`` (not
the reactor's shared one, which DNS resolution also uses); ``SyncExecutor``
runs them inline, for tests that want already-fired Deferreds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

T = TypeVar("T")


class Executor(Protocol):
    def run(self, f: Callable[..., T], *args: Any) -> Deferred[T]: ...


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


class SyncExecutor:
    def run(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        try:
            return succeed(f(*args))
        except BaseException:
            return fail()
