"""Two bucket settings about who may reach a bucket, with their XML: the
public access block and the object ownership controls.  Pure (lxml only).

PublicAccessBlock (Put/Get/DeletePublicAccessBlock): four flags, absent ones
false.  BlockPublicPolicy refuses a PutBucketPolicy whose policy is public;
RestrictPublicBuckets makes a public policy grant nobody but the owner (what
it denies still binds).  BlockPublicAcls and IgnorePublicAcls are kept and
returned: ACLs here never grant anyone but the owner (public canned ACLs and
grants are AccessControlListNotSupported), so there is nothing for them to
block yet.

Ownership controls: BucketOwnerEnforced, S3's default for new buckets and
the only one these buckets have (ACLs disabled, the bucket owner owns every
object).  ObjectWriter and BucketOwnerPreferred would enable ACLs; they are
refused with 501 rather than stored and not acted on.
"""

from __future__ import annotations

import json

import attrs
from lxml import etree

from .errors import S3Error
from .xml import NS
from .xml_parse import parse_document

_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
FLAGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
ENFORCED = "BucketOwnerEnforced"
OWNERSHIPS = (ENFORCED, "BucketOwnerPreferred", "ObjectWriter")


@attrs.frozen
class PublicAccessBlock:
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    def flags(self) -> tuple[bool, ...]:
        return attrs.astuple(self)


def _malformed(detail: str) -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against "
        f"our published schema: {detail}",
    )


def _children(root: etree._Element) -> list[etree._Element]:
    return [c for c in root if isinstance(c.tag, str)]


def parse_public_access_block(body: bytes) -> PublicAccessBlock:
    root = parse_document(body, "PublicAccessBlockConfiguration")
    found: dict[str, bool] = {}
    for child in _children(root):
        name = etree.QName(child).localname
        if name not in FLAGS or name in found:
            raise _malformed(f"unexpected {name}")
        text = (child.text or "").strip().lower()
        if text not in ("true", "false"):
            raise _malformed(f"{name} is not true or false")
        found[name] = text == "true"
    return PublicAccessBlock(*(found.get(name, False) for name in FLAGS))


def public_access_block_xml(block: PublicAccessBlock) -> bytes:
    root = etree.Element("PublicAccessBlockConfiguration", nsmap={None: NS})
    for name, value in zip(FLAGS, block.flags(), strict=True):
        etree.SubElement(root, name).text = "true" if value else "false"
    return _DECL + etree.tostring(root)


def encode_block(block: PublicAccessBlock) -> str:
    return json.dumps(list(block.flags()))


def decode_block(text: str) -> PublicAccessBlock:
    return PublicAccessBlock(*json.loads(text))


def parse_ownership(body: bytes) -> str:
    """The ObjectOwnership of an OwnershipControls body (one Rule)."""
    root = parse_document(body, "OwnershipControls")
    rules = _children(root)
    if len(rules) != 1 or etree.QName(rules[0]).localname != "Rule":
        raise _malformed("OwnershipControls holds one Rule")
    fields = _children(rules[0])
    if len(fields) != 1 or etree.QName(fields[0]).localname != "ObjectOwnership":
        raise _malformed("a Rule holds one ObjectOwnership")
    value = (fields[0].text or "").strip()
    if value not in OWNERSHIPS:
        raise _malformed(
            f"ObjectOwnership {value!r} is not one of {', '.join(OWNERSHIPS)}"
        )
    return value


def check_ownership(value: str, where: str) -> None:
    """Only BucketOwnerEnforced is had here; the others would enable ACLs."""
    if value not in OWNERSHIPS:
        raise S3Error(
            "InvalidArgument",
            "Invalid x-amz-object-ownership header",
            extra={"ArgumentName": "x-amz-object-ownership", "ArgumentValue": value},
        )
    if value != ENFORCED:
        raise S3Error(
            "NotImplemented",
            f"{where} {value}: ACLs are not kept here, only BucketOwnerEnforced "
            "(the bucket owner owns every object)",
        )


def ownership_xml(value: str) -> bytes:
    root = etree.Element("OwnershipControls", nsmap={None: NS})
    rule = etree.SubElement(root, "Rule")
    etree.SubElement(rule, "ObjectOwnership").text = value
    return _DECL + etree.tostring(root)
