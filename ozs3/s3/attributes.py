"""GetObjectAttributes: its request headers and its response document.
Pure (lxml only).

Elements, names and order follow the API reference's response syntax:
``GetObjectAttributesResponse{ETag, Checksum{Checksum<Alg>, ChecksumType},
ObjectParts{IsTruncated, MaxParts, NextPartNumberMarker, PartNumberMarker,
Part*{Checksum<Alg>, PartNumber, Size}, PartsCount}, StorageClass,
ObjectSize}`` (``PartsCount`` is the SDKs' ``TotalPartsCount``).
"""

from __future__ import annotations

import re
from collections.abc import Set

from lxml import etree

from ..digests import XML_NAMES, decode_stored
from ..storage.model import KeyInfo, PartLayout
from .errors import S3Error
from .numbers import int32_argument
from .xml import NS, xml_safe

ETAG = "ETag"
CHECKSUM = "Checksum"
OBJECT_PARTS = "ObjectParts"
STORAGE_CLASS = "StorageClass"
OBJECT_SIZE = "ObjectSize"
ATTRIBUTES = frozenset({ETAG, CHECKSUM, OBJECT_PARTS, STORAGE_CLASS, OBJECT_SIZE})

ATTRIBUTES_HEADER = "x-amz-object-attributes"
MAX_PARTS_HEADER = "x-amz-max-parts"
MARKER_HEADER = "x-amz-part-number-marker"
DEFAULT_MAX_PARTS = 1000

_MISSING = (
    "The x-amz-object-attributes header specifying the attributes to be "
    "retrieved is either missing or empty"
)


def parse_attributes_header(value: str | None) -> frozenset[str]:
    """The attributes asked for: ``x-amz-object-attributes``, a comma list
    of ``ETag``, ``Checksum``, ``ObjectParts``, ``StorageClass``,
    ``ObjectSize`` (case-sensitive; spaces around names ignored).

    Missing or empty → ``InvalidRequest``; any other name (an empty one
    included, ``ETag,``) → ``InvalidArgument`` "Invalid attribute name
    specified." naming it.
    """
    if value is None or not value.strip(" \t"):
        raise S3Error("InvalidRequest", _MISSING)
    names = [name.strip(" \t") for name in value.split(",")]
    for name in names:
        if name not in ATTRIBUTES:
            raise S3Error(
                "InvalidArgument",
                "Invalid attribute name specified.",
                extra={"ArgumentName": ATTRIBUTES_HEADER, "ArgumentValue": name},
            )
    return frozenset(names)


def parse_max_parts(value: str | None) -> int:
    """``x-amz-max-parts``: ASCII digits within int32, default and at most
    1000 (larger values are served as 1000, as ListParts does)."""
    return min(int32_argument(value, MAX_PARTS_HEADER, DEFAULT_MAX_PARTS), 1000)


def parse_part_number_marker(value: str | None) -> int:
    """``x-amz-part-number-marker``: ASCII digits within int32, default 0
    (parts after it are listed)."""
    return int32_argument(value, MARKER_HEADER, 0)


_COMPOSITE = re.compile(r"-[0-9]+\Z")


def checksum_type(value: str) -> str:
    """``COMPOSITE`` for a multipart object's checksum of checksums
    (``base64-N``), else ``FULL_OBJECT``."""
    return "COMPOSITE" if _COMPOSITE.search(value) else "FULL_OBJECT"


def parts_page(
    parts: tuple[PartLayout, ...], max_parts: int, marker: int
) -> tuple[tuple[PartLayout, ...], bool]:
    """The parts after ``marker``, at most ``max_parts``, and whether more
    follow."""
    after = sorted((p for p in parts if p.number > marker), key=lambda p: p.number)
    return tuple(after[:max_parts]), len(after) > max_parts


def _sub(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = xml_safe(text)


def _checksum_value(stored: str) -> tuple[str, str] | None:
    """(XML element name, value) of a stored checksum, if it has one of a
    known algorithm."""
    decoded = decode_stored(stored)
    if decoded is None or decoded[0] not in XML_NAMES or not decoded[1]:
        return None
    return XML_NAMES[decoded[0]], decoded[1]


def attributes_xml(
    info: KeyInfo,
    wanted: Set[str],
    storage_class: str,
    max_parts: int = DEFAULT_MAX_PARTS,
    part_number_marker: int = 0,
) -> bytes:
    """The GetObjectAttributesResponse body for ``info``: the ``wanted``
    attributes it has.

    ``ETag`` unquoted, only if the key has one; ``Checksum`` only if an
    additional checksum is stored; ``ObjectParts`` only for a multipart key
    (``info.parts``), its parts paged by ``max_parts`` after
    ``part_number_marker`` (``NextPartNumberMarker`` when truncated).
    """
    root = etree.Element("GetObjectAttributesResponse", nsmap={None: NS})
    if ETAG in wanted and info.etag:
        _sub(root, "ETag", info.etag)
    if CHECKSUM in wanted:
        found = _checksum_value(info.checksum)
        if found is not None:
            el = etree.SubElement(root, "Checksum")
            _sub(el, found[0], found[1])
            _sub(el, "ChecksumType", checksum_type(found[1]))
    if OBJECT_PARTS in wanted and info.parts:
        page, truncated = parts_page(info.parts, max_parts, part_number_marker)
        el = etree.SubElement(root, "ObjectParts")
        _sub(el, "IsTruncated", "true" if truncated else "false")
        _sub(el, "MaxParts", str(max_parts))
        if truncated:
            last = page[-1].number if page else part_number_marker
            _sub(el, "NextPartNumberMarker", str(last))
        _sub(el, "PartNumberMarker", str(part_number_marker))
        for part in page:
            part_el = etree.SubElement(el, "Part")
            part_sum = _checksum_value(part.checksum)
            if part_sum is not None:
                _sub(part_el, part_sum[0], part_sum[1])
            _sub(part_el, "PartNumber", str(part.number))
            _sub(part_el, "Size", str(part.size))
        _sub(el, "PartsCount", str(len(info.parts)))
    if STORAGE_CLASS in wanted:
        _sub(root, "StorageClass", storage_class)
    if OBJECT_SIZE in wanted:
        _sub(root, "ObjectSize", str(info.size))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8"
    )
