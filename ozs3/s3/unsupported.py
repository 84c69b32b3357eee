"""Request headers that change what S3 does, for features these buckets do
not have: refused, never silently ignored (a client told 200 believes its
object is locked, encrypted or deleted only if unchanged).  Pure.

Object Lock is refused as S3 refuses it on a bucket without Object Lock
(InvalidRequest); the rest as S3 refuses functionality it does not
implement (501 NotImplemented, naming the header).  Headers that change
nothing here (x-amz-request-payer, x-amz-storage-class) pass.
"""

from __future__ import annotations

from .context import Headers
from .errors import S3Error

# SSE-C: any of -algorithm, -key, -key-MD5.
_SSE_C = "x-amz-server-side-encryption-customer-"
_COPY_SSE_C = "x-amz-copy-source-server-side-encryption-customer-"
_OBJECT_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})
_ALL_WRITES = _OBJECT_WRITES | {"UploadPart", "UploadPartCopy"}

# Object Lock on object writes: S3's answer for a bucket without it.
_OBJECT_LOCK = ("x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
                "x-amz-object-lock-legal-hold")  # fmt: skip
NO_LOCK_CONFIGURATION = "Bucket is missing ObjectLockConfiguration"

# header -> the operations on which it asks for something not done here
# (all x-amz-*: refuse_unsupported skips the rest unread).
_NOT_IMPLEMENTED: dict[str, frozenset[str]] = {
    # Encryption at rest: SSE-S3 / SSE-KMS / DSSE-KMS, and SSE-C.
    "x-amz-server-side-encryption": _OBJECT_WRITES,
    "x-amz-server-side-encryption-aws-kms-key-id": _OBJECT_WRITES,
    "x-amz-server-side-encryption-context": _OBJECT_WRITES,
    "x-amz-server-side-encryption-bucket-key-enabled": _OBJECT_WRITES,
    _SSE_C: _ALL_WRITES | {"GetObject", "HeadObject"},
    _COPY_SSE_C: frozenset({"CopyObject", "UploadPartCopy"}),
    # Stored and served by S3 (website redirects, object tags).
    "x-amz-website-redirect-location": _OBJECT_WRITES,
    # Conditional deletes on more than the ETag: ignoring them would delete
    # what the client asked to keep.
    "x-amz-if-match-last-modified-time": frozenset({"DeleteObject"}),
    "x-amz-if-match-size": frozenset({"DeleteObject"}),
    # Appends (directory buckets).
    "x-amz-write-offset-bytes": frozenset({"PutObject"}),
}


def refuse_unsupported(op: str, headers: Headers) -> None:
    """Raise S3's refusal if ``headers`` ask ``op`` for something these
    buckets cannot do."""
    if op in _OBJECT_WRITES and any(headers.get(h) is not None for h in _OBJECT_LOCK):
        raise S3Error("InvalidRequest", NO_LOCK_CONFIGURATION)
    if op == "CreateBucket":
        enabled = headers.get("x-amz-bucket-object-lock-enabled")
        if enabled is not None and enabled.strip().lower() != "false":
            raise _not_implemented("x-amz-bucket-object-lock-enabled")
    for name, _ in headers.pairs:
        if not name.startswith("x-amz-"):  # every header of the table is one
            continue
        if name.startswith(_SSE_C):
            family = _SSE_C
        elif name.startswith(_COPY_SSE_C):
            family = _COPY_SSE_C
        else:
            family = name
        ops = _NOT_IMPLEMENTED.get(family)
        if ops is not None and op in ops:
            raise _not_implemented(name)


def _not_implemented(header: str) -> S3Error:
    return S3Error(
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
        extra={"Header": header},
    )
