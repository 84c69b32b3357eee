"""How OMRequests reach the OM: one gRPC unary call each
(``/hadoop.ozone.OzoneManagerService/submitRequest``), with a deadline, as a
Deferred.  Failures of the call become storage errors (``om_errors.grpc_error``).

``GrpcFutureTransport`` is the one ozs3 uses: grpcio's own completion threads
run the calls, and each result is handed to the reactor with ``callFromThread``
(works on every reactor, no thread of ours per call in flight).  The other two
are kept for the measurement in README ("OM client: transport"):
``GrpcThreadTransport`` (blocking stub calls on a bounded thread pool) and
``GrpcAioTransport`` (grpc.aio, only on Twisted's asyncio reactor).
"""

from __future__ import annotations

from typing import Any, Protocol

import grpc
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads

from ..._executor import Executor
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

    def close(self) -> None: ...


def _translate(error: grpc.RpcError, address: str) -> Exception:
    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    return grpc_error(code.name if code else "UNKNOWN", details or "", address)


class GrpcFutureTransport:
    def __init__(self, address: str, reactor: IReactorFromThreads) -> None:
        self.address = address
        self._reactor = reactor
        self._channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = om_pb2_grpc.OzoneManagerServiceStub(self._channel)

    def submit(self, request: Any, timeout: float) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        call = self._stub.submitRequest.future(request, timeout=timeout)

        def done(future: Any) -> None:  # on a grpc thread
            try:
                result = future.result()
            except grpc.RpcError as e:
                self._reactor.callFromThread(d.errback, _translate(e, self.address))
            except BaseException as e:  # cancelled, or a parse error
                self._reactor.callFromThread(d.errback, e)
            else:
                self._reactor.callFromThread(d.callback, result)

        call.add_done_callback(done)
        return d

    def close(self) -> None:
        self._channel.close()


class GrpcThreadTransport:
    def __init__(self, address: str, executor: Executor) -> None:
        self.address = address
        self._executor = executor
        self._channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = om_pb2_grpc.OzoneManagerServiceStub(self._channel)

    def _call(self, request: Any, timeout: float) -> Any:
        try:
            return self._stub.submitRequest(request, timeout=timeout)
        except grpc.RpcError as e:
            raise _translate(e, self.address) from None

    def submit(self, request: Any, timeout: float) -> Deferred[Any]:
        return self._executor.run(self._call, request, timeout)

    def close(self) -> None:
        self._channel.close()


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
            raise _translate(e, self.address) from None

    def submit(self, request: Any, timeout: float) -> Deferred[Any]:
        import asyncio

        return Deferred.fromFuture(asyncio.ensure_future(self._call(request, timeout)))

    def close(self) -> Deferred[None]:
        import asyncio

        return Deferred.fromFuture(asyncio.ensure_future(self._channel.close()))
