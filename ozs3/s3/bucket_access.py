"""Two bucket settings about who may reach a bucket, with their XML: the
public access block and the bucket's access control (its object ownership
controls with its ACL).  Pure (lxml only).

PublicAccessBlock (Put/Get/DeletePublicAccessBlock): four flags, absent ones
false.  BlockPublicPolicy refuses a PutBucketPolicy whose policy is public;
RestrictPublicBuckets makes a public policy grant nobody but the owner (what
it denies still binds).  BlockPublicAcls refuses public ACLs (grants to
AllUsers or AuthenticatedUsers) on writes; IgnorePublicAcls makes those
grants let nobody in.

Ownership controls: BucketOwnerEnforced (S3's default for new buckets, and
every bucket's here until told otherwise) disables ACLs: the bucket owner
owns every object, only ACLs that say so are accepted.  ObjectWriter (also
what a bucket without controls does) and BucketOwnerPreferred enable them.
Both live in one bucket setting (``BUCKET_ACL``), read per request only for
callers who do not own the bucket.
"""

from __future__ import annotations

import json

import attrs
from lxml import etree

from .acl import ACL, decode
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
PREFERRED = "BucketOwnerPreferred"
WRITER = "ObjectWriter"
OWNERSHIPS = (ENFORCED, PREFERRED, WRITER)
NO_CONTROLS = ""  # DeleteBucketOwnershipControls: acts as ObjectWriter


@attrs.frozen
class BucketAccessControl:
    """A bucket's ownership controls and its ACL grants (``()``: the owner's
    FULL_CONTROL alone)."""

    ownership: str = ENFORCED
    grants: ACL = ()

    @property
    def acls_enabled(self) -> bool:
        return self.ownership != ENFORCED


DEFAULT_CONTROL = BucketAccessControl()


def encode_control(control: BucketAccessControl) -> str:
    return json.dumps({"o": control.ownership, "g": control.grants})


def decode_control(text: str) -> BucketAccessControl:
    d = json.loads(text)
    return BucketAccessControl(str(d["o"]), decode(d["g"]))


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


def check_ownership(value: str) -> None:
    """An ``x-amz-object-ownership`` header's value."""
    if value not in OWNERSHIPS:
        raise S3Error(
            "InvalidArgument",
            "Invalid x-amz-object-ownership header",
            extra={"ArgumentName": "x-amz-object-ownership", "ArgumentValue": value},
        )


def ownership_xml(value: str) -> bytes:
    root = etree.Element("OwnershipControls", nsmap={None: NS})
    rule = etree.SubElement(root, "Rule")
    etree.SubElement(rule, "ObjectOwnership").text = value
    return _DECL + etree.tostring(root)
