"""S3 XML documents: builders for responses.  Pure (lxml only).

Request bodies are parsed in xml_parse.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from lxml import etree

from ..digests import XML_NAMES, decode_stored
from ..storage.model import (
    BucketInfo,
    KeyListing,
    PartListing,
    UploadListing,
    UploadQuery,
)
from .headers import iso8601, iso8601_stamps, quote_etag
from .storage_class import storage_class_of

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _root(tag: str, ns: bool = True) -> etree._Element:
    return etree.Element(tag, nsmap={None: NS}) if ns else etree.Element(tag)


# Characters XML 1.0 cannot carry.  Keys never contain them (refused at
# PUT), but an error may echo a hostile URI: such characters are written
# percent-encoded rather than making the error unrenderable.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _XML_UNSAFE.sub(lambda m: quote(m.group(0)), text)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = xml_safe(text)
    return el


def _dump(root: etree._Element) -> bytes:
    return _DECL + etree.tostring(root, encoding="UTF-8")


def error_xml(
    code: str,
    message: str,
    resource: str | None,
    request_id: str,
    extra: dict[str, str],
) -> bytes:
    root = _root("Error", ns=False)
    _sub(root, "Code", code)
    _sub(root, "Message", message)
    for name, value in extra.items():
        _sub(root, name, value)
    if resource is not None:
        _sub(root, "Resource", resource)
    _sub(root, "RequestId", request_id)
    return _dump(root)


def _owner(parent: etree._Element, owner: str, tag: str = "Owner") -> None:
    el = _sub(parent, tag)
    _sub(el, "ID", owner)
    _sub(el, "DisplayName", owner)


def list_buckets_xml(
    buckets: Sequence[BucketInfo],
    owner: str,
    continuation_token: str | None = None,
    prefix: str | None = None,
) -> bytes:
    root = _root("ListAllMyBucketsResult")
    _owner(root, owner)
    container = _sub(root, "Buckets")
    for b in buckets:
        el = _sub(container, "Bucket")
        _sub(el, "Name", b.name)
        _sub(el, "CreationDate", iso8601(b.created))
    if continuation_token is not None:  # more follow: the next page's token
        _sub(root, "ContinuationToken", continuation_token)
    if prefix is not None:
        _sub(root, "Prefix", prefix)
    return _dump(root)


def location_xml(region: str) -> bytes:
    root = _root("LocationConstraint")
    if region:
        root.text = region
    return _dump(root)


def _enc(value: str, url: bool) -> str:
    # botocore decodes with unquote_plus when EncodingType is url.
    return quote(value, safe="/") if url else value


def text(value: str) -> str:
    """``value`` as XML character data, written as lxml writes it: the
    characters XML cannot carry percent-encoded (``xml_safe``), ``&``,
    ``<``, ``>`` and CR escaped (a bare CR would reach the client as LF).
    Most values need none of it: one search says so."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    value = xml_safe(value)
    for char, entity in _ENTITIES:
        if char in value:
            value = value.replace(char, entity)
    return value


_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))


def _element(out: list[str], tag: str, value: str) -> None:
    out.append(f"<{tag}>{text(value)}</{tag}>")


# What quote(value, safe="/") leaves as it is.
_URL_PLAIN = re.compile(r"[A-Za-z0-9_.~/-]*")


def _texts(values: list[str]) -> list[str]:
    """``values`` as character data: one search over the lot, since a page's
    keys, ETags and owners seldom need escaping."""
    if _NEEDS_ESCAPE.search("".join(values)) is None:
        return values
    return [text(v) for v in values]


def _contents(out: list[str], listing: KeyListing, url: bool, owners: bool) -> None:
    """The page's Contents and CommonPrefixes, written in one pass (a
    1,000-key page took ~15 ms as an element tree, most of it building and
    serialising 6,000 elements).  Escaping and URL-encoding are decided once
    per page where they change nothing."""
    keys = listing.keys
    names = [k.key for k in keys]
    if url:
        if _URL_PLAIN.fullmatch("".join(names)) is None:
            # Quoted, a name is ASCII letters, digits, "_.-~/" and "%": no
            # character XML escapes.
            names = [quote(n, safe="/") for n in names]
    else:
        names = _texts(names)
    etags = _texts([k.etag for k in keys])
    who = _texts([k.owner for k in keys]) if owners else None
    stamps = iso8601_stamps([k.modified for k in keys])
    storage_classes: dict[str, str] = {}
    append = out.append
    for i, (_, size, _, _, replication, _, _) in enumerate(keys):
        storage_class = storage_classes.get(replication)
        if storage_class is None:
            storage_class = storage_classes[replication] = storage_class_of(replication)
        etag = f'<ETag>"{etags[i]}"</ETag>' if etags[i] else ""
        owner = (
            f"<Owner><ID>{who[i]}</ID><DisplayName>{who[i]}</DisplayName></Owner>"
            if who is not None
            else ""
        )
        append(
            f"<Contents><Key>{names[i]}</Key>"
            f"<LastModified>{stamps[i]}</LastModified>{etag}"
            f"<Size>{size}</Size>{owner}"
            f"<StorageClass>{storage_class}</StorageClass></Contents>"
        )
    for p in listing.common_prefixes:
        append(
            f"<CommonPrefixes><Prefix>{text(_enc(p, url))}</Prefix></CommonPrefixes>"
        )


def _listing_xml(head: list[tuple[str, str | None]], listing: KeyListing,
                 url: bool, owners: bool) -> bytes:  # fmt: skip
    """A ListBucketResult: ``head``'s elements in order (None: left out),
    then the page."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{NS}">']
    for tag, value in head:
        if value is not None:
            _element(out, tag, value)
    _contents(out, listing, url, owners)
    out.append("</ListBucketResult>")
    return "".join(out).encode("utf-8")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def list_objects_v1_xml(
    bucket: str,
    listing: KeyListing,
    prefix: str,
    delimiter: str,
    marker: str,
    max_keys: int,
    url: bool,
) -> bytes:
    """V1: each key's owner always (as S3)."""
    next_marker = None
    if listing.truncated and delimiter and listing.next_marker is not None:
        next_marker = _enc(listing.next_marker, url)
    head = [
        ("Name", bucket),
        ("Prefix", _enc(prefix, url)),
        ("Marker", _enc(marker, url)),
        ("NextMarker", next_marker),
        ("MaxKeys", str(max_keys)),
        ("Delimiter", _enc(delimiter, url) if delimiter else None),
        ("EncodingType", "url" if url else None),
        ("IsTruncated", _bool(listing.truncated)),
    ]
    return _listing_xml(head, listing, url, True)


def list_objects_v2_xml(
    bucket: str,
    listing: KeyListing,
    prefix: str,
    delimiter: str,
    max_keys: int,
    url: bool,
    continuation_token: str | None,
    next_token: str | None,
    start_after: str | None,
    fetch_owner: bool,
) -> bytes:
    head = [
        ("Name", bucket),
        ("Prefix", _enc(prefix, url)),
        ("Delimiter", _enc(delimiter, url) if delimiter else None),
        ("MaxKeys", str(max_keys)),
        ("EncodingType", "url" if url else None),
        ("KeyCount", str(len(listing.keys) + len(listing.common_prefixes))),
        ("ContinuationToken", continuation_token),
        ("NextContinuationToken", next_token),
        ("StartAfter", _enc(start_after, url) if start_after is not None else None),
        ("IsTruncated", _bool(listing.truncated)),
    ]
    return _listing_xml(head, listing, url, fetch_owner)


def delete_result_xml(
    deleted: Sequence[str], errors: Sequence[tuple[str, str, str]], quiet: bool
) -> bytes:
    root = _root("DeleteResult")
    if not quiet:
        for key in deleted:
            _sub(_sub(root, "Deleted"), "Key", key)
    for key, code, message in errors:
        el = _sub(root, "Error")
        _sub(el, "Key", key)
        _sub(el, "Code", code)
        _sub(el, "Message", message)
    return _dump(root)


def policy_status_xml(is_public: bool) -> bytes:
    root = _root("PolicyStatus")
    _sub(root, "IsPublic", "true" if is_public else "false")
    return _dump(root)


def initiate_upload_xml(bucket: str, key: str, upload_id: str) -> bytes:
    root = _root("InitiateMultipartUploadResult")
    _sub(root, "Bucket", bucket)
    _sub(root, "Key", key)
    _sub(root, "UploadId", upload_id)
    return _dump(root)


def _checksum(parent: etree._Element, stored: str) -> None:
    decoded = decode_stored(stored)
    if decoded is not None:
        _sub(parent, XML_NAMES[decoded[0]], decoded[1])


def complete_upload_xml(
    location: str, bucket: str, key: str, etag: str, checksum: str = ""
) -> bytes:
    root = _root("CompleteMultipartUploadResult")
    _sub(root, "Location", location)
    _sub(root, "Bucket", bucket)
    _sub(root, "Key", key)
    _sub(root, "ETag", quote_etag(etag))
    _checksum(root, checksum)
    return _dump(root)


def list_parts_xml(listing: PartListing, marker: int, max_parts: int) -> bytes:
    root = _root("ListPartsResult")
    up = listing.upload
    _sub(root, "Bucket", up.bucket)
    _sub(root, "Key", up.key)
    _sub(root, "UploadId", up.upload_id)
    _owner(root, up.owner, "Initiator")
    _owner(root, up.owner)
    _sub(root, "StorageClass", storage_class_of(up.meta.replication))
    _sub(root, "PartNumberMarker", str(marker))
    if listing.next_marker is not None:
        _sub(root, "NextPartNumberMarker", str(listing.next_marker))
    _sub(root, "MaxParts", str(max_parts))
    _sub(root, "IsTruncated", "true" if listing.truncated else "false")
    for p in listing.parts:
        el = _sub(root, "Part")
        _sub(el, "PartNumber", str(p.part_number))
        _sub(el, "LastModified", iso8601(p.modified))
        _sub(el, "ETag", quote_etag(p.etag))
        _sub(el, "Size", str(p.size))
        _checksum(el, p.checksum)
    return _dump(root)


def list_uploads_xml(
    bucket: str,
    listing: UploadListing,
    query: UploadQuery,
    url: bool,
) -> bytes:
    root = _root("ListMultipartUploadsResult")
    _sub(root, "Bucket", bucket)
    _sub(root, "KeyMarker", _enc(query.key_marker, url))
    _sub(root, "UploadIdMarker", query.upload_id_marker)
    if listing.next_key_marker is not None:
        _sub(root, "NextKeyMarker", _enc(listing.next_key_marker, url))
    if listing.next_upload_id_marker is not None:
        _sub(root, "NextUploadIdMarker", listing.next_upload_id_marker)
    if query.prefix:
        _sub(root, "Prefix", _enc(query.prefix, url))
    if query.delimiter:
        _sub(root, "Delimiter", _enc(query.delimiter, url))
    _sub(root, "MaxUploads", str(query.max_uploads))
    if url:
        _sub(root, "EncodingType", "url")
    _sub(root, "IsTruncated", "true" if listing.truncated else "false")
    for u in listing.uploads:
        el = _sub(root, "Upload")
        _sub(el, "Key", _enc(u.key, url))
        _sub(el, "UploadId", u.upload_id)
        _owner(el, u.owner, "Initiator")
        _owner(el, u.owner)
        _sub(el, "StorageClass", storage_class_of(u.meta.replication))
        _sub(el, "Initiated", iso8601(u.initiated))
    for p in listing.common_prefixes:
        _sub(_sub(root, "CommonPrefixes"), "Prefix", _enc(p, url))
    return _dump(root)


def copy_result_xml(tag: str, etag: str, modified: float) -> bytes:
    """CopyObjectResult or CopyPartResult."""
    root = _root(tag)
    _sub(root, "LastModified", iso8601(modified))
    _sub(root, "ETag", quote_etag(etag))
    return _dump(root)


def versioning_xml() -> bytes:
    """A bucket whose versioning was never enabled: no Status at all."""
    return _dump(_root("VersioningConfiguration"))


_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def list_versions_xml(
    bucket: str,
    listing: KeyListing,
    prefix: str,
    delimiter: str,
    key_marker: str,
    max_keys: int,
    url: bool,
) -> bytes:
    root = _root("ListVersionsResult")
    _sub(root, "Name", bucket)
    _sub(root, "Prefix", _enc(prefix, url))
    _sub(root, "KeyMarker", _enc(key_marker, url))
    _sub(root, "VersionIdMarker", "")
    if listing.truncated and listing.next_marker is not None:
        _sub(root, "NextKeyMarker", _enc(listing.next_marker, url))
        _sub(root, "NextVersionIdMarker", "null")
    _sub(root, "MaxKeys", str(max_keys))
    if delimiter:
        _sub(root, "Delimiter", _enc(delimiter, url))
    if url:
        _sub(root, "EncodingType", "url")
    _sub(root, "IsTruncated", "true" if listing.truncated else "false")
    for k in listing.keys:
        el = _sub(root, "Version")
        _sub(el, "Key", _enc(k.key, url))
        _sub(el, "VersionId", "null")
        _sub(el, "IsLatest", "true")
        _sub(el, "LastModified", iso8601(k.modified))
        if k.etag:  # none for keys written by `ozone sh` (as Ozone's s3g)
            _sub(el, "ETag", quote_etag(k.etag))
        _sub(el, "Size", str(k.size))
        _sub(el, "StorageClass", storage_class_of(k.replication))
        _owner(el, k.owner)
    for p in listing.common_prefixes:
        _sub(_sub(root, "CommonPrefixes"), "Prefix", _enc(p, url))
    return _dump(root)
