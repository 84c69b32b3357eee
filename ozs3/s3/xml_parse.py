"""S3 XML request bodies: a hardened parser (no DTDs, entities, network or
huge trees) and the documents S3 accepts (Delete, CreateBucketConfiguration,
CompleteMultipartUpload, AccessControlPolicy), with or without the S3
namespace.  Pure (lxml only)."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from .errors import S3Error
from .numbers import decimal

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_document(body: bytes, expected_root: str) -> etree._Element:
    """Parse a request body, refusing DTDs and anything not well-formed."""
    if not body.strip():
        raise S3Error("MalformedXML")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        raise S3Error("MalformedXML") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise S3Error("MalformedXML", "DTDs are not allowed in request bodies.")
    if etree.QName(root).localname != expected_root:
        raise S3Error("MalformedXML")
    return root


def _children(el: etree._Element, name: str) -> Iterable[etree._Element]:
    for child in el:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            yield child


def _text(el: etree._Element, name: str) -> str | None:
    for child in _children(el, name):
        return child.text or ""
    return None


MAX_DELETE_KEYS = 1000


def parse_delete(body: bytes) -> tuple[bool, list[str]]:
    """DeleteObjects: ``(quiet, keys)``."""
    root = parse_document(body, "Delete")
    quiet = (_text(root, "Quiet") or "false").strip().lower() == "true"
    keys = []
    for obj in _children(root, "Object"):
        key = _text(obj, "Key")
        if key is None:
            raise S3Error("MalformedXML")
        keys.append(key)
    if not keys or len(keys) > MAX_DELETE_KEYS:
        raise S3Error("MalformedXML")
    return quiet, keys


def parse_create_bucket(body: bytes) -> str | None:
    """CreateBucketConfiguration's LocationConstraint, if a body was sent."""
    if not body.strip():
        return None
    root = parse_document(body, "CreateBucketConfiguration")
    return _text(root, "LocationConstraint")


MAX_PARTS = 10_000


def parse_complete(body: bytes) -> list[tuple[int, str]]:
    """CompleteMultipartUpload: ``[(part number, ETag without quotes)]``.

    ETags may come quoted, unquoted or with the quotes escaped (``&#34;``,
    ``&quot;``: the parser has already turned those into quotes).
    """
    root = parse_document(body, "CompleteMultipartUpload")
    parts = []
    for part in _children(root, "Part"):
        number, etag = _text(part, "PartNumber"), _text(part, "ETag")
        if number is None or etag is None:
            raise S3Error("MalformedXML")
        n = decimal(number.strip(" \t\r\n"), 5)
        if n is None:
            raise S3Error("MalformedXML")
        if not 1 <= n <= MAX_PARTS:
            raise S3Error(
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive",
                extra={"ArgumentName": "PartNumber", "ArgumentValue": number},
            )
        parts.append((n, etag.strip().strip('"').lower()))
    if not parts:
        raise S3Error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate "
            "against our published schema: it lists no parts.",
        )
    if len(parts) > MAX_PARTS:
        raise S3Error("MalformedXML", "More than 10000 parts were listed.")
    return parts
