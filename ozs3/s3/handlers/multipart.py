"""Multipart uploads: create, upload part (streamed), complete, abort, list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ...storage.interfaces import KeyWriter
from ...storage.model import PartTarget, UploadQuery
from .. import checksums
from ..context import Call, S3Response
from ..errors import S3Error
from ..headers import check_write_headers, write_precondition
from ..names import check_key
from ..numbers import decimal
from ..xml import (
    complete_upload_xml,
    initiate_upload_xml,
    list_parts_xml,
    list_uploads_xml,
)
from ..xml_parse import parse_complete
from .acl import object_acl_for_write
from .bucket import XML, encoding_is_url, int_arg
from .obj import (
    add_expiration,
    check_body_headers,
    object_meta,
    receive_body,
    stored_response_headers,
    where,
)

if TYPE_CHECKING:
    from ..app import S3Gateway

MAX_PART_SIZE = 5 * 1024**3
MAX_LISTED = 1000


def upload_id(call: Call) -> str:
    value = call.s3.arg("uploadId")
    if not value:
        raise S3Error("NoSuchUpload", extra={"UploadId": value or ""})
    return value


def part_target(call: Call) -> PartTarget:
    text = call.s3.arg("partNumber")
    number = decimal(text, 5)
    if number is None or not 1 <= number <= 10_000:
        raise S3Error(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            extra={"ArgumentName": "partNumber", "ArgumentValue": text or ""},
        )
    return PartTarget(upload_id(call), number)


async def create_multipart_upload(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_key(key)
    check_write_headers(call.headers.get)
    asked = checksums.upload_checksum(call.headers.get)
    meta = attrs.evolve(
        object_meta(call), acl=await object_acl_for_write(gw, call, bucket)
    )
    upload = await gw.store.create_upload(
        bucket, key, meta, call.access_key, call.bucket_id(bucket)
    )
    headers = dict(XML)
    headers.update(
        await gw.lifecycle_rules.abort_headers(
            bucket, call.bucket_id(bucket), key, upload.initiated
        )
    )
    if asked is not None:
        # Echoed as S3 does; SDKs read them to decide how to checksum parts.
        headers["x-amz-checksum-algorithm"], headers["x-amz-checksum-type"] = asked
    return S3Response(200, headers, initiate_upload_xml(bucket, key, upload.upload_id))


async def admit_upload_part(gw: S3Gateway, call: Call) -> KeyWriter:
    """Everything UploadPart can check before its body: then open the part."""
    bucket, key = where(call)
    target = part_target(call)
    size = check_body_headers(gw, call, MAX_PART_SIZE)
    return await gw.store.open_key(
        bucket, key, object_meta(call), size, part=target,
        bucket_id=call.bucket_id(bucket),
    )  # fmt: skip


async def upload_part(gw: S3Gateway, call: Call) -> S3Response:
    info = await receive_body(gw, call, admit_upload_part)
    return S3Response(200, stored_response_headers(info))


async def complete_multipart_upload(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    uid = upload_id(call)
    if len(call.body) > gw.config.max_xml_body:
        raise S3Error("MaxMessageLengthExceeded")
    parts = parse_complete(call.body)
    info = await gw.store.complete_upload(
        bucket, key, uid, parts, call.bucket_id(bucket),
        write_precondition(call.headers.get), call.access_key,
    )  # fmt: skip
    location = f"/{bucket}/{key}"
    body = complete_upload_xml(location, bucket, key, info.etag, info.checksum)
    headers = dict(XML)
    await add_expiration(gw, call, info, headers)
    return S3Response(200, headers, body)


async def abort_multipart_upload(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    await gw.store.abort_upload(bucket, key, upload_id(call), call.bucket_id(bucket))
    return S3Response(204)


async def list_parts(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    marker = int_arg(call, "part-number-marker", 0)
    max_parts = min(int_arg(call, "max-parts", MAX_LISTED), MAX_LISTED)
    listing = await gw.store.list_parts(
        bucket, key, upload_id(call), marker, max_parts, call.bucket_id(bucket)
    )
    headers = dict(XML)
    headers.update(
        await gw.lifecycle_rules.abort_headers(
            bucket, call.bucket_id(bucket), key, listing.upload.initiated
        )
    )
    return S3Response(200, headers, list_parts_xml(listing, marker, max_parts))


async def list_multipart_uploads(gw: S3Gateway, call: Call) -> S3Response:
    s3 = call.s3
    assert s3.bucket is not None
    query = UploadQuery(
        prefix=s3.arg("prefix") or "",
        delimiter=s3.arg("delimiter") or "",
        key_marker=s3.arg("key-marker") or "",
        upload_id_marker=(s3.arg("upload-id-marker") or "")
        if s3.arg("key-marker")
        else "",
        max_uploads=min(int_arg(call, "max-uploads", MAX_LISTED), MAX_LISTED),
    )
    bucket = s3.bucket
    listing = await gw.store.list_uploads(bucket, query, call.bucket_id(bucket))
    body = list_uploads_xml(bucket, listing, query, encoding_is_url(call))
    return S3Response(200, dict(XML), body)
