"""Server-side copies: CopyObject and UploadPartCopy.

No byte passes through the HTTP layer: the store shares the source's blocks
(whole, or the runs a range covers).  UploadPartCopy still reads the copied
range once, in bounded steps, because the part's ETag is the MD5 of its bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ...storage.interfaces import CopyWriter
from ...storage.model import CopyMeta, KeyInfo
from ..context import Call, S3Response
from ..errors import S3Error
from ..headers import check_write_headers, evaluate_conditionals, write_precondition
from ..names import check_key
from ..numbers import MAX_DIGITS
from ..producer import STEP
from ..xml import copy_result_xml
from .acl import object_acl_for_write
from .bucket import XML
from .multipart import MAX_PART_SIZE, part_target
from .obj import (
    add_expiration,
    object_meta,
    request_replication,
    request_tags,
    where,
)

if TYPE_CHECKING:
    from ..app import S3Gateway

MAX_COPY_SOURCE = 5 * 1024**3
# ASCII digits (\d matches any Unicode digit), no more than a 64-bit offset.
_RANGE = re.compile(rf"bytes=([0-9]{{1,{MAX_DIGITS}}})-([0-9]{{1,{MAX_DIGITS}}})")

# x-amz-copy-source-if-* -> the matching conditional header names.
_COPY_CONDITIONS = {
    "x-amz-copy-source-if-match": "if-match",
    "x-amz-copy-source-if-none-match": "if-none-match",
    "x-amz-copy-source-if-modified-since": "if-modified-since",
    "x-amz-copy-source-if-unmodified-since": "if-unmodified-since",
}


def copy_source(call: Call) -> tuple[str, str]:
    """Bucket and key named by x-amz-copy-source (URL-encoded, with or
    without a leading slash, optionally ?versionId=null)."""
    raw = call.headers.get("x-amz-copy-source") or ""
    path, _, query = raw.partition("?")
    if query:
        name, _, version = query.partition("=")
        if name != "versionId" or version != "null":
            raise S3Error(
                "InvalidArgument",
                "Invalid version id specified",
                extra={"ArgumentName": "x-amz-copy-source", "ArgumentValue": raw},
            )
    try:
        path = unquote(path, errors="strict")
    except UnicodeDecodeError:
        path = ""
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket or not key:
        raise S3Error(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: "
            "sourcebucket/sourcekey",
            extra={"ArgumentName": "x-amz-copy-source", "ArgumentValue": raw},
        )
    return bucket, key


def check_copy_conditions(call: Call, source: KeyInfo) -> None:
    conditions = {
        plain: value
        for header, plain in _COPY_CONDITIONS.items()
        if (value := call.headers.get(header)) is not None
    }
    if conditions and evaluate_conditionals(conditions, source.etag, source.modified):
        # For copies every failed condition is 412, never 304.
        raise S3Error("PreconditionFailed", extra={"Condition": ", ".join(conditions)})


async def copy_object(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_key(key)
    check_write_headers(call.headers.get)
    src_bucket, src_key = copy_source(call)
    directive = _directive(call, "metadata")
    meta = CopyMeta(
        object_meta(call) if directive == "REPLACE" else None,
        _copy_tags(call),
        request_replication(call),
        await object_acl_for_write(gw, call, bucket),
    )
    writer = await gw.store.open_copy(
        bucket, key, meta, None, src_bucket, src_key, None,
        call.bucket_id(bucket), call.bucket_id(src_bucket), call.access_key,
        write_precondition(call.headers.get),
    )  # fmt: skip
    try:
        source = writer.source
        if source.size > MAX_COPY_SOURCE:
            raise S3Error(
                "InvalidRequest",
                "The specified copy source is larger than the maximum allowable "
                f"size for a copy source: {MAX_COPY_SOURCE}",
            )
        if (
            (src_bucket, src_key) == (bucket, key)
            and directive == "COPY"
            and call.headers.get("x-amz-storage-class") is None
        ):
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an "
                "object to itself without changing the object's metadata, storage "
                "class, website redirect location or encryption attributes.",
            )
        check_copy_conditions(call, source)
        # The copy shares the source's blocks, so nothing would read them:
        # read them once now, so a damaged source fails the copy (500)
        # instead of becoming a second damaged object.
        await writer.verify()
    except BaseException:
        await writer.abort()
        raise
    info = await writer.commit(source.etag, source.checksum)
    headers = dict(XML)
    assert isinstance(info, KeyInfo)
    await add_expiration(gw, call, info, headers)
    return S3Response(
        200, headers, copy_result_xml("CopyObjectResult", info.etag, info.modified)
    )


def _directive(call: Call, what: str) -> str:
    """x-amz-metadata-directive / x-amz-tagging-directive: COPY (the
    default) or REPLACE; anything else is InvalidArgument."""
    header = f"x-amz-{what}-directive"
    directive = (call.headers.get(header) or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error(
            "InvalidArgument",
            f"Unknown {what} directive.",
            extra={"ArgumentName": header},
        )
    return directive


def _copy_tags(call: Call) -> tuple[tuple[str, str], ...] | None:
    """x-amz-tagging-directive: COPY (the source's tags: None) or REPLACE
    (x-amz-tagging's, or none).  x-amz-tagging with COPY would be ignored,
    so it is refused."""
    directive = _directive(call, "tagging")
    if directive == "REPLACE":
        return request_tags(call)
    if call.headers.get("x-amz-tagging") is not None:
        raise S3Error(
            "InvalidArgument",
            "x-amz-tagging on a copy needs x-amz-tagging-directive: REPLACE "
            "(with COPY the source's tags are kept).",
            extra={"ArgumentName": "x-amz-tagging"},
        )
    return None


def copy_range(call: Call) -> tuple[int, int] | None:
    """x-amz-copy-source-range as (start, length), or None for all of it."""
    text = call.headers.get("x-amz-copy-source-range")
    if text is None:
        return None
    m = _RANGE.fullmatch(text.strip(" \t"))
    if not m or int(m.group(2)) < int(m.group(1)):
        raise S3Error(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last "
            "where first and last are the zero-based offsets of the first and last "
            "bytes to copy",
            extra={"ArgumentName": "x-amz-copy-source-range", "ArgumentValue": text},
        )
    start, last = int(m.group(1)), int(m.group(2))
    return start, last - start + 1


async def upload_part_copy(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    target = part_target(call)
    src_bucket, src_key = copy_source(call)
    rng = copy_range(call)
    writer = await gw.store.open_copy(
        bucket, key, None, target, src_bucket, src_key, rng,
        call.bucket_id(bucket), call.bucket_id(src_bucket),
    )  # fmt: skip
    try:
        source = writer.source
        if rng is not None and rng[0] + rng[1] > source.size:
            raise S3Error(
                "InvalidRange",
                f"Range specified is not valid for source object of size: "
                f"{source.size}",
                headers={"content-range": f"bytes */{source.size}"},
            )
        if writer.size > MAX_PART_SIZE:
            raise S3Error(
                "InvalidRequest",
                "The specified copy range is larger than the maximum part size.",
            )
        check_copy_conditions(call, source)
        md5 = await _md5_of(gw, writer)
    except BaseException:
        await writer.abort()
        raise
    info = await writer.commit(md5)
    return S3Response(
        200, dict(XML), copy_result_xml("CopyPartResult", info.etag, info.modified)
    )


async def _md5_of(gw: S3Gateway, writer: CopyWriter) -> str:
    """MD5 of the copied bytes, read in STEP pieces (bounded memory)."""
    digest = hashlib.md5()
    reader = await writer.read()
    try:
        while data := await reader.read(STEP):
            await gw.hash_executor.run(digest.update, data)
    finally:
        reader.close()
    return digest.hexdigest()
