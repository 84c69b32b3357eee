"""How OMRequests reach the OM: one gRPC unary call each
(``/hadoop.ozone.OzoneManagerService/submitRequest``), with a deadline, as a
Deferred.  Failures of the call become storage errors (``om_errors.grpc_error``).

On Twisted's asyncio reactor: grpc.aio (``GrpcAioTransport``), the cheapest
(README, "OM client transport": 2,000 InfoBucket at c=16, ~190 µs of client CPU
per call against ~350 µs for grpcio's futures and ~400-490 µs for blocking
stubs on a 16-thread pool, and the shortest wall time).  On any other reactor:
grpcio's futures, completed by grpc's own threads and handed to the reactor
with ``callFromThread`` (``GrpcFutureTransport``).  ``om_transport(...)`` picks.
"""

from __future__ import annotations

from typing import Any, Protocol

import grpc
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads

from .grpc_twisted import from_future, in_loop, is_asyncio, rpc_error
from .om_errors import grpc_error
from .proto import om_pb2_grpc

# Channel options: the OM answers up to 128 MB (ozone.om.grpc.maximum.response.length);
# reconnect within seconds once an OM that was down is back (grpc's default
# backoff grows to 2 minutes).  Not grpc.min_reconnect_backoff_ms: it is also
# the connect timeout (default 20 s), and a small one fails connections to a
# slow OM.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 128 * 1024 * 1024),
    ("grpc.max_send_message_length", 128 * 1024 * 1024),
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


class OMTransport(Protocol):
    address: str

    def submit(self, request: Any, timeout: float) -> Deferred[Any]:
        """The OMResponse to ``request``, or a storage error, within ``timeout`` s."""
        ...

    def close(self) -> Deferred[None] | None: ...


class GrpcFutureTransport:
    def __init__(self, address: str, reactor: IReactorFromThreads) -> None:
        self.address = address
        self._reactor = reactor
        self._channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = om_pb2_grpc.OzoneManagerServiceStub(self._channel)

    def submit(self, request: Any, timeout: float) -> Deferred[Any]:
        call = self._stub.submitRequest.future(request, timeout=timeout)
        return from_future(self._reactor, call, self.address, grpc_error)

    def close(self) -> Deferred[None] | None:
        self._channel.close()
        return None


class GrpcAioTransport:
    """grpc.aio; needs Twisted's asyncio reactor (the channel lives on its loop)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = om_pb2_grpc.OzoneManagerServiceStub(self._channel)

    async def _call(self, request: Any, timeout: float) -> Any:
        try:
            return await self._stub.submitRequest(request, timeout=timeout)
        except grpc.RpcError as e:
            raise rpc_error(e, self.address, grpc_error) from None

    def submit(self, request: Any, timeout: float) -> Deferred[Any]:
        return in_loop(self._call(request, timeout))

    def close(self) -> Deferred[None]:
        return in_loop(self._channel.close())


def om_transport(address: str, reactor: IReactorFromThreads) -> OMTransport:
    """The transport for ``reactor``: grpc.aio on the asyncio reactor, else futures."""
    if is_asyncio(reactor):
        return GrpcAioTransport(address)
    return GrpcFutureTransport(address, reactor)


def probe(address: str, timeout: float) -> str:
    """Blocking, before the reactor runs: "" if a gRPC connection to the OM at
    ``address`` opens within ``timeout`` s, else why not, in one line."""
    channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        return (
            f"cannot reach the Ozone Manager's gRPC service at {address} "
            f"(ozone.om.address, ozone.om.grpc.port) within {timeout:g} s"
        )
    finally:
        channel.close()
    return ""
