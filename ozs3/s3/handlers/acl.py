"""Get/Put Bucket/Object ACL, the ACL a write asks for (canned or granted
in headers), and the ownership controls that decide whether ACLs count.

A bucket's ownership and grants are one setting (``BUCKET_ACL``); an
object's grants ride in its metadata.  Under BucketOwnerEnforced (every
bucket's default here, and the only way on an Ozone cluster) ACLs are
disabled: only ACLs granting the bucket owner FULL_CONTROL alone are
accepted, nothing is stored, and the owner is shown with FULL_CONTROL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ...storage.errors import NotSupported
from ...storage.model import BUCKET_ACL, BucketInfo, KeyInfo
from ..acl import (
    ACL,
    acl_xml,
    asks_for_acl,
    decode,
    is_public,
    normalise,
    owner_only,
    parse_acl_xml,
    requested,
)
from ..bucket_access import (
    DEFAULT_CONTROL,
    ENFORCED,
    NO_CONTROLS,
    PREFERRED,
    BucketAccessControl,
    encode_control,
    ownership_xml,
    parse_ownership,
)
from ..context import Call, S3Response
from ..errors import S3Error
from .bucket import XML, bucket_of

if TYPE_CHECKING:
    from ..app import S3Gateway


async def access_control(
    gw: S3Gateway, bucket: str, bucket_id: int | None
) -> BucketAccessControl:
    """The bucket's ownership controls and ACL (cached; a store that keeps
    no bucket settings has the default)."""
    control = await gw.bucket_acls.get(bucket, bucket_id)
    return DEFAULT_CONTROL if control is None else control


async def _set_control(gw: S3Gateway, call: Call, control: BucketAccessControl) -> None:
    bucket = bucket_of(call)
    text = None if control == DEFAULT_CONTROL else encode_control(control)
    await gw.store.set_bucket_setting(bucket, BUCKET_ACL, text, call.bucket_id(bucket))
    gw.bucket_acls.changed(bucket)


async def _check_grantees(gw: S3Gateway, acl: ACL, known: tuple[str, ...]) -> None:
    """Grants to users the OM does not know are S3's InvalidArgument (with
    security off any key works, so any id names a user)."""
    if not gw.config.security_enabled:
        return
    for grant in acl:
        if (
            grant.kind == "id"
            and grant.grantee not in known
            and await gw.store.get_s3_secret(grant.grantee) is None
        ):
            raise S3Error("InvalidArgument", "Invalid id")


async def _checked(
    gw: S3Gateway,
    call: Call,
    acl: ACL,
    control: BucketAccessControl,
    owner: str,
    bucket_owner: str,
) -> ACL:
    """What to store for ``acl`` asked on a resource of ``owner`` in a
    bucket with ``control``: ``()`` under BucketOwnerEnforced (after
    refusing anything else than the owner's FULL_CONTROL), else the grants
    once the public access block and the grantees are checked."""
    if not control.acls_enabled:
        if not owner_only(acl, bucket_owner):
            raise S3Error("AccessControlListNotSupported")
        return ()
    if is_public(acl):
        bucket = bucket_of(call)
        block = await gw.public_access.get(bucket, call.bucket_id(bucket))
        if block is not None and block.block_public_acls:
            raise S3Error("AccessDenied")
    await _check_grantees(gw, acl, (owner, bucket_owner))
    return normalise(acl, owner)


async def object_acl_for_write(gw: S3Gateway, call: Call, bucket: str) -> ACL:
    """The grants a PutObject, CopyObject, CreateMultipartUpload or POST
    form asks for its new object (owned by ``call.access_key``), checked;
    ``()`` if none.  Costs nothing unless ACL headers are sent."""
    get = call.headers.get
    if not asks_for_acl(get):
        return ()
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    control = await access_control(gw, bucket, info.id)
    acl = requested(get, call.access_key, info.owner, False)
    assert acl is not None
    return await _checked(gw, call, acl, control, call.access_key, info.owner)


def writer_owns(
    control: BucketAccessControl, get_header: Callable[[str], str | None]
) -> bool:
    """Does an object a non-owner writes belong to them (ObjectWriter, or
    BucketOwnerPreferred without bucket-owner-full-control) rather than to
    the bucket's owner?"""
    if control.ownership == ENFORCED:
        return False
    if control.ownership == PREFERRED:
        return get_header("x-amz-acl") != "bucket-owner-full-control"
    return True


def _asked(call: Call, owner: str, bucket_owner: str, for_bucket: bool) -> ACL:
    """A Put*Acl's ACL: from its headers or its AccessControlPolicy body,
    never both."""
    from_headers = requested(call.headers.get, owner, bucket_owner, for_bucket)
    body = call.body.strip()
    if from_headers is not None and body:
        raise S3Error("UnexpectedContent")
    if from_headers is not None:
        return from_headers
    if not body:
        raise S3Error("MalformedACLError")
    named_owner, acl = parse_acl_xml(body)
    if named_owner is not None and named_owner != owner:
        # An ACL cannot give a resource away (S3 and RGW refuse it).
        raise S3Error("AccessDenied")
    return acl


async def get_bucket_acl(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    control = await access_control(gw, bucket, info.id)
    grants = control.grants if control.acls_enabled else ()
    return S3Response(200, dict(XML), acl_xml(info.owner, grants))


async def put_bucket_acl(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    control = await access_control(gw, bucket, info.id)
    acl = _asked(call, info.owner, info.owner, True)
    grants = await _checked(gw, call, acl, control, info.owner, info.owner)
    if grants != control.grants:
        await _set_control(gw, call, attrs.evolve(control, grants=grants))
    return S3Response(200)


async def _object_acl_facts(
    gw: S3Gateway, call: Call
) -> tuple[BucketInfo, KeyInfo, BucketAccessControl]:
    """The request's bucket, its key (NoSuchKey if none) and the bucket's
    ownership controls and ACL."""
    bucket = bucket_of(call)
    assert call.s3.key is not None
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    key = await gw.store.lookup_key(bucket, call.s3.key, info.id, head=True)
    return info, key, await access_control(gw, bucket, info.id)


async def get_object_acl(gw: S3Gateway, call: Call) -> S3Response:
    info, key, control = await _object_acl_facts(gw, call)
    if not control.acls_enabled:
        return S3Response(200, dict(XML), acl_xml(info.owner, ()))
    return S3Response(200, dict(XML), acl_xml(key.owner, decode(key.meta.acl)))


async def put_object_acl(gw: S3Gateway, call: Call) -> S3Response:
    info, key, control = await _object_acl_facts(gw, call)
    owner = key.owner if control.acls_enabled else info.owner
    acl = _asked(call, owner, info.owner, False)
    grants = await _checked(gw, call, acl, control, owner, info.owner)
    if control.acls_enabled:
        await gw.store.set_key_acl(info.name, key.key, grants, info.id)
    return S3Response(200)


async def get_ownership_controls(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    control = await access_control(gw, bucket, info.id)
    if control.ownership == NO_CONTROLS:
        raise S3Error("OwnershipControlsNotFoundError", extra={"BucketName": bucket})
    return S3Response(200, dict(XML), ownership_xml(control.ownership))


async def put_ownership_controls(gw: S3Gateway, call: Call) -> S3Response:
    value = parse_ownership(call.body)
    await _change_ownership(gw, call, value)
    return S3Response(200)


async def delete_ownership_controls(gw: S3Gateway, call: Call) -> S3Response:
    await _change_ownership(gw, call, NO_CONTROLS)
    return S3Response(204)


async def _change_ownership(gw: S3Gateway, call: Call, value: str) -> None:
    bucket = bucket_of(call)
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    control = await access_control(gw, bucket, info.id)
    if value == ENFORCED and not owner_only(control.grants, info.owner):
        # S3: a bucket ACL granting others must go before ACLs are disabled.
        raise S3Error("InvalidBucketAclWithObjectOwnership")
    if value != control.ownership:
        await _set_control(gw, call, attrs.evolve(control, ownership=value))


async def create_bucket_control(
    gw: S3Gateway, call: Call, ownership: str | None
) -> BucketAccessControl:
    """The ownership and ACL a CreateBucket asks for (checked, before the
    bucket is made).  Asking for grants without ``x-amz-object-ownership``
    gives ObjectWriter, S3's behaviour before 2023 and RGW's, which the
    clients and conformance suites that send them expect (S3 today answers
    InvalidBucketAclWithObjectOwnership)."""
    me = call.access_key
    acl = requested(call.headers.get, me, me, True) or ()
    if ownership is None:
        ownership = ENFORCED if owner_only(acl, me) else "ObjectWriter"
    elif ownership == ENFORCED and not owner_only(acl, me):
        raise S3Error("InvalidBucketAclWithObjectOwnership")
    await _check_grantees(gw, acl, (me,))
    return BucketAccessControl(ownership, normalise(acl, me))


async def keep_created_control(
    gw: S3Gateway, call: Call, control: BucketAccessControl
) -> None:
    """Store a new bucket's ownership and ACL; on a store that keeps no
    bucket settings, the bucket is removed again and the request is 501
    (never a bucket made without what was asked)."""
    if control == DEFAULT_CONTROL:
        return
    try:
        await _set_control(gw, call, control)
    except NotSupported:
        bucket = bucket_of(call)
        await gw.store.delete_bucket(bucket, call.bucket_id(bucket))
        raise
