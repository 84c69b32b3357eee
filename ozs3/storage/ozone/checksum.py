"""Ozone's chunk checksums (``ChecksumData``), computed and verified as Ozone's
Java client does (``org.apache.hadoop.ozone.common.Checksum``).

A chunk's bytes are cut into windows of ``bytes_per_checksum`` (the last one may
be short); each window gets one checksum: CRC32 / CRC32C as the 32-bit value in
4 bytes big-endian (``Checksum.int2ByteString``), SHA256 / MD5 as the raw
digest, none at all for NONE.  The datanode's container scanner and every Java
reader verify them, so what ozs3 writes must be exactly this.

Pure: no I/O, no Twisted, no protobuf (``dn_codec`` converts to the message).
CRC32 is zlib's (= ``java.util.zip.CRC32``), CRC32C awscrt's (Castagnoli).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from awscrt import checksums as _crt

from ..errors import ChecksumMismatch

# Ozone's client defaults (OzoneClientConfig: ozone.client.checksum.type,
# ozone.client.bytes.per.checksum).
DEFAULT_TYPE = "CRC32"
DEFAULT_BYTES_PER_CHECKSUM = 16 * 1024


def _crc32(window: memoryview) -> bytes:
    return zlib.crc32(window).to_bytes(4, "big")


def _crc32c(window: memoryview) -> bytes:
    return _crt.crc32c(window).to_bytes(4, "big")


def _sha256(window: memoryview) -> bytes:
    return hashlib.sha256(window).digest()


def _md5(window: memoryview) -> bytes:
    return hashlib.md5(window, usedforsecurity=False).digest()


# Checksum type name (Ozone's ChecksumType) -> one window's checksum.
ALGORITHMS: dict[str, Callable[[memoryview], bytes]] = {
    "CRC32": _crc32,
    "CRC32C": _crc32c,
    "SHA256": _sha256,
    "MD5": _md5,
}
TYPES = ("NONE", *ALGORITHMS)


class ChunkChecksumMismatch(ChecksumMismatch):
    """Bytes read from a datanode do not match the chunk's recorded checksum."""

    def __init__(
        self, window: int, expected: bytes, actual: bytes, what: str = ""
    ) -> None:
        super().__init__(
            f"checksum mismatch{' in ' + what if what else ''} at window {window}: "
            f"recorded {expected.hex() or '(none)'}, computed {actual.hex()}"
        )
        self.window = window
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class ChecksumData:
    """One chunk's checksums (Ozone's ``ChecksumData``)."""

    type: str
    bytes_per_checksum: int
    checksums: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown checksum type {self.type!r}")
        if self.bytes_per_checksum <= 0:
            raise ValueError(
                f"bytes_per_checksum must be > 0: {self.bytes_per_checksum}"
            )


def window_checksums(
    data: bytes | bytearray | memoryview, type: str, bytes_per_checksum: int
) -> list[bytes]:
    """The checksum of each ``bytes_per_checksum`` window of ``data``."""
    if type == "NONE":
        return []
    algorithm = ALGORITHMS[type]
    view = memoryview(data).cast("B")
    return [
        algorithm(view[start : start + bytes_per_checksum])
        for start in range(0, len(view), bytes_per_checksum)
    ]


def compute(
    data: bytes | bytearray | memoryview,
    type: str = DEFAULT_TYPE,
    bytes_per_checksum: int = DEFAULT_BYTES_PER_CHECKSUM,
) -> ChecksumData:
    """The ChecksumData of a chunk holding ``data`` (Java
    ``Checksum.computeChecksum``)."""
    return ChecksumData(
        type,
        bytes_per_checksum,
        tuple(window_checksums(data, type, bytes_per_checksum)),
    )


def verify(
    data: bytes | bytearray | memoryview | Sequence[bytes],
    recorded: ChecksumData,
    start_window: int = 0,
    what: str = "",
) -> None:
    """Check ``data``, which starts at window ``start_window`` of the chunk (a read
    aligned to window boundaries), against the chunk's ``recorded`` checksums;
    raise ``ChunkChecksumMismatch`` on the first window that differs or has no
    recorded checksum (Java ``Checksum.verifyChecksum``).  ``data`` may be a
    list of buffers (ReadChunk V1 replies), taken as their concatenation."""
    if recorded.type == "NONE":
        return
    if not isinstance(data, (bytes, bytearray, memoryview)):
        data = b"".join(data)
    computed = window_checksums(data, recorded.type, recorded.bytes_per_checksum)
    for i, actual in enumerate(computed):
        index = start_window + i
        expected = recorded.checksums[index] if index < len(recorded.checksums) else b""
        if actual != expected:
            raise ChunkChecksumMismatch(index, expected, actual, what)


def aligned_range(
    start: int, end: int, chunk_length: int, bytes_per_checksum: int
) -> tuple[int, int]:
    """The smallest window-aligned ``[start, end)`` inside a chunk of
    ``chunk_length`` bytes that covers ``[start, end)`` (the bytes a verifying
    reader must fetch; Java ``ChunkInputStream.computeChecksumBoundaries``)."""
    if not 0 <= start < end <= chunk_length:
        raise ValueError(f"range [{start}, {end}) outside a chunk of {chunk_length}")
    first = start // bytes_per_checksum * bytes_per_checksum
    last = min(-(-end // bytes_per_checksum) * bytes_per_checksum, chunk_length)
    return first, last
