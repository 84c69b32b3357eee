"""S3's additional checksum algorithms: CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256.

Pure, shared by the S3 layer (verifying requests) and the OM (a multipart
object's composite checksum).  The CRCs come from awscrt (AWS's C runtime,
the library botocore itself uses for them; hardware-accelerated, and it
releases the GIL, so it runs in the hash pool beside MD5).  Values are the
big-endian digest bytes, base64 in headers, trailers and XML.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from awscrt import checksums as crt

ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
_CRC: dict[str, tuple[Callable[..., int], int]] = {
    "crc32": (crt.crc32, 4),
    "crc32c": (crt.crc32c, 4),
    "crc64nvme": (crt.crc64nvme, 8),
}
SIZES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32}
XML_NAMES = {
    "crc32": "ChecksumCRC32",
    "crc32c": "ChecksumCRC32C",
    "crc64nvme": "ChecksumCRC64NVME",
    "sha1": "ChecksumSHA1",
    "sha256": "ChecksumSHA256",
}


class Checksum:
    """An incremental checksum of one algorithm."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._crc = 0
        self._hash = (
            None if algorithm in _CRC else hashlib.new(algorithm)  # sha1 / sha256
        )

    def update(self, data: bytes | memoryview) -> None:
        if self._hash is not None:
            self._hash.update(data)
        else:
            self._crc = _CRC[self.algorithm][0](data, self._crc)

    def digest(self) -> bytes:
        if self._hash is not None:
            return self._hash.digest()
        return self._crc.to_bytes(_CRC[self.algorithm][1], "big")

    def b64(self) -> str:
        return base64.b64encode(self.digest()).decode()


def encode_stored(algorithm: str, value: str) -> str:
    """How a checksum is kept beside a key or part: ``alg:base64[-N]``."""
    return f"{algorithm}:{value}"


def decode_stored(stored: str) -> tuple[str, str] | None:
    if not stored:
        return None
    algorithm, _, value = stored.partition(":")
    return algorithm, value


def composite(part_checksums: list[str]) -> str:
    """A multipart object's checksum: the checksum of the parts' binary
    checksums, then ``-N`` (S3's COMPOSITE type).  ``""`` unless every part
    has one, all of the same algorithm."""
    decoded = [decode_stored(c) for c in part_checksums]
    if not decoded or any(d is None for d in decoded):
        return ""
    algorithms = {d[0] for d in decoded if d is not None}
    if len(algorithms) != 1:
        return ""
    algorithm = algorithms.pop()
    total = Checksum(algorithm)
    for d in decoded:
        assert d is not None
        total.update(base64.b64decode(d[1]))
    return encode_stored(algorithm, f"{total.b64()}-{len(decoded)}")
