"""S3 tags: the ``x-amz-tagging`` header, the ``Tagging`` XML document and
S3's rules for a tag set.  Pure (lxml only).

A tag set is a tuple of ``(key, value)`` pairs; ``check_tags`` returns it
sorted by key, the form ``ObjectMeta.tags`` keeps.

Parsing and checking are separate steps, as in S3: ``parse_tagging_header``
and ``parse_tagging_xml`` refuse what is not a well-formed tag list
(``InvalidArgument`` for the header, ``MalformedXML`` for the body);
``check_tags`` then applies the tag rules (``InvalidTag``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from urllib.parse import quote, unquote_to_bytes

from lxml import etree

from .errors import S3Error
from .xml import NS, xml_safe
from .xml_parse import parse_document

Tags = tuple[tuple[str, str], ...]

OBJECT_TAG_LIMIT = 10
BUCKET_TAG_LIMIT = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"
HEADER = "x-amz-tagging"

# AWS answers a tag set over the limit with code BadRequest (not InvalidTag).
TOO_MANY_TAGS_CODE = "BadRequest"
_TOO_MANY = {
    OBJECT_TAG_LIMIT: "Object tags cannot be greater than 10",
    BUCKET_TAG_LIMIT: "Bucket tag count cannot be greater than 50",
}

_BAD_HEADER = (
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL "
    "query parameters without tag name duplicates."
)
KEY_INVALID = "The TagKey you have provided is invalid"
VALUE_INVALID = "The TagValue you have provided is invalid"
DUPLICATE_KEY = "Cannot provide multiple Tags with the same key"
RESERVED_KEY = "Your TagKey cannot be prefixed with aws:"

# Punctuation S3 allows beside Unicode letters, numbers and separators
# (the pattern ^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$).
_PUNCTUATION = frozenset("_.:/=+-@")


def _allowed(ch: str) -> bool:
    return ch in _PUNCTUATION or unicodedata.category(ch)[0] in "LNZ"


def _length(text: str) -> int:
    """Length as S3 (and Ozone, in Java) count it: UTF-16 code units, so a
    character outside the Basic Multilingual Plane counts twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _valid_text(text: str, min_length: int, max_length: int) -> bool:
    return min_length <= _length(text) <= max_length and all(
        _allowed(ch) for ch in text
    )


# ---------------------------------------------------------------- the header

_BAD_ESCAPE = re.compile("%(?![0-9A-Fa-f]{2})")


def _bad_header(value: str) -> S3Error:
    return S3Error(
        "InvalidArgument",
        _BAD_HEADER,
        extra={"ArgumentName": HEADER, "ArgumentValue": value},
    )


def _form_decode(raw: str, header: str) -> str:
    """Form decoding as S3 does it: ``+`` is a space, ``%XX`` a byte, the
    bytes UTF-8.  A stray ``%`` or bytes that are not UTF-8 are refused
    (Python's ``unquote_plus`` would keep or replace them)."""
    if _BAD_ESCAPE.search(raw):
        raise _bad_header(header)
    try:
        return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_header(header) from None


def parse_tagging_header(value: str) -> Tags:
    """The tags of an ``x-amz-tagging`` header (``k1=v1&k2=v2``), in the
    order given.

    ``k`` without ``=`` is a tag with an empty value; empty segments
    (``a=1&&b=2``, a trailing ``&``) are skipped; an empty header is no
    tags.  An empty key (``=v``), a malformed escape, bytes that are not
    UTF-8 or a key given twice → ``InvalidArgument``.  The tag rules are
    ``check_tags``'s.
    """
    tags: list[tuple[str, str]] = []
    seen: set[str] = set()
    for segment in value.split("&"):
        if not segment:
            continue
        raw_key, _, raw_value = segment.partition("=")
        if not raw_key:
            raise _bad_header(value)
        key = _form_decode(raw_key, value)
        tag_value = _form_decode(raw_value, value)
        if key in seen:
            raise _bad_header(value)
        seen.add(key)
        tags.append((key, tag_value))
    return tuple(tags)


def tagging_header(tags: Iterable[tuple[str, str]]) -> str:
    """The ``x-amz-tagging`` form of ``tags``: every byte but unreserved
    ASCII percent-encoded (as the AWS SDKs send it; a space is ``%20``)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags)


# ------------------------------------------------------------------ the body


def _is(el: etree._Element, name: str) -> bool:
    return isinstance(el.tag, str) and etree.QName(el).localname == name


def _only_children(el: etree._Element, name: str) -> list[etree._Element]:
    """``el``'s child elements, all of which must be ``name``; text between
    them must be whitespace."""
    if (el.text or "").strip():
        raise S3Error("MalformedXML")
    children = []
    for child in el:
        if not _is(child, name) or (child.tail or "").strip():
            raise S3Error("MalformedXML")
        children.append(child)
    return children


def _leaf_text(el: etree._Element) -> str:
    if len(el):
        raise S3Error("MalformedXML")
    return el.text or ""


def _tag(el: etree._Element) -> tuple[str, str]:
    if (el.text or "").strip():
        raise S3Error("MalformedXML")
    found: dict[str, str] = {}
    for child in el:
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if name not in ("Key", "Value") or name in found:
            raise S3Error("MalformedXML")
        if (child.tail or "").strip():
            raise S3Error("MalformedXML")
        found[name] = _leaf_text(child)
    if "Key" not in found or "Value" not in found:
        raise S3Error("MalformedXML")
    return found["Key"], found["Value"]


def parse_tagging_xml(body: bytes, allow_empty: bool = True) -> Tags:
    """The tags of a PutObjectTagging / PutBucketTagging body:
    ``Tagging{TagSet{Tag*{Key, Value}}}``, with or without the S3
    namespace, in the order given.

    No TagSet, more than one, a Tag without its Key or Value (an empty
    ``<Value/>`` is the empty value), a repeated or unknown element →
    ``MalformedXML``.  An empty TagSet is allowed (for an object it removes
    its tags, as S3 documents); ``allow_empty=False`` refuses it with
    ``MalformedXML``, as Ozone's gateway does for buckets.
    """
    root = parse_document(body, "Tagging")
    tag_sets = _only_children(root, "TagSet")
    if len(tag_sets) != 1:
        raise S3Error("MalformedXML")
    tags = tuple(_tag(el) for el in _only_children(tag_sets[0], "Tag"))
    if not tags and not allow_empty:
        raise S3Error("MalformedXML")
    return tags


def tagging_xml(tags: Iterable[tuple[str, str]]) -> bytes:
    """GetObjectTagging / GetBucketTagging: ``Tagging{TagSet{Tag*}}`` sorted
    by key, in the S3 namespace (an empty TagSet for no tags)."""
    root = etree.Element("Tagging", nsmap={None: NS})
    tag_set = etree.SubElement(root, "TagSet")
    for key, value in sorted(tags):
        tag = etree.SubElement(tag_set, "Tag")
        etree.SubElement(tag, "Key").text = xml_safe(key)
        etree.SubElement(tag, "Value").text = xml_safe(value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8"
    )


# ----------------------------------------------------------------- the rules


def check_tags(tags: Sequence[tuple[str, str]], limit: int) -> Tags:
    """``tags`` checked against S3's rules, sorted by key.

    ``limit`` is ``OBJECT_TAG_LIMIT`` (10) or ``BUCKET_TAG_LIMIT`` (50).
    More tags than that → ``TOO_MANY_TAGS_CODE``; otherwise, tag by tag,
    a key that is empty, longer than 128 or has a character outside
    letters, numbers, separators and ``_ . : / = + - @`` → ``InvalidTag``
    "The TagKey you have provided is invalid"; such a value (0..256) →
    "The TagValue you have provided is invalid"; a key seen before →
    "Cannot provide multiple Tags with the same key"; then a key starting
    with ``aws:`` → "Your TagKey cannot be prefixed with aws:".  The error
    names the tag (``TagKey``, and ``TagValue`` for a value), as S3 does.
    """
    if len(tags) > limit:
        raise S3Error(
            TOO_MANY_TAGS_CODE,
            _TOO_MANY.get(limit, f"Tags cannot be greater than {limit}"),
        )
    seen: set[str] = set()
    for key, value in tags:
        if not _valid_text(key, 1, MAX_KEY_LENGTH):
            raise S3Error("InvalidTag", KEY_INVALID, extra={"TagKey": key})
        if not _valid_text(value, 0, MAX_VALUE_LENGTH):
            raise S3Error(
                "InvalidTag", VALUE_INVALID, extra={"TagKey": key, "TagValue": value}
            )
        if key in seen:
            raise S3Error("InvalidTag", DUPLICATE_KEY, extra={"TagKey": key})
        seen.add(key)
    for key, _ in tags:
        if key.startswith(RESERVED_PREFIX):
            raise S3Error("InvalidTag", RESERVED_KEY, extra={"TagKey": key})
    return tuple(sorted(tags))
