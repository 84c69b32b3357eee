"""GetObjectAttributes: what HEAD gives, and a multipart object's parts,
as XML."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..attributes import (
    MARKER_HEADER,
    MAX_PARTS_HEADER,
    attributes_xml,
    parse_attributes_header,
    parse_max_parts,
    parse_part_number_marker,
)
from ..context import Call, S3Response
from ..headers import http_date
from ..storage_class import storage_class_of
from .bucket import XML
from .obj import check_version, where

if TYPE_CHECKING:
    from ..app import S3Gateway


async def get_object_attributes(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_version(call)
    wanted = parse_attributes_header(call.headers.get("x-amz-object-attributes"))
    max_parts = parse_max_parts(call.headers.get(MAX_PARTS_HEADER))
    marker = parse_part_number_marker(call.headers.get(MARKER_HEADER))
    info = await gw.store.lookup_key(bucket, key, call.bucket_id(bucket), head=True)
    body = attributes_xml(
        info, wanted, storage_class_of(info.meta.replication), max_parts, marker
    )
    headers = dict(XML)
    headers["last-modified"] = http_date(info.modified)
    return S3Response(200, headers, body)
