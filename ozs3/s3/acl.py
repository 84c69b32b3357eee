"""S3 access control lists: grants, canned ACLs, the x-amz-grant-* headers,
the AccessControlPolicy XML both ways, and what a grant lets whom do.  Pure
(lxml only).

A grant names a user by canonical id (here the user's access key, as every
Owner here shows it) or a group by URI (AllUsers: anyone, anonymous callers
included; AuthenticatedUsers: anyone who signs; LogDelivery: kept and
returned, matches nobody here).  An ACL is the tuple of its grants; the
empty tuple is the default, FULL_CONTROL for the resource's owner alone, so
a private object stores nothing.

Whether a resource's ACL counts at all is the bucket's ownership controls'
business (BucketOwnerEnforced: ACLs disabled), judged by authz.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from lxml import etree

from .errors import S3Error
from .xml import NS, xml_safe
from .xml_parse import parse_document

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)

FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP = (
    "FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP",
)  # fmt: skip
PERMISSIONS = (FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP)
GRANT_HEADERS = {f"x-amz-grant-{p.lower().replace('_', '-')}": p for p in PERMISSIONS}

CANNED = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
)
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class Grant(NamedTuple):
    kind: str  # "id" (a user's canonical id) or "uri" (a group)
    grantee: str
    permission: str


ACL = tuple[Grant, ...]


def decode(stored: Iterable[Iterable[str]]) -> ACL:
    """An ACL from its stored form (lists of three strings)."""
    return tuple(Grant(*g) for g in stored)


def effective(acl: ACL, owner: str) -> ACL:
    """The grants ``acl`` stands for (the default: the owner's FULL_CONTROL)."""
    return acl or (Grant("id", owner, FULL_CONTROL),)


def canned(name: str, owner: str, bucket_owner: str, for_bucket: bool) -> ACL:
    """The grants of a canned ACL on a resource owned by ``owner`` in a
    bucket owned by ``bucket_owner``, in S3's order; ``()`` for private."""
    mine = Grant("id", owner, FULL_CONTROL)
    extra: tuple[Grant, ...]
    if name == "private":
        return ()
    if name == "public-read":
        extra = (Grant("uri", ALL_USERS, READ),)
    elif name == "public-read-write":
        extra = (Grant("uri", ALL_USERS, READ), Grant("uri", ALL_USERS, WRITE))
    elif name == "authenticated-read":
        extra = (Grant("uri", AUTHENTICATED_USERS, READ),)
    elif name == "aws-exec-read":
        extra = ()  # the grantee (EC2) does not exist here
    elif name == "bucket-owner-read":
        extra = () if for_bucket or owner == bucket_owner else (
            Grant("id", bucket_owner, READ),
        )  # fmt: skip
    elif name == "bucket-owner-full-control":
        extra = () if for_bucket or owner == bucket_owner else (
            Grant("id", bucket_owner, FULL_CONTROL),
        )  # fmt: skip
    elif name == "log-delivery-write":
        extra = (
            Grant("uri", LOG_DELIVERY, WRITE),
            Grant("uri", LOG_DELIVERY, READ_ACP),
        )
    else:
        raise S3Error("InvalidArgument", extra={"ArgumentName": "x-amz-acl"})
    return (mine, *extra) if extra else ()


# One grantee of an x-amz-grant-* value: type=value, the value quoted or not.
_GRANTEE = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)')


def _header_grantees(header: str, value: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    value = value.strip()
    while pos < len(value):
        m = _GRANTEE.match(value, pos)
        if m is None or m.end() == pos:
            raise S3Error("InvalidArgument", extra={"ArgumentName": header})
        found.append((m.group(1), m.group(2) if m.group(2) is not None else m.group(3)))
        pos = m.end()
    if not found:
        raise S3Error("InvalidArgument", extra={"ArgumentName": header})
    return found


def _grant(kind: str, grantee: str, permission: str) -> Grant:
    kind = kind.lower()
    if kind == "emailaddress":
        raise S3Error(
            "UnresolvableGrantByEmailAddress", extra={"EmailAddress": grantee}
        )
    if kind == "id" and grantee:
        return Grant("id", grantee, permission)
    if kind == "uri" and grantee in GROUPS:
        return Grant("uri", grantee, permission)
    raise S3Error("InvalidArgument", "Invalid id" if kind == "id" else "Invalid URI")


def asks_for_acl(get: Callable[[str], str | None]) -> bool:
    """Does a request send ``x-amz-acl`` or any ``x-amz-grant-*``?"""
    return get("x-amz-acl") is not None or any(
        get(header) is not None for header in GRANT_HEADERS
    )


def requested(
    get: Callable[[str], str | None],
    owner: str,
    bucket_owner: str,
    for_bucket: bool,
) -> ACL | None:
    """The ACL a request's ``x-amz-acl`` or ``x-amz-grant-*`` headers ask for
    (``get``: a lower-cased header); None if they ask for none.  Both at
    once is S3's InvalidRequest."""
    name = get("x-amz-acl")
    grants: list[Grant] = []
    for header, permission in GRANT_HEADERS.items():
        value = get(header)
        if value is not None:
            for kind, who in _header_grantees(header, value):
                grants.append(_grant(kind, who, permission))
    if name is not None and grants:
        raise S3Error(
            "InvalidRequest",
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )
    if name is not None:
        return canned(name.strip(), owner, bucket_owner, for_bucket)
    if grants:
        return tuple(grants)
    return None


def check_syntax(get: Callable[[str], str | None]) -> None:
    """Refuse malformed ACL headers (before a body is read, whatever the
    bucket's ownership controls say)."""
    requested(get, "", "", False)


def owner_only(acl: ACL, bucket_owner: str) -> bool:
    """Does ``acl`` grant nothing but what BucketOwnerEnforced means (the
    bucket owner's FULL_CONTROL)?  The only ACL such a bucket accepts."""
    return all(g == Grant("id", bucket_owner, FULL_CONTROL) for g in acl)


def is_public(acl: ACL) -> bool:
    """Does ``acl`` grant anything to AllUsers or AuthenticatedUsers (what
    BlockPublicAcls refuses and IgnorePublicAcls disregards)?"""
    return any(g.kind == "uri" and g.grantee in PUBLIC_GROUPS for g in acl)


def allows(
    acl: ACL,
    owner: str,
    who: str | None,
    permission: str,
    ignore_public: bool = False,
) -> bool:
    """May ``who`` (None: anonymous) do ``permission`` on a resource with
    ``acl`` owned by ``owner``?  Its owner may always read and write its
    ACL, as on S3; FULL_CONTROL includes every permission."""
    if who is not None and who == owner and permission in (READ_ACP, WRITE_ACP):
        return True
    for grant in effective(acl, owner):
        if grant.permission not in (permission, FULL_CONTROL):
            continue
        if grant.kind == "id":
            if who is not None and grant.grantee == who:
                return True
        elif not ignore_public and (
            grant.grantee == ALL_USERS
            or (grant.grantee == AUTHENTICATED_USERS and who is not None)
        ):
            return True
    return False


# The permission an action needs, and whether the object's ACL (rather
# than the bucket's) grants it — S3's mapping of ACL permissions to actions.
_BUCKET_PERMISSION = {
    "s3:ListBucket": READ,
    "s3:ListBucketVersions": READ,
    "s3:ListBucketMultipartUploads": READ,
    "s3:PutObject": WRITE,
    "s3:DeleteObject": WRITE,
    "s3:AbortMultipartUpload": WRITE,
    "s3:ListMultipartUploadParts": WRITE,
    "s3:GetBucketAcl": READ_ACP,
    "s3:PutBucketAcl": WRITE_ACP,
}
_OBJECT_PERMISSION = {
    "s3:GetObject": READ,
    "s3:GetObjectAttributes": READ,
    "s3:GetObjectAcl": READ_ACP,
    "s3:PutObjectAcl": WRITE_ACP,
}


def acl_permission(action: str | None) -> tuple[str, bool] | None:
    """(permission, on the object?) an ACL must grant for ``action``; None
    if no ACL grants it (it is the owner's, or a policy's, to give)."""
    if action in _OBJECT_PERMISSION:
        return _OBJECT_PERMISSION[action], True
    if action in _BUCKET_PERMISSION:
        return _BUCKET_PERMISSION[action], False
    return None


def acl_xml(owner: str, acl: ACL) -> bytes:
    """GetBucketAcl / GetObjectAcl's AccessControlPolicy."""
    root = etree.Element("AccessControlPolicy", nsmap={None: NS, "xsi": _XSI})
    _user(etree.SubElement(root, "Owner"), owner)
    grants = etree.SubElement(root, "AccessControlList")
    for grant in effective(acl, owner):
        el = etree.SubElement(grants, "Grant")
        grantee = etree.SubElement(el, "Grantee")
        if grant.kind == "id":
            grantee.set(f"{{{_XSI}}}type", "CanonicalUser")
            _user(grantee, grant.grantee)
        else:
            grantee.set(f"{{{_XSI}}}type", "Group")
            etree.SubElement(grantee, "URI").text = grant.grantee
        etree.SubElement(el, "Permission").text = grant.permission
    return _DECL + etree.tostring(root, encoding="UTF-8")


def _user(parent: etree._Element, user: str) -> None:
    etree.SubElement(parent, "ID").text = xml_safe(user)
    etree.SubElement(parent, "DisplayName").text = xml_safe(user)


def _malformed() -> S3Error:
    return S3Error("MalformedACLError")


def _children(el: etree._Element, name: str | None = None) -> list[etree._Element]:
    return [
        c
        for c in el
        if isinstance(c.tag, str) and (name is None or etree.QName(c).localname == name)
    ]


def _one_text(el: etree._Element, name: str) -> str | None:
    found = _children(el, name)
    if len(found) > 1:
        raise _malformed()
    return None if not found else (found[0].text or "").strip()


def parse_acl_xml(body: bytes) -> tuple[str | None, ACL]:
    """An AccessControlPolicy body: (the Owner ID it names, its grants)."""
    try:
        root = parse_document(body, "AccessControlPolicy")
    except S3Error:
        raise _malformed() from None
    owner = None
    owners = _children(root, "Owner")
    if len(owners) > 1:
        raise _malformed()
    if owners:
        owner = _one_text(owners[0], "ID")
    lists = _children(root, "AccessControlList")
    if len(lists) != 1:
        raise _malformed()
    grants = []
    for el in _children(lists[0]):
        if etree.QName(el).localname != "Grant":
            raise _malformed()
        permission = _one_text(el, "Permission")
        grantees = _children(el, "Grantee")
        if permission not in PERMISSIONS or len(grantees) != 1:
            raise _malformed()
        grantee = grantees[0]
        kind = grantee.get(f"{{{_XSI}}}type")
        if kind == "CanonicalUser":
            grants.append(_grant("id", _one_text(grantee, "ID") or "", permission))
        elif kind == "Group":
            grants.append(_grant("uri", _one_text(grantee, "URI") or "", permission))
        elif kind == "AmazonCustomerByEmail":
            email = _one_text(grantee, "EmailAddress") or ""
            grants.append(_grant("emailAddress", email, permission))
        else:
            raise _malformed()
    return owner, tuple(grants)


def normalise(acl: ACL, owner: str) -> ACL:
    """What to store for ``acl``: ``()`` when it is just the default."""
    return () if acl == effective((), owner) else acl
