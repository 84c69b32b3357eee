"""S3HTTPChannel's promises, on a string transport and a fake clock: what the
responses of one reactor turn write is sent at the end of that turn in one
write per connection, and no byte ever overtakes another (larger bodies,
pipelined requests, 100 Continue, a malformed request, a close)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web import http

from ozs3.s3 import channel as channel_module
from ozs3.s3.channel import HOLD_MAX, S3HTTPChannel


class CountingTransport(StringTransport):
    """A StringTransport that counts the writes it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        super().write(data)

    def writeSequence(self, seq: Any) -> None:
        self.writes += 1
        super().write(b"".join(seq))


BODIES: dict[bytes, bytes] = {}


class AnsweringRequest(http.Request):
    """Answers at once with the body BODIES names for its path."""

    def process(self) -> None:
        body = BODIES.get(self.path, b"ok")
        self.setHeader(b"content-length", b"%d" % len(body))
        self.write(body)
        self.finish()


class HeldRequest(http.Request):
    """Never answers by itself: the test finishes it."""

    def process(self) -> None:
        HELD.append(self)


HELD: list[http.Request] = []


@pytest.fixture(autouse=True)
def fresh_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel_module, "END_OF_TURN", channel_module.EndOfTurn())
    BODIES.clear()
    HELD.clear()


def connect(request_factory: Any = AnsweringRequest) -> tuple[S3HTTPChannel, CountingTransport, Clock]:  # fmt: skip
    clock = Clock()
    channel = S3HTTPChannel()
    channel.requestFactory = request_factory
    channel.callLater = clock.callLater  # type: ignore[assignment]
    transport = CountingTransport()
    channel.makeConnection(transport)
    return channel, transport, clock


def get(path: bytes, extra: bytes = b"") -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n"


def responses(data: bytes) -> list[tuple[bytes, bytes]]:
    """(status line, body) of each response in ``data``."""
    out = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        out.append((lines[0], data[:length]))
        data = data[length:]
    return out


def test_a_response_is_sent_at_the_end_of_the_turn_in_one_write() -> None:
    channel, transport, clock = connect()
    BODIES[b"/k"] = b"x" * 4096
    channel.dataReceived(get(b"/k"))
    assert transport.value() == b""  # held for the rest of the turn
    clock.advance(0)
    assert responses(transport.value()) == [(b"HTTP/1.1 200 OK", b"x" * 4096)]
    assert transport.writes == 1


def test_the_responses_of_one_turn_leave_together() -> None:
    connections = [connect() for _ in range(3)]
    clock = Clock()
    for channel, _, _ in connections:
        channel.callLater = clock.callLater  # type: ignore[assignment]
    for channel, _, _ in connections:
        channel.dataReceived(get(b"/k"))
    assert all(t.value() == b"" for _, t, _ in connections)
    clock.advance(0)
    for _, transport, _ in connections:
        assert responses(transport.value()) == [(b"HTTP/1.1 200 OK", b"ok")]
        assert transport.writes == 1


def test_a_large_body_goes_to_the_transport_after_the_headers() -> None:
    channel, transport, clock = connect(HeldRequest)
    channel.dataReceived(get(b"/big"))
    request = HELD[0]
    body = b"y" * (HOLD_MAX + 1)
    request.setHeader(b"content-length", b"%d" % (len(body) + 2))
    request.write(b"ab")  # headers and a small first piece: held
    assert transport.value() == b""
    request.write(body)  # too much to hold: out now, in order
    assert responses(transport.value()) == [(b"HTTP/1.1 200 OK", b"ab" + body)]
    request.finish()
    clock.advance(0)
    assert responses(transport.value()) == [(b"HTTP/1.1 200 OK", b"ab" + body)]


def test_pipelined_requests_are_answered_in_order() -> None:
    channel, transport, clock = connect()
    BODIES.update({b"/1": b"one", b"/2": b"two", b"/3": b"three"})
    channel.dataReceived(get(b"/1") + get(b"/2") + get(b"/3"))
    clock.advance(0)
    assert [body for _, body in responses(transport.value())] == [b"one", b"two", b"three"]  # fmt: skip


def test_a_held_response_goes_before_the_next_requests_100_continue() -> None:
    channel, transport, clock = connect()
    BODIES[b"/first"] = b"first"
    channel.dataReceived(get(b"/first"))
    channel.dataReceived(
        b"PUT /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Expect: 100-continue\r\n\r\n"
    )
    data = transport.value()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    first = responses(data.split(b"HTTP/1.1 100 Continue")[0])
    assert first == [(b"HTTP/1.1 200 OK", b"first")]
    assert b"HTTP/1.1 100 Continue\r\n\r\n" in data
    clock.advance(0)


def test_a_held_response_goes_before_the_400_for_a_malformed_request() -> None:
    channel, transport, clock = connect()
    BODIES[b"/first"] = b"first"
    channel.dataReceived(get(b"/first"))
    channel.dataReceived(b"GET /bad HTTP/1.1\r\nno colon here\r\n\r\n")
    data = transport.value()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert responses(data.split(b"HTTP/1.1 400")[0]) == [(b"HTTP/1.1 200 OK", b"first")]
    assert b"HTTP/1.1 400 Bad Request" in data
    clock.advance(0)


def test_a_closing_response_is_sent_before_the_close() -> None:
    channel, transport, clock = connect()
    BODIES[b"/close"] = b"bye"
    channel.dataReceived(get(b"/close", b"Connection: close\r\n"))
    assert transport.disconnecting
    assert responses(transport.value()) == [(b"HTTP/1.1 200 OK", b"bye")]
    clock.advance(0)
    assert responses(transport.value()) == [(b"HTTP/1.1 200 OK", b"bye")]


def test_a_connection_lost_before_the_end_of_the_turn_sends_nothing() -> None:
    channel, transport, clock = connect()
    channel.dataReceived(get(b"/k"))
    channel.connectionLost(Failure(ConnectionError("gone")))
    clock.advance(0)
    assert transport.value() == b""


class ObservedRequest(AnsweringRequest):
    """Records, when its finish is observed (as the audit log observes it),
    what had left through ``send_now`` by then."""

    def process(self) -> None:
        self.notifyFinish().addCallback(lambda _: OBSERVED.append(list(SENT_NOW)))
        super().process()


OBSERVED: list[list[bytes]] = []
SENT_NOW: list[bytes] = []


@pytest.mark.parametrize(
    "requests",
    [
        get(b"/k"),
        get(b"/k", b"Connection: close\r\n"),
        get(b"/k") + get(b"/k"),  # pipelined
    ],
    ids=["keep-alive", "close", "pipelined"],
)
def test_no_byte_leaves_before_the_requests_observers_ran(
    requests: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client must not have its answer before the request's audit-log line
    is written: a close or a pipelined request happen inside the request's
    finish, before its observers, so they only hand over to the transport;
    the end of the turn sends at once."""

    def fake_send_now(transport: Any, data: bytes) -> int:
        SENT_NOW.append(data)
        transport.write(data)
        return len(data)

    OBSERVED.clear()
    SENT_NOW.clear()
    monkeypatch.setattr(channel_module, "send_now", fake_send_now)
    channel, transport, clock = connect(ObservedRequest)
    channel.dataReceived(requests)
    clock.advance(0)
    assert OBSERVED and all(seen == [] for seen in OBSERVED)
    assert all(body == b"ok" for _, body in responses(transport.value()))
