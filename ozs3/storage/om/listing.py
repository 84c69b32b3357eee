"""S3 listing over an ordered key space.  Pure: no I/O, no Twisted.

Keys are UTF-8 ``bytes`` so that order is S3's (binary UTF-8).  The caller
supplies ``scan(lower, inclusive, upper, limit)`` returning up to ``limit``
``(key, value)`` pairs in order from ``lower`` (exclusive unless ``inclusive``)
and below ``upper`` (``None``: no bound).  With a delimiter, a run of keys
rolling up into one common prefix costs one seek, not one row per key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterable
from itertools import takewhile
from typing import Generic, TypeVar

import attrs

V = TypeVar("V")

# May be lazy: after a common prefix the rest of a scan is abandoned, so a
# cursor should not fetch rows nobody reads.
Scan = Callable[[bytes, bool, "bytes | None", int], Iterable[tuple[bytes, V]]]


def successor(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``."""
    p = bytearray(prefix)
    while p:
        if p[-1] < 0xFF:
            p[-1] += 1
            return bytes(p)
        p.pop()
    return None


@attrs.frozen
class Page(Generic[V]):
    keys: tuple[tuple[bytes, V], ...]
    common_prefixes: tuple[bytes, ...]
    truncated: bool
    next_marker: bytes | None


@attrs.frozen
class ScanRequest:
    """Keys from ``lower`` (exclusive unless ``inclusive``) below ``upper``
    (None: no bound), at most ``limit``.  ``past`` is set when ``lower`` is
    ``successor(past)``: a store that can only seek *after* a key seeks past
    every key starting with ``past`` instead."""

    lower: bytes
    inclusive: bool
    upper: bytes | None
    limit: int
    past: bytes | None = None


# A page in the making: yields ScanRequests, is sent each one's rows (an
# iterable, possibly lazy, possibly abandoned), returns the Page.
PageSteps = Generator[ScanRequest, Iterable[tuple[bytes, V]], Page[V]]


def list_page(
    scan: Scan[V],
    prefix: bytes,
    delimiter: bytes,
    start_after: bytes,
    max_keys: int,
    key_of: Callable[[bytes], bytes] | None = None,
) -> Page[V]:
    """One page of a listing over a synchronous ``scan``."""
    steps: PageSteps[V] = page_steps(prefix, delimiter, start_after, max_keys, key_of)
    try:
        request = next(steps)
        while True:
            rows = scan(request.lower, request.inclusive, request.upper, request.limit)
            request = steps.send(rows)
    except StopIteration as done:
        return done.value


async def list_page_async(
    scan: Callable[[ScanRequest], Awaitable[Iterable[tuple[bytes, V]]]],
    prefix: bytes,
    delimiter: bytes,
    start_after: bytes,
    max_keys: int,
) -> Page[V]:
    """One page of a listing over an asynchronous ``scan`` (a remote OM)."""
    steps: PageSteps[V] = page_steps(prefix, delimiter, start_after, max_keys)
    try:
        request = next(steps)
        while True:
            request = steps.send(await scan(request))
    except StopIteration as done:
        return done.value


def scan_bounds(prefix: bytes, start_after: bytes) -> tuple[bytes, bool, bytes | None]:
    """Where a page's first scan starts (``lower``, ``inclusive``) and the
    bound it stays below (``upper``; None: none)."""
    upper = successor(prefix) if prefix else None
    if start_after >= prefix:
        return start_after, False, upper
    return prefix, True, upper


def page_steps(
    prefix: bytes,
    delimiter: bytes,
    start_after: bytes,
    max_keys: int,
    key_of: Callable[[bytes], bytes] | None = None,
) -> PageSteps[V]:
    """The listing itself, without I/O (see ``PageSteps``).  ``key_of`` maps a
    composite sort key to the part the delimiter applies to (for uploads:
    ``key NUL upload-id``)."""
    keys: list[tuple[bytes, V]] = []
    prefixes: list[bytes] = []
    # Keys and prefixes in listing order; one more than max_keys is
    # collected to know whether the page is truncated.
    order: list[bytes] = []
    if max_keys <= 0:
        return Page((), (), False, None)
    past: bytes | None = None
    lower, inclusive, upper = scan_bounds(prefix, start_after)
    want = max_keys + 1
    if not delimiter:
        return (yield from _undelimited(prefix, lower, inclusive, upper, max_keys))
    exhausted = False
    while len(order) < want and not exhausted:
        limit = want - len(order)
        seen = 0
        jumped = False
        rows = yield ScanRequest(lower, inclusive, upper, limit, past)
        for key, value in rows:
            seen += 1
            if not key.startswith(prefix):
                # Keys come in order, so this one is past the prefix's range
                # (a scan that ignored ``upper``): the listing is complete.
                exhausted = jumped = True
                break
            if delimiter:
                at = (key_of(key) if key_of else key).find(delimiter, len(prefix))
                if at >= 0:
                    cp = key[: at + len(delimiter)]
                    if cp > start_after:
                        prefixes.append(cp)
                        order.append(cp)
                    nxt = successor(cp)
                    if nxt is None:
                        exhausted = True
                    else:
                        lower, inclusive, past = nxt, True, cp
                        exhausted = False
                    jumped = True
                    break
            keys.append((key, value))
            order.append(key)
            lower, inclusive, past = key, False, None
            if len(order) >= want:
                break
        if not jumped and seen < limit:
            exhausted = True
    truncated = len(order) > max_keys
    if truncated:
        extra = order[max_keys]
        order = order[:max_keys]
        if keys and keys[-1][0] == extra:
            keys.pop()
        elif prefixes and prefixes[-1] == extra:
            prefixes.pop()
    return Page(
        tuple(keys),
        tuple(prefixes),
        truncated,
        order[-1] if truncated and order else None,
    )


def _undelimited(
    prefix: bytes, lower: bytes, inclusive: bool, upper: bytes | None, max_keys: int
) -> PageSteps[V]:
    """A page without a delimiter: one scan, every row a listed key (no
    per-row steps: a 1,000-key page is most listings' common case)."""
    want = max_keys + 1
    rows = yield ScanRequest(lower, inclusive, upper, want, None)
    got = rows if isinstance(rows, list) else list(rows)
    if len(got) > want:
        del got[want:]
    if got and not got[-1][0].startswith(prefix):
        # A scan that ignored ``upper``: the keys with the prefix are the
        # run at its start (rows are in order, from ``lower`` >= prefix).
        got = list(takewhile(lambda row: row[0].startswith(prefix), got))
    truncated = len(got) > max_keys
    if truncated:
        del got[max_keys:]
    return Page(tuple(got), (), truncated, got[-1][0] if truncated else None)
