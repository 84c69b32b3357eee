"""HeapTrimmer: the heap is trimmed once big bodies have all ended and
stayed ended for IDLE_DELAY, never while one is in flight."""

from __future__ import annotations

from twisted.internet.task import Clock

from ozs3.heap import IDLE_DELAY, TRIM_AFTER, HeapTrimmer


class _Trims:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, pad: int) -> int:
        self.calls.append(pad)
        return 1


def _trimmer() -> tuple[HeapTrimmer, _Trims, Clock]:
    trims = _Trims()
    return HeapTrimmer(trims), trims, Clock()


def test_trims_once_idle_after_big_bodies() -> None:
    heap, trims, clock = _trimmer()
    heap.started()
    heap.started()
    heap.ended(TRIM_AFTER, clock)
    clock.advance(IDLE_DELAY)
    assert trims.calls == []  # one body still in flight
    heap.ended(1, clock)
    clock.advance(IDLE_DELAY * 0.9)
    assert trims.calls == []
    clock.advance(IDLE_DELAY * 0.1)
    assert trims.calls == [0]
    assert heap.moved == 0
    clock.advance(10 * IDLE_DELAY)
    assert trims.calls == [0]  # once


def test_small_bodies_do_not_trim_until_they_add_up() -> None:
    heap, trims, clock = _trimmer()
    for _ in range(7):
        heap.started()
        heap.ended(1 << 20, clock)
    clock.advance(10 * IDLE_DELAY)
    assert trims.calls == []
    heap.started()
    heap.ended(1 << 20, clock)  # 8 MiB moved in all
    clock.advance(IDLE_DELAY)
    assert trims.calls == [0]


def test_a_body_started_within_the_delay_defers_the_trim() -> None:
    heap, trims, clock = _trimmer()
    heap.started()
    heap.ended(TRIM_AFTER, clock)
    clock.advance(IDLE_DELAY / 2)
    heap.started()
    clock.advance(IDLE_DELAY)
    assert trims.calls == []  # busy when the delay ran out
    heap.ended(0, clock)
    clock.advance(IDLE_DELAY / 2)
    assert trims.calls == []  # the delay counts from the last end
    clock.advance(IDLE_DELAY / 2)
    assert trims.calls == [0]


def test_without_glibc_nothing_is_scheduled() -> None:
    heap, clock = HeapTrimmer(None), Clock()
    heap.started()
    heap.ended(TRIM_AFTER, clock)
    assert clock.getDelayedCalls() == []
