"""Bucket-level operations: create/head/delete, listing, location, multi-delete."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING

from ...storage.errors import BucketAlreadyExists
from ...storage.model import ListQuery
from ..authz import may
from ..bucket_access import check_ownership
from ..context import Call, S3Response
from ..errors import S3Error
from ..headers import check_write_headers, content_md5
from ..names import check_bucket_name
from ..numbers import int32_argument
from ..xml import (
    delete_result_xml,
    list_objects_v1_xml,
    list_objects_v2_xml,
    location_xml,
)
from ..xml_parse import parse_create_bucket, parse_delete

if TYPE_CHECKING:
    from ..app import S3Gateway

REGION = "us-east-1"
XML = {"content-type": "application/xml"}


def bucket_of(call: Call) -> str:
    """The bucket a bucket-level request names (routing guarantees one)."""
    assert call.s3.bucket is not None
    return call.s3.bucket


async def create_bucket(gw: S3Gateway, call: Call) -> S3Response:
    name = bucket_of(call)
    check_bucket_name(name)
    check_write_headers(call.headers.get)
    ownership = call.headers.get("x-amz-object-ownership")
    if ownership is not None:
        ownership = ownership.strip()
        check_ownership(ownership)
    parse_create_bucket(call.body)  # validates; every location is this one
    from .acl import create_bucket_control, keep_created_control  # (cycle)

    control = await create_bucket_control(gw, call, ownership)
    try:
        await gw.store.create_bucket(name, call.access_key)
    except BucketAlreadyExists as e:
        code = (
            "BucketAlreadyOwnedByYou"
            if e.owner == call.access_key
            else "BucketAlreadyExists"
        )
        raise S3Error(code, resource=name, extra={"BucketName": name}) from None
    await keep_created_control(gw, call, control)
    return S3Response(200, {"location": f"/{name}"})


async def head_bucket(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    return S3Response(200, {"x-amz-bucket-region": REGION})


async def delete_bucket(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    await gw.store.delete_bucket(bucket, call.bucket_id(bucket))
    return S3Response(204)


async def get_bucket_location(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    # us-east-1 is written as an empty LocationConstraint, as S3 does.
    return S3Response(200, dict(XML), location_xml(""))


def int_arg(call: Call, name: str, default: int) -> int:
    return int32_argument(call.s3.arg(name), name, default)


def encode_token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode()).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            extra={"ArgumentName": "continuation-token", "ArgumentValue": token},
        ) from None


def encoding_is_url(call: Call) -> bool:
    """encoding-type: absent, or ``url`` (the only value S3 defines)."""
    encoding = call.s3.arg("encoding-type")
    if encoding is not None and encoding.lower() != "url":
        raise S3Error(
            "InvalidArgument",
            "Invalid Encoding Method specified in Request",
            extra={"ArgumentName": "encoding-type", "ArgumentValue": encoding},
        )
    return encoding is not None


async def list_objects(gw: S3Gateway, call: Call) -> S3Response:
    s3 = call.s3
    bucket = bucket_of(call)
    url = encoding_is_url(call)
    prefix = s3.arg("prefix") or ""
    delimiter = s3.arg("delimiter") or ""
    max_keys = min(int_arg(call, "max-keys", 1000), gw.config.max_keys_limit)
    v2 = s3.arg("list-type") == "2"
    if s3.arg("list-type") not in (None, "2"):
        raise S3Error(
            "InvalidArgument",
            "Invalid List Type specified in Request",
            extra={"ArgumentName": "list-type"},
        )
    if v2:
        token = s3.arg("continuation-token")
        start_after = s3.arg("start-after")
        position = decode_token(token) if token else (start_after or "")
    else:
        position = s3.arg("marker") or ""
    # V2 shows owners only when asked (V1 always does).
    fetch_owner = not v2 or (s3.arg("fetch-owner") or "").lower() == "true"
    query = ListQuery(prefix, delimiter, position, max_keys, with_owner=fetch_owner)
    listing = await gw.store.list_keys(bucket, query, call.bucket_id(bucket))
    if v2:
        next_token = (
            encode_token(listing.next_marker)
            if listing.truncated and listing.next_marker is not None
            else None
        )
        body = list_objects_v2_xml(
            bucket,
            listing,
            prefix,
            delimiter,
            max_keys,
            url,
            token,
            next_token,
            start_after,
            fetch_owner,
        )
    else:
        body = list_objects_v1_xml(
            bucket, listing, prefix, delimiter, position, max_keys, url
        )
    return S3Response(200, dict(XML), body)


async def delete_objects(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    if len(call.body) > gw.config.max_xml_body:
        raise S3Error("MaxMessageLengthExceeded")
    expected = content_md5(call.headers.get("content-md5"))
    if expected is not None and hashlib.md5(call.body).digest() != expected:
        raise S3Error("BadDigest")
    quiet, keys = parse_delete(call.body)
    # Each key is judged by the bucket policy on its own (s3:DeleteObject):
    # a refused one is an AccessDenied entry, the others go ahead.
    verdicts = [(k, may(call, bucket, k, "s3:DeleteObject")) for k in keys]
    allowed = [k for k, ok in verdicts if ok]
    refused = [(k, "AccessDenied", "Access Denied") for k, ok in verdicts if not ok]
    results = await gw.store.delete_keys(bucket, allowed, call.bucket_id(bucket))
    deleted = [r.key for r in results if r.error is None]
    errors = [(r.key, r.error, r.error) for r in results if r.error is not None]
    return S3Response(
        200, dict(XML), delete_result_xml(deleted, refused + errors, quiet)
    )
