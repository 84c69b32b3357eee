"""ListMultipartUploads' paging over (key, upload id), for every store.  Pure.

Uploads are listed by key, then upload id; the composite sort key joins the
two with a NUL, which keys can never contain, so the delimiter and the
markers of ``om.listing`` apply to the key part alone.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from .model import UploadInfo, UploadListing, UploadQuery
from .om.listing import Page, list_page

SEP = b"\x00"


def sort_key(key: bytes, upload_id: str) -> bytes:
    return key + SEP + upload_id.encode()


def key_of(joined: bytes) -> bytes:
    return joined.partition(SEP)[0]


def start_of(query: UploadQuery) -> bytes:
    """Where the page starts (exclusive): after the marker upload, or after
    every upload of the marker key."""
    if query.upload_id_marker:
        return sort_key(query.key_marker.encode(), query.upload_id_marker)
    if query.key_marker:
        return query.key_marker.encode() + b"\x01"  # past all of its uploads
    return b""


def upload_listing(page: Page[UploadInfo]) -> UploadListing:
    next_key = next_id = None
    if page.truncated and page.next_marker is not None:
        k, sep, u = page.next_marker.partition(SEP)
        next_key = k.decode()
        next_id = u.decode() if sep else None
    return UploadListing(
        tuple(u for _, u in page.keys),
        tuple(p.decode() for p in page.common_prefixes),
        page.truncated,
        next_key,
        next_id,
    )


def list_uploads_in(uploads: Sequence[UploadInfo], query: UploadQuery) -> UploadListing:
    """A page of ``query`` over every upload there is under its prefix (a
    store that cannot scan in this order sorts them first)."""
    rows = sorted((sort_key(u.key.encode(), u.upload_id), u) for u in uploads)
    sort_keys = [k for k, _ in rows]

    def scan(
        lower: bytes, inclusive: bool, upper: bytes | None, limit: int
    ) -> Iterator[tuple[bytes, UploadInfo]]:
        find = bisect.bisect_left if inclusive else bisect.bisect_right
        i = find(sort_keys, lower)
        taken = 0
        while i < len(rows) and taken < limit:
            if upper is not None and sort_keys[i] >= upper:
                break
            yield rows[i]
            i += 1
            taken += 1

    page = list_page(
        scan, query.prefix.encode(), query.delimiter.encode(), start_of(query),
        query.max_uploads, key_of=key_of,
    )  # fmt: skip
    return upload_listing(page)
