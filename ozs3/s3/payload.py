"""The digests a buffered request body (DeleteObjects, CompleteMultipartUpload,
CreateBucket, PutBucketAcl, ...) must match before its operation runs.  Pure.

A SigV4 signature covers the body only through ``x-amz-content-sha256``, and
``Content-MD5`` / ``x-amz-checksum-*`` are what S3 asks instead of it: a
body that does not match what was signed or declared is refused here, in one
place for every buffered operation, before any handler sees it.  Streamed
bodies (PutObject, UploadPart) are hashed as they are stored and checked
before their commit (``handlers.obj._verify``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..digests import Checksum
from . import checksums
from .errors import S3Error
from .headers import content_md5, payload_sha256
from .sigv4 import EMPTY_SHA256


def verify_buffered(get: Callable[[str], str | None], body: bytes) -> None:
    """Raise the S3 error for ``body`` not matching the request's digests.

    ``get`` looks up a lower-cased request header.
    """
    declared = get("x-amz-content-sha256")
    if declared is not None and declared.startswith("STREAMING-"):
        # Its chunks would be signed (or checksummed in a trailer) one by
        # one; only the streamed operations decode and check them.
        raise S3Error(
            "InvalidRequest",
            "aws-chunked request bodies are accepted for PutObject and UploadPart "
            "only.",
        )
    expected_sha = payload_sha256(declared)
    if expected_sha is not None and not (body == b"" and declared == EMPTY_SHA256):
        computed = hashlib.sha256(body).digest()
        if computed != expected_sha:
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                extra={
                    "ClientComputedContentSHA256": expected_sha.hex(),
                    "S3ComputedContentSHA256": computed.hex(),
                },
            )
    expected_md5 = content_md5(get("content-md5"))
    if expected_md5 is not None:
        md5 = hashlib.md5(body).digest()
        if md5 != expected_md5:
            raise S3Error(
                "BadDigest",
                extra={
                    "ExpectedDigest": expected_md5.hex(),
                    "CalculatedDigest": md5.hex(),
                },
            )
    algorithm, value = checksums.requested(get)
    if algorithm is None:
        return
    if value is None:
        raise S3Error(
            "InvalidRequest",
            f"The {checksums.HEADER}{algorithm} trailer was declared but cannot "
            "come without an aws-chunked body.",
        )
    checksum = Checksum(algorithm)
    checksum.update(body)
    checksums.verify(algorithm, value, checksum)
