"""grpc calls as Deferreds, for the OM and the datanode transports alike.

On Twisted's asyncio reactor (which a gateway fronting a cluster runs on),
grpc.aio on the reactor's own loop; on any other reactor, grpcio's futures,
completed on grpc's threads and handed to the reactor with ``callFromThread``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from twisted.internet.defer import Deferred

# (gRPC status code name, details, address) -> the storage error to raise.
ErrorFactory = Callable[[str, str, str], Exception]


def is_asyncio(reactor: Any) -> bool:
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    return isinstance(reactor, AsyncioSelectorReactor)


def channel(reactor: Any, address: str, options: Sequence[tuple[str, Any]]) -> Any:
    """A channel to ``address`` of the kind ``reactor`` needs."""
    if is_asyncio(reactor):
        return grpc.aio.insecure_channel(address, options=options)
    return grpc.insecure_channel(address, options=options)


def close_channel(ch: Any) -> None:
    """Close a channel of either kind (grpc.aio's close is a coroutine)."""
    closing = ch.close()
    if closing is not None:
        in_loop(closing)


def in_loop(awaitable: Awaitable[Any]) -> Deferred[Any]:
    """Run ``awaitable`` on the asyncio reactor's loop, as a Deferred."""
    import asyncio

    return Deferred.fromFuture(asyncio.ensure_future(awaitable))


def rpc_error(error: BaseException, address: str, factory: ErrorFactory) -> Exception:
    """A failed grpc call as the storage error ``factory`` makes of its status;
    anything else (a reply that does not parse, a cancelled future) as it is."""
    if isinstance(error, grpc.RpcError) and hasattr(error, "code"):
        code = error.code()
        details = error.details() if hasattr(error, "details") else str(error)
        return factory(code.name if code else "UNKNOWN", details or "", address)
    return error if isinstance(error, Exception) else RuntimeError(repr(error))


def from_future(
    reactor: Any, future: Any, address: str, factory: ErrorFactory
) -> Deferred[Any]:
    """A grpcio future's result (or its ``rpc_error``) on the reactor thread."""
    d: Deferred[Any] = Deferred()

    def done(f: Any) -> None:  # on a grpc thread
        try:
            result = f.result()
        except BaseException as e:
            reactor.callFromThread(d.errback, rpc_error(e, address, factory))
        else:
            reactor.callFromThread(d.callback, result)

    future.add_done_callback(done)
    return d
