"""The block file's format, shared by its writer and its reader.

A block file holds its chunks' bytes back to back, then a footer: the chunk
list as JSON (each chunk's offset, length and ChecksumData), its length and
a magic number (``FOOTER``).  A file without a valid footer is an unfinished
block and is never read.
"""

from __future__ import annotations

import errno
import struct
import zlib
from collections.abc import Callable

from awscrt import checksums as crt_checksums

from ..errors import NoSpace, StorageIOError

FOOTER = struct.Struct(">Q8s")
MAGIC = b"OZS3BLK1"
# What a reader reads off a block's end to find its footer and metadata.
END_READ = 4096


# Ozone's ChecksumTypes, each a 4-byte big-endian sum per window as Ozone's
# Checksum computes it.  CRC32C is the default: awscrt computes it with the
# CPU's CRC instruction, about 8x zlib's CRC32 on the machines measured, so
# verifying every byte of a GET costs little next to the read itself.
WINDOW_SUM: dict[str, Callable[..., int]] = {
    "CRC32": zlib.crc32,
    "CRC32C": crt_checksums.crc32c,
}


def io_error(e: OSError, what: str) -> Exception:
    if e.errno == errno.ENOSPC:
        return NoSpace(what)
    return StorageIOError(f"{what}: {e.strerror}")
