"""``Lane``: jobs run one at a time, in the order they were given.

An upload feeds each batch of its body to a few lanes (MD5, the other
digests, storage).  Each lane must see its batches in order (a digest is a
running state; a writer takes one call at a time), but the lanes need not
wait for each other: MD5 of the next batch may run while this one is still
being written.  A lane holds the jobs given to it ahead of its work.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

Job = Callable[[], "Deferred[Any]"]
Done = Callable[[Any], None]  # called with the job's result or its Failure


class Lane:
    def __init__(self) -> None:
        self._jobs: deque[tuple[Job, Done]] = deque()
        self._running = False

    def push(self, job: Job, done: Done) -> None:
        self._jobs.append((job, done))
        self._next()

    def _next(self) -> None:
        if self._running or not self._jobs:
            return
        job, done = self._jobs.popleft()
        self._running = True
        try:
            d = job()
        except BaseException:
            self._ended(Failure(), done)
        else:
            d.addBoth(self._ended, done)

    def _ended(self, result: Any, done: Done) -> None:
        self._running = False
        try:
            done(result)
        finally:
            self._next()
