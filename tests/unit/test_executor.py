"""Serial queues of a thread pool: calls run one at a time, in order, each
starting as soon as the one before ends (not after its result has been to
the reactor thread), and their results reach the reactor thread in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from twisted.python.failure import Failure

from ozs3._executor import SERIAL_TURN, SyncExecutor, ThreadPoolExecutor


class HeldReactor:
    """Keeps what threads hand to the reactor thread until the test runs it."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._lock = threading.Lock()

    def callFromThread(self, f: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self.calls.append((f, args))

    def run_held(self) -> None:
        with self._lock:
            calls, self.calls = self.calls, []
        for f, args in calls:
            f(*args)


def test_calls_run_one_at_a_time_in_order_without_the_reactor() -> None:
    reactor = HeldReactor()
    executor = ThreadPoolExecutor(reactor, 4, "test-serial")  # type: ignore[arg-type]
    executor.start()
    try:
        queue = executor.serial()
        running = 0
        most = 0
        order: list[int] = []
        lock = threading.Lock()

        def call(i: int) -> int:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.002)  # long enough for another thread to overlap
            order.append(i)
            with lock:
                running -= 1
            if i == 3:
                raise ValueError("three")
            return i * 10

        results: list[Any] = []
        ds = [queue.run(call, i) for i in range(8)]
        for d in ds:
            d.addBoth(results.append)
        # Every call ran while the reactor thread ran nothing.
        deadline = time.monotonic() + 30
        while len(reactor.calls) < 8 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert order == list(range(8))
        assert most == 1
        assert results == []
        reactor.run_held()
        assert [r for r in results if not isinstance(r, Failure)] == [
            0, 10, 20, 40, 50, 60, 70,
        ]  # fmt: skip
        failed = [r for r in results if isinstance(r, Failure)]
        assert len(failed) == 1 and failed[0].check(ValueError)
        assert results.index(failed[0]) == 3
        # The queue drains again after it ran dry.
        again = queue.run(lambda: "again")
        while not reactor.calls and time.monotonic() < deadline:
            time.sleep(0.001)
        reactor.run_held()
        assert again.result == "again"
    finally:
        executor.stop()


def test_the_inline_executor_is_its_own_serial_queue() -> None:
    executor = SyncExecutor()
    assert executor.serial().run(lambda x: x + 1, 1).result == 2


def test_serial_queues_sharing_a_pool_take_turns() -> None:
    """One thread, two queues: a queue that always has work waiting does
    not keep the thread; the other queue's call runs at the end of the turn
    (SERIAL_TURN calls) that was running when it came."""
    reactor = HeldReactor()
    executor = ThreadPoolExecutor(reactor, 1, "test-turns")  # type: ignore[arg-type]
    executor.start()
    try:
        busy, other = executor.serial(), executor.serial()
        ran: list[str] = []
        queued, started, gate = threading.Event(), threading.Event(), threading.Event()

        def step(name: str) -> None:
            if name == "busy0":  # the whole turn is queued before it runs
                assert queued.wait(30)
            if name == "busy1":  # running while the other queue's call comes
                started.set()
                assert gate.wait(30)
            ran.append(name)

        turn = SERIAL_TURN
        assert turn >= 2
        for i in range(turn + 2):
            busy.run(step, f"busy{i}")
        queued.set()
        assert started.wait(30)
        other.run(step, "other")
        gate.set()
        deadline = time.monotonic() + 30
        while len(ran) < turn + 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        busy_names = [f"busy{i}" for i in range(turn + 2)]
        assert ran == [*busy_names[:turn], "other", *busy_names[turn:]]
    finally:
        executor.stop()
