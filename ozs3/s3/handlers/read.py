"""GetObject and HeadObject: one version's headers, conditionals, a Range
or a part (``?partNumber``), and its bytes streamed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...digests import decode_stored
from ...storage.errors import BlockNotFound
from ...storage.model import KeyInfo, PartLayout
from .. import checksums
from ..context import Call, S3Response
from ..errors import S3Error
from ..headers import (
    META_PREFIX,
    RESPONSE_OVERRIDES,
    evaluate_conditionals,
    http_date,
    parse_range,
    quote_etag,
)
from ..numbers import decimal
from ..producer import first_read_size
from ..storage_class import storage_class_of
from .obj import DEFAULT_CONTENT_TYPE, add_expiration, check_version, where

if TYPE_CHECKING:
    from ..app import S3Gateway

MAX_PART_NUMBER = 10_000


def object_headers(info: KeyInfo) -> dict[str, str]:
    headers = {
        "last-modified": http_date(info.modified),
        "accept-ranges": "bytes",
        "content-type": info.meta.content_type or DEFAULT_CONTENT_TYPE,
    }
    if info.etag:  # keys written by `ozone sh` have none: none is sent (as Ozone)
        headers["etag"] = quote_etag(info.etag)
    headers.update(dict(info.meta.headers))
    for name, value in info.meta.user:
        headers[META_PREFIX + name] = value
    if info.meta.tags:
        headers["x-amz-tagging-count"] = str(len(info.meta.tags))
    storage_class = storage_class_of(info.meta.replication)
    if storage_class != "STANDARD":  # S3 names the class only when not STANDARD
        headers["x-amz-storage-class"] = storage_class
    return headers


# A version can be replaced, and its blocks reclaimed by any gateway process,
# between its lookup and the opening of its blocks (which then keeps them
# readable to the end).  The GET is then redone whole with the version that
# replaced it: headers, conditionals and bytes all come from the one version
# whose blocks were opened.  An object replaced this many times running
# faster than it can be opened answers 503 (clients retry).
OPEN_ATTEMPTS = 5


async def get_object(gw: S3Gateway, call: Call) -> S3Response:
    """GetObject and HeadObject."""
    bucket, key = where(call)
    check_version(call)
    part_number = _part_number(call)
    pinned = call.bucket_id(bucket)
    info = await gw.store.lookup_key(bucket, key, pinned, head=call.op == "HeadObject")
    for _ in range(OPEN_ATTEMPTS):
        response, span = _version_response(call, info, part_number)
        if response.status != 304:
            await add_expiration(gw, call, info, response.headers)
        if span is None:
            return response
        step = first_read_size()  # smaller while many bodies stream
        try:
            reader = await gw.store.open_reader(info, *span, prefetch=step)
        except BlockNotFound:
            latest = await gw.store.lookup_key(bucket, key, pinned)
            if latest.blocks == info.blocks:
                raise  # not replaced: a block file is really missing
            info = latest
            continue
        try:
            response.first = await reader.read(step)
        except BaseException:
            reader.close()
            raise
        response.reader = reader
        return response
    raise S3Error("SlowDown", "The object was replaced faster than it could be read.")


def _part_number(call: Call) -> int | None:
    """GET/HEAD ``?partNumber=N``: 1..10000, never with a Range."""
    text = call.s3.arg("partNumber")
    if text is None:
        return None
    number = decimal(text)
    if number is None or not 1 <= number <= MAX_PART_NUMBER:
        raise S3Error(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            extra={"ArgumentName": "partNumber", "ArgumentValue": text},
        )
    if call.headers.get("range") is not None:
        raise S3Error(
            "InvalidRequest",
            "Cannot specify both Range header and partNumber query parameter.",
        )
    return number


def _part_span(info: KeyInfo, number: int) -> tuple[int, int] | None:
    """(first, last) byte of part ``number``; a key that is not a completed
    multipart upload is one part.  None: the part is empty (a zero-byte
    object has no byte range to name)."""
    parts = info.parts or (PartLayout(1, info.size),)
    if number > len(parts):
        raise S3Error(
            "InvalidPartNumber",
            extra={"PartNumberRequested": str(number),
                   "ActualPartCount": str(len(parts))},
        )  # fmt: skip
    start = sum(p.size for p in parts[: number - 1])
    size = parts[number - 1].size
    return (start, start + size - 1) if size else None


def _version_response(
    call: Call, info: KeyInfo, part_number: int | None = None
) -> tuple[S3Response, tuple[int, int] | None]:
    """The answer to a GET or HEAD of the version ``info`` (or of one of
    its parts), and the byte span (start, length) its body needs read, if
    any."""
    headers = object_headers(info)
    verdict = evaluate_conditionals(call.headers.as_dict(), info.etag, info.modified)
    if verdict == 304:
        return S3Response(304, {k: headers[k] for k in ("etag", "last-modified")}), None
    if verdict == 412:
        raise S3Error(
            "PreconditionFailed",
            extra={"Condition": "If-Match or If-Unmodified-Since"},
        )
    for param, header in RESPONSE_OVERRIDES.items():
        value = call.s3.arg(param)
        if value is not None:
            headers[header] = value
    if part_number is None:
        rng = parse_range(call.headers.get("range"), info.size)
    else:
        rng = _part_span(info, part_number)
        if info.parts:
            headers["x-amz-mp-parts-count"] = str(len(info.parts))
    status, start, length = 200, 0, info.size
    stored = decode_stored(info.checksum)
    if part_number is not None and info.parts:
        # A part's read carries the part's own checksum, which its bytes
        # match (clients verify it as a whole object's).
        stored = decode_stored(info.parts[part_number - 1].checksum)
        whole = True
    else:
        whole = rng is None  # a range's bytes would not match
    mode = (call.headers.get("x-amz-checksum-mode") or "").upper()
    if stored is not None and mode == "ENABLED" and whole:
        headers[checksums.HEADER + stored[0]] = stored[1]
        headers["x-amz-checksum-type"] = (
            "COMPOSITE" if "-" in stored[1] else "FULL_OBJECT"
        )
    if rng is not None:
        status, start, length = 206, rng[0], rng[1] - rng[0] + 1
        headers["content-range"] = f"bytes {rng[0]}-{rng[1]}/{info.size}"
    headers["content-length"] = str(length)
    if call.s3.method == "HEAD" or length == 0:
        return S3Response(status, headers), None
    return S3Response(status, headers), (start, length)
