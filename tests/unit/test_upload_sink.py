"""UploadSink's promises, with a fake writer: a body is held to its limits
as it arrives (nothing over them is written), and a writer that was not
committed is always aborted once its request ends."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

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


class InlineExecutor:
    def run(self, f: Any, *args: Any) -> Deferred[Any]:
        return succeed(f(*args))


def sink(request: FakeRequest) -> UploadSink:
    return UploadSink(request, InlineExecutor(), aws_chunked=False, want_sha256=False)  # type: ignore[arg-type]


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
