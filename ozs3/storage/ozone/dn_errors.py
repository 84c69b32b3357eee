"""Datanode failures as ozs3's storage errors, in one table.

A ``ContainerCommandResponseProto.result`` other than SUCCESS, a Ratis reply
carrying an exception, and a failed gRPC call each become one of the errors
below (all ``StorageError``s; the S3 layer maps them to S3 errors).  The classes
say what a caller can do about it: read another replica (``ReplicaBehind``),
write elsewhere (``ContainerNotWritable``), ask the pipeline's leader
(``NotLeader``), give up (``DatanodeError``).
"""

from __future__ import annotations

from ..errors import BlockNotFound, NoSpace, StorageError, StorageIOError, Unavailable


class DatanodeError(StorageIOError):
    """A datanode refused a container command; ``result`` is the name of its
    ``Result`` (``"UNKNOWN_<n>"`` for a value newer than ours)."""

    def __init__(self, result: str, message: str, address: str = "") -> None:
        where = f" (datanode {address})" if address else ""
        super().__init__(
            f"{result}: {message}{where}" if message else f"{result}{where}"
        )
        self.result = result
        self.dn_message = message
        self.address = address


class DatanodeBlockNotFound(BlockNotFound):
    """The container, block or chunk named by the OM is not on the datanode."""

    def __init__(self, result: str, message: str, address: str = "") -> None:
        super().__init__(f"{result}: {message} (datanode {address})")
        self.result = result


class DatanodeNoSpace(NoSpace):
    def __init__(self, result: str, message: str, address: str = "") -> None:
        super().__init__(f"{result}: {message} (datanode {address})")
        self.result = result


class ReplicaBehind(DatanodeError):
    """This replica has not (yet) got the block's committed version (BCSID):
    another replica of the pipeline may have it."""


class ContainerNotWritable(DatanodeError):
    """The container is closed / closing / unhealthy: the writer must exclude it
    and write the rest of the data into a newly allocated block."""


class DatanodeUnavailable(Unavailable):
    """The datanode could not be asked (unreachable, stream broken)."""


class DatanodeDeadlineExceeded(DatanodeUnavailable):
    """No answer within the call's deadline (a write may still take effect)."""


class RatisError(StorageIOError):
    """The Ratis server refused a request (its reply carried an exception)."""

    def __init__(self, kind: str, message: str, address: str = "") -> None:
        super().__init__(f"{kind}: {message} (ratis {address})")
        self.kind = kind
        self.ratis_message = message
        self.address = address


class NotLeader(RatisError, DatanodeUnavailable):
    """The peer asked is not the group's leader; ``suggested_leader`` is the
    peer id (the datanode UUID) it points at, if any.  THREE pipelines: retry
    there with the same call ids.  One datanode is not its group's leader
    either for a few seconds after a JVM pause longer than Ratis' step-down
    threshold (10 s) or a restart, with no leader to suggest: retryable, an
    S3 503 (``DatanodeUnavailable``), not an internal error."""

    def __init__(
        self, message: str, address: str, suggested_leader: str | None
    ) -> None:
        super().__init__("NotLeaderException", message, address)
        self.suggested_leader = suggested_leader


class LeaderNotReady(RatisError, DatanodeUnavailable):
    """The group's leader is elected but has not applied its log yet (after an
    election): retryable, like ``NotLeader``."""

    def __init__(self, address: str) -> None:
        super().__init__("LeaderNotReadyException", "leader not ready", address)


# Result name -> error class.  Everything else: DatanodeError.
RESULT_ERRORS: dict[str, type[StorageError]] = {
    "CONTAINER_NOT_FOUND": DatanodeBlockNotFound,
    "CONTAINER_MISSING": DatanodeBlockNotFound,
    "NO_SUCH_BLOCK": DatanodeBlockNotFound,
    "UNABLE_TO_FIND_CHUNK": DatanodeBlockNotFound,
    "DISK_OUT_OF_SPACE": DatanodeNoSpace,
    "UNKNOWN_BCSID": ReplicaBehind,
    "BCSID_MISMATCH": ReplicaBehind,
    "BLOCK_NOT_COMMITTED": ReplicaBehind,
    "CLOSED_CONTAINER_IO": ContainerNotWritable,
    "CLOSED_CONTAINER_RETRY": ContainerNotWritable,
    "CONTAINER_NOT_OPEN": ContainerNotWritable,
    "INVALID_CONTAINER_STATE": ContainerNotWritable,
    "CONTAINER_UNHEALTHY": ContainerNotWritable,
}


def result_error(result: str, message: str, address: str = "") -> StorageError:
    """The storage error for a ContainerCommandResponseProto whose result (by
    name) is not SUCCESS."""
    cls = RESULT_ERRORS.get(result, DatanodeError)
    error = cls(result, message, address)
    error.dn_result = result  # type: ignore[attr-defined]
    return error


# gRPC status codes (by name) that mean "the datanode could not be asked".
GRPC_UNAVAILABLE = frozenset({"UNAVAILABLE", "CANCELLED"})


def grpc_error(code: str, details: str, address: str) -> StorageError:
    """The storage error for a failed gRPC call to a datanode."""
    if code == "DEADLINE_EXCEEDED":
        return DatanodeDeadlineExceeded(
            f"datanode {address}: no answer in time ({details})"
        )
    if code in GRPC_UNAVAILABLE:
        return DatanodeUnavailable(f"datanode {address} unavailable: {details}")
    # e.g. INTERNAL from a Ratis ordered stream: the server failed the stream
    # (its trailers name the Java exception).
    return DatanodeUnavailable(f"datanode {address}: gRPC {code}: {details}")
