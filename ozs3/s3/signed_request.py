"""A request as the signature checks see it (raw bytes, before any
decoding), and the small pure helpers SigV2 and SigV4 share."""

from __future__ import annotations

import datetime
import functools
import re
from email.utils import mktime_tz, parsedate_tz
from urllib.parse import unquote_to_bytes

import attrs

from .errors import S3Error

# Query parameters that mark a presigned request of either version.
V4_QUERY_MARKERS = (b"X-Amz-Algorithm", b"X-Amz-Credential", b"X-Amz-Signature")
V2_QUERY_MARKERS = (b"AWSAccessKeyId", b"Signature")

# What header values are trimmed of.
WS = " \t\r\n\v\f"

_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")


@attrs.frozen
class HttpRequest:
    """A request as it arrived, before any decoding."""

    method: str  # "GET"
    raw_path: bytes  # exactly as sent, before "?", e.g. b"/bkt/a%20b"
    raw_query: bytes  # exactly as sent after "?", b"" if none
    # (lower-case name, value as received) for every header line, in order
    headers: tuple[tuple[str, str], ...]
    # name -> its values in order, made once: a signature check asks ~8 times.
    _values: dict[str, list[str]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        values: dict[str, list[str]] = {}
        for n, v in self.headers:
            if n in values:
                values[n].append(v)
            else:
                values[n] = [v]
        object.__setattr__(self, "_values", values)

    def header_values(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    def header(self, name: str) -> str | None:
        found = self._values.get(name)
        return None if found is None else found[0]


def query_items(raw_query: bytes) -> list[tuple[bytes, bytes | None]]:
    """Every ``name[=value]`` of a raw query, in order, percent-decoded (never
    ``+`` as space); the value is None when there is no ``=``."""
    items: list[tuple[bytes, bytes | None]] = []
    for part in raw_query.split(b"&"):
        if not part:
            continue
        name, eq, value = part.partition(b"=")
        items.append((unquote_to_bytes(name), unquote_to_bytes(value) if eq else None))
    return items


def text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


@functools.lru_cache(maxsize=256)
def amz_timestamp(amz_date: str) -> float | None:
    """Seconds since the epoch of a ``YYYYMMDDTHHMMSSZ`` string, None if bad.
    Remembered: every signed request converts its date twice, and requests
    of the same second share it."""
    if not _AMZ_DATE.fullmatch(amz_date):
        return None
    try:
        when = datetime.datetime(
            int(amz_date[0:4]),
            int(amz_date[4:6]),
            int(amz_date[6:8]),
            int(amz_date[9:11]),
            int(amz_date[11:13]),
            int(amz_date[13:15]),
            tzinfo=datetime.UTC,
        )
    except ValueError:
        return None
    return when.timestamp()


def http_timestamp(value: str) -> float | None:
    """Seconds since the epoch of an HTTP (RFC 1123 and kin) date, None if bad."""
    try:
        parsed = parsedate_tz(value.strip())
        return None if parsed is None else float(mktime_tz(parsed))
    except (ValueError, OverflowError, TypeError):
        return None


def iso8601(timestamp: float) -> str:
    when = datetime.datetime.fromtimestamp(int(timestamp), datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def hex_bytes(data: bytes) -> str:
    """The space-separated hex S3 reports StringToSignBytes in."""
    return " ".join(f"{b:02x}" for b in data)


def conflict_error(authorization: str) -> S3Error:
    return S3Error(
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
        "parameter, Signature query string parameter or the Authorization "
        "header should be specified",
        extra={"ArgumentName": "Authorization", "ArgumentValue": authorization},
    )
