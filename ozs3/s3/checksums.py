"""S3's additional checksums on requests: which one a request asks for,
its expected value (header or trailer), and the S3 errors for each failure.
The algorithms themselves live in ``ozs3.digests``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from ..digests import ALGORITHMS, SIZES, Checksum
from .errors import S3Error

HEADER = "x-amz-checksum-"


def decode_value(algorithm: str, value: str) -> bytes:
    """The digest a header/trailer value names; InvalidRequest if malformed."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != SIZES[algorithm]:
        raise S3Error(
            "InvalidRequest",
            f"Value for {HEADER}{algorithm} header is invalid.",
        )
    return raw


def requested(get: Callable[[str], str | None]) -> tuple[str | None, str | None]:
    """``(algorithm, expected value)`` a request asks to be checked.

    The value is None when it will come in a trailer (``x-amz-trailer``).
    ``get`` looks up a lower-cased request header.
    """
    found = [(a, v) for a in ALGORITHMS if (v := get(HEADER + a)) is not None]
    trailer = (get("x-amz-trailer") or "").strip().lower()
    if trailer:
        if not trailer.startswith(HEADER) or trailer[len(HEADER) :] not in ALGORITHMS:
            raise S3Error(
                "InvalidRequest", "The value specified in x-amz-trailer is invalid."
            )
        if found:
            raise S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header")
        return trailer[len(HEADER) :], None
    if len(found) > 1:
        raise S3Error(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are "
            "not allowed.",
        )
    if found:
        algorithm, value = found[0]
        decode_value(algorithm, value)
        return algorithm, value
    sdk = (get("x-amz-sdk-checksum-algorithm") or "").strip().lower()
    if sdk and sdk not in ALGORITHMS:
        raise S3Error(
            "InvalidRequest",
            "Checksum algorithm provided is unsupported. Please try again with any "
            "of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        )
    return None, None


# The checksum types S3 lets a multipart upload of each algorithm have, its
# default first: CRC-64/NVME is full-object only, SHA-1 and SHA-256 composite
# only, the 32-bit CRCs either.
UPLOAD_TYPES = {
    "crc32": ("COMPOSITE", "FULL_OBJECT"),
    "crc32c": ("COMPOSITE", "FULL_OBJECT"),
    "crc64nvme": ("FULL_OBJECT",),
    "sha1": ("COMPOSITE",),
    "sha256": ("COMPOSITE",),
}


def upload_checksum(get: Callable[[str], str | None]) -> tuple[str, str] | None:
    """``(ALGORITHM, TYPE)`` a CreateMultipartUpload asks for (what S3
    echoes in x-amz-checksum-algorithm / x-amz-checksum-type), or None."""
    algorithm = (get("x-amz-checksum-algorithm") or "").strip().lower()
    kind = (get("x-amz-checksum-type") or "").strip().upper()
    if not algorithm:
        if kind:
            raise S3Error(
                "InvalidRequest",
                "The x-amz-checksum-type header can only be used with the "
                "x-amz-checksum-algorithm header.",
            )
        return None
    if algorithm not in UPLOAD_TYPES:
        raise S3Error(
            "InvalidRequest",
            "Checksum algorithm provided is unsupported. Please try again with any "
            "of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        )
    types = UPLOAD_TYPES[algorithm]
    if not kind:
        kind = types[0]
    elif kind not in ("COMPOSITE", "FULL_OBJECT"):
        raise S3Error(
            "InvalidRequest", "Value for x-amz-checksum-type header is invalid."
        )
    elif kind not in types:
        raise S3Error(
            "InvalidRequest",
            f"The {kind} checksum type cannot be used with the {algorithm} checksum "
            "algorithm.",
        )
    return algorithm.upper(), kind


def verify(algorithm: str, expected: str, computed: Checksum) -> None:
    if decode_value(algorithm, expected) != computed.digest():
        raise S3Error(
            "BadDigest",
            f"The {algorithm.upper()} you specified did not match the calculated "
            "checksum.",
        )
