"""channel.send_now and channel.unsent on a real TCP connection of the test's reactor: it sends
into an idle socket at once, and never ahead of bytes the transport still
holds.  This pins the private parts of Twisted's tcp.Server it reads (its
buffer and socket): an upgrade that renames them fails here, not in a
response."""

from __future__ import annotations

import socket
from typing import Any

import pytest_twisted
from twisted.internet import protocol, reactor, tcp
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from ozs3.s3.channel import send_now, unsent


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            break
        data += more
    return data


@pytest_twisted.ensureDeferred
async def test_send_now_sends_at_once_and_never_overtakes_buffered_bytes() -> None:
    connected: Deferred[tcp.Server] = Deferred()

    class Server(protocol.Protocol):
        def connectionMade(self) -> None:
            connected.callback(self.transport)  # type: ignore[arg-type]

    tcp_reactor: Any = reactor
    port = tcp_reactor.listenTCP(
        0, protocol.Factory.forProtocol(Server), interface="127.0.0.1"
    )
    client = socket.create_connection(("127.0.0.1", port.getHost().port))
    client.settimeout(10)
    try:
        transport = await connected
        assert type(transport) is tcp.Server
        # Idle: the socket takes it now, before the reactor turns again.
        assert send_now(transport, b"now") == 3
        assert _recv_exactly(client, 3) == b"now"
        # Bytes waiting in the transport: nothing may go ahead of them.
        assert unsent(transport) == 0
        transport.write(b"later")
        assert unsent(transport) == 5
        assert send_now(transport, b"x") == 0
        await deferLater(reactor, 0.05, lambda: None)
        assert _recv_exactly(client, 5) == b"later"
        # Closing: not sent.
        transport.loseConnection()
        assert send_now(transport, b"x") == 0
    finally:
        client.close()
        await port.stopListening()
