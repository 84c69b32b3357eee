"""UploadSink's promises, with a fake writer: a body is held to its limits
as it arrives (nothing over them is written), and a writer that was not
committed is always aborted once its request ends."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure

from ozs3._executor import SyncExecutor
from ozs3.s3.errors import S3Error
from ozs3.s3.upload_sink import UploadSink


class FakeWriter:
    def __init__(self) -> None:
        self.written = 0
        self.aborts = 0
        self.commits = 0

    def write(self, data: bytes, last: bool = False) -> Deferred[None]:
        self.written += len(data)
        return succeed(None)

    def commit(self, etag: str, checksum: str = "") -> Deferred[Any]:
        self.commits += 1
        return succeed(None)

    def abort(self) -> Deferred[None]:
        self.aborts += 1
        return succeed(None)


class FakeRequest:
    transport = None
    channel = None

    def __init__(self) -> None:
        self.failures: list[Failure] = []

    def upload_failed(self, f: Failure) -> None:
        self.failures.append(f)


def sink(request: FakeRequest) -> UploadSink:
    return UploadSink(request, SyncExecutor(), aws_chunked=False, want_sha256=False)  # type: ignore[arg-type]


def test_an_uncommitted_writer_is_aborted_when_the_request_ends() -> None:
    upload = sink(FakeRequest())
    writer = FakeWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    upload.data_received(b"x" * 1000)
    upload.release()
    upload.release()
    assert writer.aborts == 1


def test_a_committed_writer_is_left_alone() -> None:
    upload = sink(FakeRequest())
    writer = FakeWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    upload.data_received(b"x")
    upload.body_complete()
    upload.commit("etag", "")
    upload.release()
    assert (writer.commits, writer.aborts) == (1, 0)


def test_a_writer_attached_after_the_request_ended_is_aborted() -> None:
    upload = sink(FakeRequest())
    upload.release()  # admission was still running
    writer = FakeWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    assert writer.aborts == 1


@pytest.mark.parametrize(
    ("max_size", "declared", "code"),
    [(1_000_000, None, "EntityTooLarge"), (5_000_000, 1000, "IncompleteBody")],
)
def test_the_first_byte_over_a_limit_fails_the_upload_and_nothing_over_is_written(
    max_size: int, declared: int | None, code: str
) -> None:
    request = FakeRequest()
    upload = sink(request)
    writer = FakeWriter()
    upload.limit(max_size, declared)
    upload.attach(writer)  # type: ignore[arg-type]
    for _ in range(48):  # 3 MiB in 64 KiB pieces
        upload.data_received(b"z" * 65536)
    assert [f.value.code for f in request.failures] == [code]  # type: ignore[attr-defined]
    assert writer.written <= min(max_size, declared or max_size)
    assert writer.aborts >= 1


def test_bytes_that_arrived_during_admission_are_held_to_its_limits() -> None:
    request = FakeRequest()
    upload = sink(request)
    upload.data_received(b"z" * 3000)  # admission still running
    upload.limit(1_000_000, 1000)
    assert isinstance(request.failures[0].value, S3Error)
    assert request.failures[0].value.code == "IncompleteBody"
    writer = FakeWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    assert writer.written == 0 and writer.aborts == 1


# -- batches through ordered lanes ---------------------------------------------


class HeldWriter(FakeWriter):
    """Each write waits until the test fires it."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[bytes, bool, Deferred[None]]] = []

    def write(self, data: bytes, last: bool = False) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        self.pending.append((bytes(data), last, d))
        return d


class RecordingSerial:
    """A hash queue that runs calls inline and records the batches."""

    def __init__(self, log: list[tuple[str, int]], name: str) -> None:
        self._log, self._name = log, name

    def run(self, f: Any, *args: Any) -> Deferred[Any]:
        self._log.append((self._name, len(args[0])))
        try:
            return succeed(f(*args))
        except Exception:
            return fail()


class RecordingExecutor:
    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []
        self._made = 0

    def serial(self) -> RecordingSerial:
        self._made += 1
        return RecordingSerial(self.log, ("md5", "extra")[self._made - 1])

    def run(self, f: Any, *args: Any) -> Deferred[Any]:
        raise AssertionError("batches go through serial queues")


def test_the_next_batches_are_hashed_while_one_is_written_and_written_in_order() -> (
    None
):
    """MD5 does not wait for the writer: up to IN_FLIGHT batches are hashed
    while the first is still being written; the writer gets one call at a
    time, in order; no more than IN_FLIGHT batches are ever outstanding."""
    import hashlib

    from ozs3.s3.upload_sink import BATCH, IN_FLIGHT

    executor = RecordingExecutor()
    request = FakeRequest()
    upload = UploadSink(request, executor, aws_chunked=False, want_sha256=True)  # type: ignore[arg-type]
    writer = HeldWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    body = bytes(range(256)) * (BATCH * (IN_FLIGHT + 2) // 256)
    for i in range(0, len(body), BATCH):  # as the transport reads, 1 MiB
        upload.data_received(body[i : i + BATCH])
    upload.body_complete()
    # The first IN_FLIGHT batches are hashed (MD5 and SHA-256) already;
    # only the first is with the writer.
    assert executor.log == [("md5", BATCH), ("extra", BATCH)] * IN_FLIGHT
    assert len(writer.pending) == 1
    done = upload.when_done()
    written = []
    while writer.pending:
        data, last, d = writer.pending.pop(0)
        written.append((data, last))
        d.callback(None)
        assert len(writer.pending) <= 1  # one write at a time
        hashed = len(executor.log) // 2
        assert hashed - len(written) <= IN_FLIGHT
    assert b"".join(w for w, _ in written) == body
    assert [last for _, last in written] == [False] * (len(written) - 1) + [True]
    digests = done.result
    assert digests.md5 == hashlib.md5(body).digest()
    assert digests.sha256 == hashlib.sha256(body).digest()
    assert digests.size == len(body)
    assert request.failures == []


def test_a_failed_batch_fails_the_upload_and_no_later_batch_is_written() -> None:
    """A digest that raises (as a chunk signature that does not match does)
    while an earlier batch is still being written: the upload fails, the
    writer is aborted, and the batches after it never reach the writer."""
    from ozs3.s3.upload_sink import BATCH

    class EndedRequest(FakeRequest):
        """Twisted's Request deletes its channel once it has ended (the
        failure ends it), before the batches in flight come home."""

        def __getattribute__(self, name: str) -> Any:
            if name == "channel" and object.__getattribute__(self, "failures"):
                raise AttributeError(name)
            return object.__getattribute__(self, name)

    executor = RecordingExecutor()
    request = EndedRequest()
    upload = UploadSink(request, executor, aws_chunked=False, want_sha256=True)  # type: ignore[arg-type]
    calls: list[int] = []

    def failing_extra(batch: bytes) -> None:
        calls.append(len(batch))
        if len(calls) == 2:
            raise S3Error("SignatureDoesNotMatch")

    upload._hash_extra = failing_extra  # type: ignore[method-assign]
    writer = HeldWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    for _ in range(4):
        upload.data_received(b"q" * BATCH)
    upload.body_complete()
    assert [f.value.code for f in request.failures] == ["SignatureDoesNotMatch"]  # type: ignore[attr-defined]
    assert writer.aborts == 1
    issued = 0
    while writer.pending:
        issued += 1
        writer.pending.pop(0)[2].callback(None)
    assert issued == 1  # only the batch already with the writer
    assert calls == [BATCH, BATCH]  # nothing hashed after the failure
    failed = upload.when_done()
    assert failed.called and isinstance(failed.result, Failure)
    failed.addErrback(lambda _: None)


def test_while_batches_are_in_flight_small_reads_are_gathered_into_whole_ones() -> None:
    """The first read goes at once, whatever its size; while it is in
    flight, the reads after it wait to make a whole batch (a thread trip per
    64 KiB read would cost more than it hides)."""
    from ozs3.s3.upload_sink import BATCH

    executor = RecordingExecutor()
    upload = UploadSink(FakeRequest(), executor, aws_chunked=False, want_sha256=False)  # type: ignore[arg-type]
    writer = HeldWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    for _ in range(2 * BATCH // 65536 + 1):
        upload.data_received(b"s" * 65536)
    assert executor.log == [("md5", 65536), ("md5", BATCH), ("md5", BATCH)]
    upload.body_complete()
    while writer.pending:
        writer.pending.pop(0)[2].callback(None)
    assert upload.when_done().result.size == 2 * BATCH + 65536


class HeldSerial:
    """A hash queue whose calls wait until the test runs them, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, tuple[Any, ...], Deferred[Any]]] = []

    def run(self, f: Any, *args: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.calls.append((f, args, d))
        return d

    def run_held(self) -> None:
        while self.calls:
            f, args, d = self.calls.pop(0)
            d.callback(f(*args))


class HeldExecutor:
    def __init__(self) -> None:
        self.queues: list[HeldSerial] = []

    def serial(self) -> HeldSerial:
        self.queues.append(HeldSerial())
        return self.queues[-1]

    def run(self, f: Any, *args: Any) -> Deferred[Any]:
        raise AssertionError("batches go through serial queues")


def test_a_small_tail_waits_for_the_batches_before_it_to_be_hashed() -> None:
    """A last batch too small for a thread trip is hashed on the spot only
    when no batch before it is still queued: the digests see the body in
    order (a multipart part's ETag was wrong when the tail went first)."""
    import hashlib

    from ozs3.s3.upload_sink import BATCH

    executor = HeldExecutor()
    upload = UploadSink(FakeRequest(), executor, aws_chunked=False, want_sha256=True)  # type: ignore[arg-type]
    writer = FakeWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    body = b"a" * BATCH + b"tail" * 250
    upload.data_received(body[:BATCH])
    upload.data_received(body[BATCH:])
    upload.body_complete()
    for queue in executor.queues:
        queue.run_held()
    digests = upload.when_done().result
    assert digests.md5 == hashlib.md5(body).digest()
    assert digests.sha256 == hashlib.sha256(body).digest()
    assert writer.written == len(body)


def test_a_failed_write_is_the_last_write() -> None:
    """The batch after a failed write is queued for the writer already; it
    learns of the failure before its turn and is never written."""
    from ozs3.s3.upload_sink import BATCH

    request = FakeRequest()
    upload = UploadSink(
        request, RecordingExecutor(), aws_chunked=False, want_sha256=False
    )  # type: ignore[arg-type]
    writer = HeldWriter()
    upload.attach(writer)  # type: ignore[arg-type]
    for _ in range(3):
        upload.data_received(b"w" * BATCH)
    upload.body_complete()
    assert len(writer.pending) == 1
    writer.pending.pop(0)[2].errback(Failure(OSError(28, "No space left on device")))
    assert writer.pending == []
    assert [f.check(OSError) for f in request.failures] == [OSError]
    assert writer.aborts == 1
    failed = upload.when_done()
    assert isinstance(failed.result, Failure)
    failed.addErrback(lambda _: None)
