"""When to give the heap's freed memory back to the system: ``HeapTrimmer``.

glibc keeps what a program frees in its heaps (one per arena; the bodies'
buffers are allocated by the reactor and by several I/O threads) and returns
it only when the top of a heap is free.  Big bodies (GET bodies, stored
upload bodies) pass MiB-sized buffers through, and once they end the process
would stay at its peak size: a 3 GiB multipart upload left ~27 MiB of freed
buffers in the heaps, on top of which the download that followed built its
own peak.  So once bodies that moved at least ``TRIM_AFTER`` bytes have all
ended and none has started again within ``IDLE_DELAY``, ``malloc_trim`` gives
the free pages back.  The delay keeps a busy gateway from trimming between
two bodies and faulting the same pages in again for the next one; it is short
so that the next burst (a download after an upload) starts from a trimmed
heap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._libc import malloc_trim_function

TRIM_AFTER = 8 << 20
IDLE_DELAY = 0.2


class HeapTrimmer:
    """Counts big bodies in flight and the bytes they moved; trims the heap
    once they have all ended and stayed ended for ``IDLE_DELAY``."""

    def __init__(self, trim: Callable[[int], int] | None) -> None:
        self._trim = trim
        self.active = 0  # bodies in flight
        self.moved = 0  # bytes the bodies moved since the last trim
        self._call: Any = None  # an IDelayedCall

    def started(self) -> None:
        self.active += 1

    def ended(self, moved: int, clock: Any) -> None:
        """A body ended after moving ``moved`` bytes."""
        self.active -= 1
        self.moved += moved
        if self._trim is None or self.active or self.moved < TRIM_AFTER:
            return
        if self._call is not None and self._call.active():
            self._call.reset(IDLE_DELAY)
            return
        self._call = clock.callLater(IDLE_DELAY, self._trim_if_idle)

    def _trim_if_idle(self) -> None:
        if self.active or self._trim is None:
            return  # a body started meanwhile: its end tries again
        self.moved = 0
        self._trim(0)


HEAP = HeapTrimmer(malloc_trim_function())
