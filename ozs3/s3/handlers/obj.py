"""Object-level operations: PutObject (streamed), Get/HeadObject, DeleteObject."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ...digests import Checksum, decode_stored, encode_stored
from ...storage.errors import BlockNotFound
from ...storage.interfaces import KeyWriter
from ...storage.model import KeyInfo, ObjectMeta, PartInfo, PartLayout
from .. import checksums
from ..context import Call, S3Response
from ..errors import S3Error
from ..headers import (
    META_PREFIX,
    RESPONSE_OVERRIDES,
    STORED_HEADERS,
    check_canned_acl,
    content_md5,
    evaluate_conditionals,
    http_date,
    is_aws_chunked,
    parse_range,
    payload_sha256,
    quote_etag,
    user_metadata,
    write_precondition,
)
from ..names import check_key
from ..numbers import decimal
from ..producer import first_read_size
from ..storage_class import replication_of, storage_class_of
from ..tagging import OBJECT_TAG_LIMIT, check_tags, parse_tagging_header

if TYPE_CHECKING:
    from ..app import S3Gateway

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MAX_PART_NUMBER = 10_000


def where(call: Call) -> tuple[str, str]:
    assert call.s3.bucket is not None and call.s3.key is not None
    return call.s3.bucket, call.s3.key


def check_version(call: Call) -> None:
    # Buckets are never versioned: the only version is "null".
    version = call.s3.arg("versionId")
    if version is not None and version != "null":
        raise S3Error(
            "InvalidArgument",
            "Invalid version id specified",
            extra={"ArgumentName": "versionId", "ArgumentValue": version},
        )


def _declared_size(call: Call) -> int | None:
    """The object's size as the client declared it, if it did."""
    text = call.headers.get("x-amz-decoded-content-length")
    if text is not None:
        size = decimal(text)
        if size is None:
            raise S3Error(
                "InvalidArgument",
                "x-amz-decoded-content-length is not an integer",
                extra={"ArgumentName": "x-amz-decoded-content-length"},
            )
        return size
    if is_aws_chunked(call.headers.get):
        return None  # the framed length is not the object's
    return call.length


def object_meta(call: Call) -> ObjectMeta:
    headers = call.headers
    stored = []
    for name in STORED_HEADERS:
        value = headers.get(name)
        if name == "content-encoding" and value is not None:
            # aws-chunked is the transfer framing, not the object's encoding.
            tokens = [t.strip() for t in value.split(",")]
            value = ", ".join(t for t in tokens if t and t.lower() != "aws-chunked")
        if value:
            stored.append((name, value))
    return ObjectMeta(
        content_type=headers.get("content-type") or DEFAULT_CONTENT_TYPE,
        headers=tuple(stored),
        user=user_metadata(headers.pairs),
        tags=request_tags(call),
        replication=request_replication(call),
    )


def request_tags(call: Call) -> tuple[tuple[str, str], ...]:
    """``x-amz-tagging``: the tags a new object gets (checked, sorted)."""
    value = call.headers.get("x-amz-tagging")
    if value is None:
        return ()
    return check_tags(parse_tagging_header(value), OBJECT_TAG_LIMIT)


def request_replication(call: Call) -> str:
    """``x-amz-storage-class`` as Ozone's replication ("" if none, or
    empty, as Ozone's gateway takes it: the default)."""
    value = call.headers.get("x-amz-storage-class")
    return replication_of(value) if value else ""


async def admit_put_object(gw: S3Gateway, call: Call) -> KeyWriter:
    """Everything PutObject can check before its body: then open the key."""
    bucket, key = where(call)
    size = check_body_headers(gw, call)
    return await gw.store.open_key(
        bucket, key, object_meta(call), size,
        bucket_id=call.bucket_id(bucket), owner=call.access_key,
        precondition=write_precondition(call.headers.get),
    )  # fmt: skip


def check_body_headers(
    gw: S3Gateway, call: Call, max_size: int | None = None
) -> int | None:
    """Checks a PutObject or UploadPart passes before its body is read;
    returns the declared object size, if known.  A streamed body is then
    held to that size and to ``max_size`` as it arrives (chunked bodies
    declare none up front)."""
    assert call.s3.key is not None
    check_key(call.s3.key)
    check_canned_acl(call.headers.get, (k for k, _ in call.headers.pairs))
    content_md5(call.headers.get("content-md5"))
    checksums.requested(call.headers.get)
    size = _declared_size(call)
    if max_size is None or max_size > gw.config.max_object_size:
        max_size = gw.config.max_object_size
    if size is not None and size > max_size:
        raise S3Error(
            "EntityTooLarge",
            extra={"ProposedSize": str(size), "MaxSizeAllowed": str(max_size)},
        )
    if call.upload is not None:
        call.upload.limit(max_size, size)
    if (
        call.length is None
        and call.headers.get("transfer-encoding") is None
        and call.upload is None
    ):
        raise S3Error("MissingContentLength")
    return size


async def put_object(gw: S3Gateway, call: Call) -> S3Response:
    info = await receive_body(gw, call, admit_put_object)
    headers = stored_response_headers(info)
    assert isinstance(info, KeyInfo)
    await add_expiration(gw, call, info, headers)
    return S3Response(200, headers)


async def add_expiration(
    gw: S3Gateway, call: Call, info: KeyInfo, headers: dict[str, str]
) -> None:
    """``x-amz-expiration``, if a lifecycle rule will expire ``info``."""
    expiration = await gw.lifecycle_rules.expiration(
        info.bucket, call.bucket_id(info.bucket), info
    )
    if expiration is not None:
        headers["x-amz-expiration"] = expiration


def stored_response_headers(info: KeyInfo | PartInfo) -> dict[str, str]:
    """ETag, and the additional checksum if one was stored (as S3 echoes it)."""
    headers = {"etag": quote_etag(info.etag)}
    stored = decode_stored(info.checksum)
    if stored is not None:
        headers[checksums.HEADER + stored[0]] = stored[1]
    return headers


async def receive_body(
    gw: S3Gateway,
    call: Call,
    admit: Callable[[S3Gateway, Call], Awaitable[KeyWriter]],
) -> KeyInfo | PartInfo:
    """Store a PutObject/UploadPart body, check it, and commit it."""
    if call.upload is None:
        # An empty (or, in tests, buffered) body: no streaming needed.
        writer = await admit(gw, call)
        try:
            if call.body:
                await writer.write(call.body)
            algorithm, _ = checksums.requested(call.headers.get)
            checksum = Checksum(algorithm) if algorithm else None
            if checksum is not None:
                checksum.update(call.body)
            md5 = hashlib.md5(call.body).digest()
            sha = hashlib.sha256(call.body).digest()
            stored = _verify(call, md5, sha, len(call.body), checksum, {})
        except BaseException:
            await writer.abort()
            raise
        info = await writer.commit(md5.hex(), stored)
    else:
        upload = call.upload
        digests = await upload.when_done()
        try:
            stored = _verify(
                call, digests.md5, digests.sha256, digests.size, digests.checksum,
                digests.trailers,
            )  # fmt: skip
        except S3Error:
            aborting = upload.abort()
            if aborting is not None:
                await aborting
            raise
        info = await upload.commit(digests.md5.hex(), stored)
    return info


def _verify(
    call: Call,
    md5: bytes,
    sha256: bytes | None,
    size: int,
    checksum: Checksum | None,
    trailers: dict[str, str],
) -> str:
    """The body's checks, after it is stored and before it is committed.
    Returns the additional checksum to store with it (or "")."""
    declared = _declared_size(call)
    if declared is not None and declared != size:
        raise S3Error(
            "IncompleteBody",
            f"Expected {declared} decoded bytes, received {size}.",
        )
    expected_md5 = content_md5(call.headers.get("content-md5"))
    if expected_md5 is not None and expected_md5 != md5:
        raise S3Error(
            "BadDigest",
            extra={"ExpectedDigest": expected_md5.hex(), "CalculatedDigest": md5.hex()},
        )
    expected_sha = payload_sha256(call.headers.get("x-amz-content-sha256"))
    if expected_sha is not None and sha256 is not None and expected_sha != sha256:
        raise S3Error(
            "XAmzContentSHA256Mismatch",
            extra={
                "ClientComputedContentSHA256": expected_sha.hex(),
                "S3ComputedContentSHA256": sha256.hex(),
            },
        )
    if checksum is None:
        return ""
    algorithm = checksum.algorithm
    name = checksums.HEADER + algorithm
    expected = call.headers.get(name)
    if expected is None:
        expected = trailers.get(name)
        if expected is None:
            raise S3Error(
                "InvalidRequest", f"The {name} trailer was declared but not sent."
            )
    checksums.verify(algorithm, expected, checksum)
    return encode_stored(algorithm, checksum.b64())


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
    info = await gw.store.lookup_key(bucket, key, pinned)
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


async def delete_object(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_version(call)
    precondition = write_precondition(call.headers.get, deleting=True)
    await gw.store.delete_key(bucket, key, call.bucket_id(bucket), precondition)
    return S3Response(204)
