"""Numbers sent by clients: ASCII digits only, bounded.  Pure.

Python's ``int()`` accepts any Unicode decimal digit (``"٣"``), underscores
(``"1_000"``), signs and surrounding Unicode whitespace, and raises on more
than 4,300 digits; S3 accepts none of that, so no client number goes
through ``int()`` before it has been checked here.
"""

from __future__ import annotations

from .errors import S3Error

# The largest numbers S3 parses (byte offsets, sizes) are 64-bit.
MAX_DIGITS = 19
INT32_MAX = 2**31 - 1


def decimal(text: str | None, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as a non-negative integer if it is 1..``max_digits`` ASCII
    digits and nothing else; otherwise None."""
    if (
        text is None
        or not 0 < len(text) <= max_digits
        or not text.isascii()
        or not text.isdigit()
    ):
        return None
    return int(text)


def int32_argument(value: str | None, name: str, default: int) -> int:
    """A query argument or header S3 reads as a non-negative int32
    (max-keys, max-parts, markers): ``default`` when absent or empty,
    InvalidArgument naming ``name`` when it is anything but such a number."""
    if value is None or value == "":
        return default
    n = decimal(value, 10)
    if n is None or n > INT32_MAX:
        raise S3Error(
            "InvalidArgument",
            f"Provided {name} not an integer or within integer range",
            extra={"ArgumentName": name, "ArgumentValue": value},
        )
    return n
