"""S3 CORS configuration as XML: PutBucketCors bodies, validated as S3
does, and the GetBucketCors body.  Pure (lxml only); the model and the
evaluation are in cors.py.

A body that does not fit the schema is MalformedXML at once; the other
refusals (InvalidRequest, with S3's messages) come after the whole body has
been read, the first in document order.
"""

from __future__ import annotations

from lxml import etree

from .cors import MAX_ID_LENGTH, MAX_RULES, METHODS, CorsRule
from .errors import S3Error
from .numbers import INT32_MAX, decimal
from .xml import NS, xml_safe
from .xml_parse import parse_document

_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_REPEATABLE = ("AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader")
_SINGLE = ("ID", "MaxAgeSeconds")


def _malformed(detail: str) -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against "
        f"our published schema: {detail}",
    )


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _text(el: etree._Element) -> str:
    if any(isinstance(child.tag, str) for child in el):
        raise _malformed(f"{_local(el)} holds elements, not text")
    return "".join(el.itertext())


def _rule(el: etree._Element, refusals: list[S3Error]) -> CorsRule:
    found: dict[str, list[str]] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name not in _REPEATABLE and name not in _SINGLE:
            raise _malformed(f"unexpected element {name} in CORSRule")
        if name in _SINGLE and name in found:
            raise _malformed(f"more than one {name} in CORSRule")
        found.setdefault(name, []).append(_text(child).strip(" \t\r\n"))
    origins = found.get("AllowedOrigin", [])
    methods = found.get("AllowedMethod", [])
    if not origins or not methods:
        raise _malformed("a CORSRule needs an AllowedOrigin and an AllowedMethod")
    for method in methods:
        if method not in METHODS:
            refusals.append(S3Error(
                "InvalidRequest",
                "Found unsupported HTTP method in CORS config. Unsupported method "
                f"is {method}",
            ))  # fmt: skip
    headers = found.get("AllowedHeader", [])
    for what, values in (("AllowedOrigin", origins), ("AllowedHeader", headers)):
        for value in values:
            if value.count("*") > 1:
                refusals.append(S3Error(
                    "InvalidRequest",
                    f'{what} "{value}" can not have more than one wildcard.',
                ))  # fmt: skip
    for value in found.get("ExposeHeader", []):
        if "*" in value:
            refusals.append(S3Error(
                "InvalidRequest",
                f'ExposeHeader "{value}" contains wildcard. We currently do not '
                "support wildcard for ExposeHeader.",
            ))  # fmt: skip
    rule_id = (found.get("ID") or [""])[0]
    if len(rule_id) > MAX_ID_LENGTH:
        refusals.append(S3Error(
            "InvalidArgument", f"ID length should not exceed allowed limit of "
            f"{MAX_ID_LENGTH}",
        ))  # fmt: skip
    max_age = None
    if "MaxAgeSeconds" in found:
        text = found["MaxAgeSeconds"][0]
        n = decimal(text[1:] if text[:1] == "-" else text)
        if n is None or n > INT32_MAX:
            raise _malformed("MaxAgeSeconds is not an integer")
        max_age = -n if text[:1] == "-" else n
    return CorsRule(
        tuple(origins),
        tuple(methods),
        tuple(found.get("AllowedHeader", [])),
        tuple(found.get("ExposeHeader", [])),
        max_age,
        rule_id,
    )


def parse_cors(body: bytes) -> tuple[CorsRule, ...]:
    """A PutBucketCors body: its rules, in order."""
    root = parse_document(body, "CORSConfiguration")
    refusals: list[S3Error] = []
    rules = []
    for child in root:
        if not isinstance(child.tag, str):
            continue
        if _local(child) != "CORSRule":
            raise _malformed(f"unexpected element {_local(child)}")
        rules.append(_rule(child, refusals))
    if not rules:
        raise _malformed("a CORSConfiguration needs a CORSRule")
    if len(rules) > MAX_RULES:
        raise S3Error(
            "InvalidRequest",
            f"The number of CORS rules should not exceed allowed limit of {MAX_RULES}"
            " rules.",
        )
    if refusals:
        raise refusals[0]
    return tuple(rules)


def _sub(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = xml_safe(text)


def cors_xml(rules: tuple[CorsRule, ...]) -> bytes:
    """The GetBucketCors body: the rules as they were put."""
    root = etree.Element("CORSConfiguration", nsmap={None: NS})
    for rule in rules:
        el = etree.SubElement(root, "CORSRule")
        if rule.id:
            _sub(el, "ID", rule.id)
        for header in rule.allowed_headers:
            _sub(el, "AllowedHeader", header)
        for method in rule.allowed_methods:
            _sub(el, "AllowedMethod", method)
        for origin in rule.allowed_origins:
            _sub(el, "AllowedOrigin", origin)
        for header in rule.expose_headers:
            _sub(el, "ExposeHeader", header)
        if rule.max_age is not None:
            _sub(el, "MaxAgeSeconds", str(rule.max_age))
    return _DECL + etree.tostring(root, encoding="UTF-8")
