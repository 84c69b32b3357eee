"""Get/Put/DeleteBucketCors, and the OPTIONS preflight, which S3 answers
from the bucket's CORS rules without authentication.  The Access-Control-*
headers of the other requests are added where responses are written
(``S3Gateway._cors_headers``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...storage.errors import BucketNotFound
from ...storage.model import BUCKET_CORS
from ..context import Call, S3Response
from ..cors import decode, encode, find_rule, requested_headers, response_headers
from ..cors_xml import cors_xml, parse_cors
from ..errors import S3Error
from .bucket import XML, bucket_of
from .settings import read_setting, write_setting

if TYPE_CHECKING:
    from ..app import S3Gateway


async def get_bucket_cors(gw: S3Gateway, call: Call) -> S3Response:
    text = await read_setting(gw, call, BUCKET_CORS, "NoSuchCORSConfiguration")
    return S3Response(200, dict(XML), cors_xml(decode(text)))


async def put_bucket_cors(gw: S3Gateway, call: Call) -> S3Response:
    rules = parse_cors(call.body)
    await write_setting(gw, call, BUCKET_CORS, encode(rules), gw.cors_rules)
    return S3Response(200)


async def delete_bucket_cors(gw: S3Gateway, call: Call) -> S3Response:
    await write_setting(gw, call, BUCKET_CORS, None, gw.cors_rules)
    return S3Response(204)


_NOT_ALLOWED = (
    "This CORS request is not allowed. This is usually because the evaluation "
    "of Origin, request method / Access-Control-Request-Method or "
    "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
    "spec."
)


async def preflight(gw: S3Gateway, call: Call) -> S3Response:
    """OPTIONS on a bucket or object URL: 200 with the Access-Control-*
    headers of the first rule that allows the origin, method and headers
    asked for, else 403 (S3's errors and messages)."""
    bucket = bucket_of(call)
    origin = call.headers.get("origin")
    if not origin:
        raise S3Error(
            "BadRequest", "Insufficient information. Origin request header needed."
        )
    method = call.headers.get("access-control-request-method")
    if not method:
        raise S3Error(
            "BadRequest", f"Invalid Access-Control-Request-Method: {method or 'null'}"
        )
    headers = requested_headers(call.headers.get("access-control-request-headers"))
    try:
        # (A store without bucket settings gives None: no rules.)
        rules = await gw.cors_rules.get(bucket, None)
    except BucketNotFound:
        rules = None
    rule = None if rules is None else find_rule(rules, origin, method, headers)
    if rule is None:
        why = "CORS is not enabled for this bucket." if rules is None else _NOT_ALLOWED
        raise S3Error(
            "AccessForbidden",
            f"CORSResponse: {why}",
            extra={"Method": method, "ResourceType": call.s3.level.upper()},
        )
    return S3Response(200, response_headers(rule, origin, headers))
