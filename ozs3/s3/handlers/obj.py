"""Object-level operations: PutObject (streamed), Get/HeadObject, DeleteObject."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import attrs

from ...digests import Checksum, decode_stored, encode_stored
from ...storage.interfaces import KeyWriter
from ...storage.model import KeyInfo, ObjectMeta, PartInfo
from .. import checksums
from ..context import Call, S3Response
from ..errors import S3Error
from ..headers import (
    STORED_HEADERS,
    check_write_headers,
    content_md5,
    is_aws_chunked,
    payload_sha256,
    quote_etag,
    user_metadata,
    write_precondition,
)
from ..names import check_key
from ..numbers import decimal
from ..storage_class import replication_of
from ..tagging import OBJECT_TAG_LIMIT, check_tags, parse_tagging_header
from .acl import object_acl_for_write

if TYPE_CHECKING:
    from ..app import S3Gateway

DEFAULT_CONTENT_TYPE = "binary/octet-stream"


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
    meta = attrs.evolve(
        object_meta(call), acl=await object_acl_for_write(gw, call, bucket)
    )
    return await gw.store.open_key(
        bucket, key, meta, size,
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
    check_write_headers(call.headers.get)
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


async def delete_object(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_version(call)
    precondition = write_precondition(call.headers.get, deleting=True)
    await gw.store.delete_key(bucket, key, call.bucket_id(bucket), precondition)
    return S3Response(204)
