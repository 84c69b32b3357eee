"""OMResponse.status → ozs3's storage errors, in one table.

Ozone's own S3 gateway maps the same statuses to S3 errors
(shared/reference/ozone-s3g.md §3); here they become the storage layer's errors,
which ``ozs3.s3.errors.STORAGE_TO_S3`` turns into S3 errors.  A status with no
storage error of its own raises ``OMError`` carrying the status name, so the S3
layer can still tell them apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    InvalidBucketName,
    InvalidPart,
    InvalidPartOrder,
    KeyNotFound,
    NotSupported,
    PartTooSmall,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    StorageError,
    StorageIOError,
    Unavailable,
    UploadNotFound,
)


class OMError(StorageError):
    """The OM refused a request with a status that has no storage error of its
    own; ``status`` is its name in Ozone's ``Status`` enum (e.g.
    ``"QUOTA_EXCEEDED"``), or ``"UNKNOWN_<n>"`` for a value newer than ours."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}" if message else status)
        self.status = status
        self.om_message = message


class OMUnavailable(Unavailable):
    """The OM could not be asked: unreachable, no answer within the deadline, or
    not able to serve now (SCM in safe mode).  The request may not have run; a
    503 to the S3 client."""


class OMDeadlineExceeded(OMUnavailable):
    """No answer within the RPC's deadline (the request may still run)."""


class OMCallFailed(StorageIOError):
    """The gRPC call itself failed (e.g. status INTERNAL: an exception inside
    the OM, whose class and message are in ``details``)."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"OM call failed: {code}: {details}")
        self.code = code
        self.details = details


# (bucket, message) -> error, by status name.
ErrorFactory = Callable[[str, str], StorageError]

OM_STATUS_ERRORS: dict[str, ErrorFactory] = {
    "VOLUME_NOT_FOUND": lambda b, m: BucketNotFound(b),
    "BUCKET_NOT_FOUND": lambda b, m: BucketNotFound(b),
    # The owner is unknown from the status alone; OMClient.create_bucket fills
    # it in from InfoBucket.
    "BUCKET_ALREADY_EXISTS": lambda b, m: BucketAlreadyExists(b, ""),
    "BUCKET_NOT_EMPTY": lambda b, m: BucketNotEmpty(b),
    "KEY_NOT_FOUND": lambda b, m: KeyNotFound(m),
    "NO_SUCH_MULTIPART_UPLOAD_ERROR": lambda b, m: UploadNotFound(m),
    "INVALID_PART": lambda b, m: InvalidPart(m),
    "INVALID_PART_ORDER": lambda b, m: InvalidPartOrder(m),
    "ENTITY_TOO_SMALL": lambda b, m: PartTooSmall(m),
    "SCM_IN_SAFE_MODE": lambda b, m: OMUnavailable(f"SCM_IN_SAFE_MODE: {m}"),
    # SCM found no pipeline or container to put a block in (datanodes down,
    # pipelines closing): the cluster's, for now; a retry may find one.
    "KEY_ALLOCATION_ERROR": lambda b, m: OMUnavailable(f"KEY_ALLOCATION_ERROR: {m}"),
    "SCM_GET_PIPELINE_EXCEPTION": lambda b, m: OMUnavailable(
        f"SCM_GET_PIPELINE_EXCEPTION: {m}"
    ),
    "NOT_SUPPORTED_OPERATION": lambda b, m: NotSupported(m),
    "PERMISSION_DENIED": lambda b, m: PermissionDenied(m),
    "ACCESS_DENIED": lambda b, m: PermissionDenied(m),
    "INVALID_TOKEN": lambda b, m: PermissionDenied(m),
    "QUOTA_EXCEEDED": lambda b, m: QuotaExceeded(m),
    "INVALID_BUCKET_NAME": lambda b, m: InvalidBucketName(b),
    # Conditional writes (KeyArgs expectedDataGeneration 0 / expectedETag):
    # the key exists, has another ETag, has none, or changed under the write.
    "KEY_ALREADY_EXISTS": lambda b, m: PreconditionFailed("If-None-Match"),
    "ETAG_MISMATCH": lambda b, m: PreconditionFailed("If-Match"),
    "ETAG_NOT_AVAILABLE": lambda b, m: PreconditionFailed("If-Match"),
    "ATOMIC_WRITE_CONFLICT": lambda b, m: PreconditionFailed("If-Match"),
}


_NO_ROOM = "Unable to allocate a container"
# SCM's placement policy, for a pipeline (an EC group) wider than the
# datanodes it may choose from.
_TOO_FEW = re.compile(
    r"No enough datanodes to choose\. TotalNodes = (\d+) AvailableNodes = (\d+) "
    r"RequiredNodes = (\d+)"
)


def _too_few_datanodes(message: str) -> StorageError | None:
    """A cluster with fewer datanodes than the replication needs can never
    write it: 501, said plainly; with enough of them, some down: 503."""
    m = _TOO_FEW.search(message)
    if m is None:
        return None
    total, available, required = (int(g) for g in m.groups())
    if total < required:
        return NotSupported(
            f"this replication on a cluster of {total} datanodes (it needs {required})"
        )
    return OMUnavailable(
        f"{available} of {total} datanodes available, {required} needed: {message}"
    )


def om_status_error(status: str, message: str, bucket: str = "") -> StorageError:
    """The storage error for a non-OK OMResponse.status (by name)."""
    factory = OM_STATUS_ERRORS.get(status)
    if factory is None and status == "INTERNAL_ERROR" and _NO_ROOM in message:
        # The same, as SCM's allocateBlock reports it through the OM.
        factory = OM_STATUS_ERRORS["KEY_ALLOCATION_ERROR"]
    error = _too_few_datanodes(message) if status == "INTERNAL_ERROR" else None
    if error is None:
        error = factory(bucket, message) if factory else OMError(status, message)
    # Every error keeps the OM's own words, for logs.
    error.om_status = status  # type: ignore[attr-defined]
    return error


# gRPC status codes (by name) that mean "the OM could not be asked".
GRPC_UNAVAILABLE = frozenset({"UNAVAILABLE", "CANCELLED"})
GRPC_DEADLINE = "DEADLINE_EXCEEDED"
# Exceptions an OM raises (as gRPC INTERNAL, the class name leading the
# details) while it cannot serve writes: its Ratis group has no leader yet,
# e.g. for ~5 s after a JVM pause or a restart.  Java's client retries them
# (OMFailoverProxyProviderBase); they are a 503, never an internal error.
OM_NOT_SERVING = ("OMNotLeaderException", "OMLeaderNotReadyException")


def grpc_error(code: str, details: str, address: str) -> StorageError:
    """The storage error for a failed gRPC call (``code`` is the StatusCode's name)."""
    if code == GRPC_DEADLINE:
        return OMDeadlineExceeded(f"OM at {address}: no answer in time ({details})")
    if code in GRPC_UNAVAILABLE:
        return OMUnavailable(f"OM at {address} unavailable: {details}")
    if code == "INTERNAL" and any(
        f"exceptions.{name}:" in details for name in OM_NOT_SERVING
    ):
        return OMUnavailable(f"OM at {address} cannot serve now: {details}")
    return OMCallFailed(code, details)
