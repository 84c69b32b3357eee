"""S3 ACLs on the real gateway process, security on, with three users and
anonymous callers (boto3 signed and unsigned): canned ACLs and grant
headers on every write that takes them, AccessControlPolicy bodies,
Get/Put Bucket/Object ACL returning exactly what was put, enforcement
(who may list, read, write, read and write ACLs), the ownership controls
that enable ACLs or disable them, and the public access block's ACL
flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import user
from tests.integration.test_bucket_policy import refused
from tests.integration.test_security import secure_gateway
from tests.support.gateway import GatewayProcess

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "acl")


@pytest.fixture(scope="module")
def owner(gw: GatewayProcess) -> Any:
    return user(gw, "aowner")


def user_grant(who: str, permission: str) -> dict[str, Any]:
    return {
        "Grantee": {"Type": "CanonicalUser", "ID": who, "DisplayName": who},
        "Permission": permission,
    }


def group_grant(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def grants(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return list(answer["Grants"])


def read(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]


def test_public_read_bucket_and_objects(owner: Any, mate: Any, anonymous: Any) -> None:
    # The first try: create-bucket --acl public-read.
    owner.create_bucket(Bucket="acl-public", ACL="public-read")
    got = owner.get_bucket_acl(Bucket="acl-public")
    assert got["Owner"]["ID"] == "aowner"
    assert grants(got) == [
        user_grant("aowner", "FULL_CONTROL"), group_grant(ALL_USERS, "READ"),
    ]  # fmt: skip
    # Asking for grants without ownership controls enabled ACLs (ObjectWriter).
    controls = owner.get_bucket_ownership_controls(Bucket="acl-public")
    assert controls["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]
    owner.put_object(Bucket="acl-public", Key="open", Body=b"open", ACL="public-read")
    owner.put_object(Bucket="acl-public", Key="closed", Body=b"closed")
    assert grants(owner.get_object_acl(Bucket="acl-public", Key="open")) == [
        user_grant("aowner", "FULL_CONTROL"), group_grant(ALL_USERS, "READ"),
    ]  # fmt: skip
    assert grants(owner.get_object_acl(Bucket="acl-public", Key="closed")) == [
        user_grant("aowner", "FULL_CONTROL")
    ]
    # Anyone may list (bucket READ) and read the public object, not the other.
    for s3 in (anonymous, mate):
        listed = s3.list_objects_v2(Bucket="acl-public")["Contents"]
        assert [o["Key"] for o in listed] == ["closed", "open"]
        assert read(s3, "acl-public", "open") == b"open"
        assert refused(s3.get_object, Bucket="acl-public", Key="closed") == (
            "AccessDenied", 403,
        )  # fmt: skip
        # READ is not WRITE, nor READ_ACP.
        assert refused(s3.put_object, Bucket="acl-public", Key="x", Body=b"x") == (
            "AccessDenied", 403,
        )  # fmt: skip
        assert refused(s3.get_bucket_acl, Bucket="acl-public")[1] == 403
        assert refused(s3.get_object_acl, Bucket="acl-public", Key="open")[1] == 403
    # Bucket READ: a missing key is 404 to a reader, as on S3.
    assert refused(anonymous.get_object, Bucket="acl-public", Key="nope")[1] == 404
    assert refused(anonymous.head_object, Bucket="acl-public", Key="x")[1] == 404
    # Made private again: the public object is closed at once.
    owner.put_object_acl(Bucket="acl-public", Key="open", ACL="private")
    assert refused(anonymous.get_object, Bucket="acl-public", Key="open")[1] == 403
    owner.put_bucket_acl(Bucket="acl-public", ACL="private")
    assert refused(anonymous.list_objects_v2, Bucket="acl-public")[1] == 403
    assert read(owner, "acl-public", "open") == b"open"


def test_grants_by_header_to_a_teammate(owner: Any, mate: Any, eve: Any) -> None:
    owner.create_bucket(Bucket="acl-team", ObjectOwnership="ObjectWriter")
    owner.put_object(Bucket="acl-team", Key="doc", Body=b"doc")
    owner.put_bucket_acl(Bucket="acl-team", GrantRead="id=mate")
    # Exactly the grants put: the owner is not added back.
    assert grants(owner.get_bucket_acl(Bucket="acl-team")) == [
        user_grant("mate", "READ")
    ]
    assert [o["Key"] for o in mate.list_objects_v2(Bucket="acl-team")["Contents"]] == [
        "doc"
    ]
    assert refused(eve.list_objects_v2, Bucket="acl-team")[1] == 403
    assert refused(mate.put_object, Bucket="acl-team", Key="m", Body=b"m")[1] == 403
    # Bucket READ does not read objects: their own ACL does.
    assert refused(mate.get_object, Bucket="acl-team", Key="doc")[1] == 403
    owner.put_object_acl(Bucket="acl-team", Key="doc", GrantRead='id="mate"')
    assert read(mate, "acl-team", "doc") == b"doc"
    assert refused(eve.get_object, Bucket="acl-team", Key="doc")[1] == 403
    # WRITE: the teammate writes, and owns what it writes (ObjectWriter).
    owner.put_bucket_acl(
        Bucket="acl-team", GrantRead="id=mate", GrantWrite="id=mate",
        GrantReadACP="id=mate",
    )  # fmt: skip
    mate.put_object(Bucket="acl-team", Key="mine", Body=b"mine")
    listed = {
        o["Key"]: o["Owner"]["ID"]
        for o in owner.list_objects_v2(Bucket="acl-team", FetchOwner=True)["Contents"]
    }
    assert listed == {"doc": "aowner", "mine": "mate"}
    mine_acl = mate.get_object_acl(Bucket="acl-team", Key="mine")
    assert mine_acl["Owner"]["ID"] == "mate"
    assert grants(mine_acl) == [user_grant("mate", "FULL_CONTROL")]
    assert read(owner, "acl-team", "mine") == b"mine"  # the bucket's owner may
    assert refused(eve.get_object, Bucket="acl-team", Key="mine")[1] == 403
    # READ_ACP, not WRITE_ACP.
    assert len(grants(mate.get_bucket_acl(Bucket="acl-team"))) == 3
    assert refused(mate.put_bucket_acl, Bucket="acl-team", ACL="public-read") == (
        "AccessDenied", 403,
    )  # fmt: skip
    # The teammate deletes with WRITE, one key and many.
    mate.delete_object(Bucket="acl-team", Key="mine")
    mate.put_object(Bucket="acl-team", Key="m2", Body=b"m2")
    gone = mate.delete_objects(Bucket="acl-team", Delete={"Objects": [{"Key": "m2"}]})
    assert [d["Key"] for d in gone["Deleted"]] == ["m2"]
    assert refused(
        eve.delete_object, Bucket="acl-team", Key="doc"
    )[1] == 403  # fmt: skip
    assert read(owner, "acl-team", "doc") == b"doc"


def test_bad_grants_are_refused_and_change_nothing(owner: Any) -> None:
    owner.create_bucket(Bucket="acl-bad", ObjectOwnership="ObjectWriter")
    owner.put_object(Bucket="acl-bad", Key="k", Body=b"k")
    cases = [
        (
            {"GrantRead": 'emailAddress="x@example.com"'},
            "UnresolvableGrantByEmailAddress",
        ),
        ({"GrantRead": "id=nobody-at-all"}, "InvalidArgument"),
        ({"GrantRead": 'uri="http://example.com/everyone"'}, "InvalidArgument"),
        ({"ACL": "public-read", "GrantRead": "id=mate"}, "InvalidRequest"),
    ]
    for args, code in cases:
        assert refused(owner.put_object_acl, Bucket="acl-bad", Key="k", **args) == (
            code, 400,
        ), args  # fmt: skip
        assert refused(
            owner.put_object, Bucket="acl-bad", Key="new", Body=b"n", **args
        ) == (code, 400), args  # fmt: skip
    assert refused(owner.head_object, Bucket="acl-bad", Key="new")[1] == 404
    assert grants(owner.get_object_acl(Bucket="acl-bad", Key="k")) == [
        user_grant("aowner", "FULL_CONTROL")
    ]
    # An AccessControlPolicy must not give the object away or be malformed.
    policy = {
        "Owner": {"ID": "mate"},
        "Grants": [user_grant("mate", "FULL_CONTROL")],
    }
    assert refused(
        owner.put_object_acl, Bucket="acl-bad", Key="k", AccessControlPolicy=policy
    ) == ("AccessDenied", 403)  # fmt: skip
    bad = {"Owner": {"ID": "aowner"}, "Grants": [user_grant("mate", "EVERYTHING")]}
    assert refused(
        owner.put_object_acl, Bucket="acl-bad", Key="k", AccessControlPolicy=bad
    ) == ("MalformedACLError", 400)  # fmt: skip


def test_access_control_policy_bodies(owner: Any, mate: Any, anonymous: Any) -> None:
    owner.create_bucket(Bucket="acl-xml")
    owner.put_bucket_ownership_controls(
        Bucket="acl-xml",
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    )
    owner.put_object(Bucket="acl-xml", Key="k", Body=b"k")
    wanted = [
        user_grant("aowner", "FULL_CONTROL"),
        user_grant("mate", "READ"),
        group_grant(AUTHENTICATED, "READ"),
    ]
    owner.put_object_acl(
        Bucket="acl-xml", Key="k",
        AccessControlPolicy={"Owner": {"ID": "aowner"}, "Grants": wanted},
    )  # fmt: skip
    assert grants(owner.get_object_acl(Bucket="acl-xml", Key="k")) == wanted
    assert read(mate, "acl-xml", "k") == b"k"  # by id, and as authenticated
    assert refused(anonymous.get_object, Bucket="acl-xml", Key="k")[1] == 403
    # BucketOwnerPreferred: the bucket owner owns what is written with
    # bucket-owner-full-control, the writer what is written without.
    owner.put_bucket_acl(Bucket="acl-xml", GrantWrite="id=mate")
    mate.put_object(
        Bucket="acl-xml", Key="given", Body=b"g", ACL="bucket-owner-full-control"
    )
    mate.put_object(Bucket="acl-xml", Key="kept", Body=b"k")
    owners = {
        o["Key"]: o["Owner"]["ID"]
        for o in owner.list_objects_v2(Bucket="acl-xml", FetchOwner=True)["Contents"]
    }
    assert owners == {"given": "aowner", "k": "aowner", "kept": "mate"}


def test_bucket_owner_enforced_disables_acls(
    owner: Any, mate: Any, anonymous: Any
) -> None:
    owner.create_bucket(Bucket="acl-enforced")
    got = owner.get_bucket_ownership_controls(Bucket="acl-enforced")
    assert got["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    # Only what BucketOwnerEnforced means is accepted.
    owner.put_object(Bucket="acl-enforced", Key="a", Body=b"a", ACL="private")
    owner.put_object(
        Bucket="acl-enforced", Key="b", Body=b"b", ACL="bucket-owner-full-control"
    )
    for call, args in (
        (owner.put_object, {"Key": "c", "Body": b"c", "ACL": "public-read"}),
        (owner.put_object_acl, {"Key": "a", "ACL": "public-read"}),
        (owner.put_object_acl, {"Key": "a", "GrantRead": "id=mate"}),
        (owner.put_bucket_acl, {"ACL": "public-read"}),
        (owner.create_multipart_upload, {"Key": "m", "ACL": "authenticated-read"}),
        (owner.copy_object, {"Key": "c", "CopySource": "acl-enforced/a",
                             "ACL": "public-read"}),
    ):  # fmt: skip
        assert refused(call, Bucket="acl-enforced", **args) == (
            "AccessControlListNotSupported", 400,
        ), args  # fmt: skip
    assert refused(owner.head_object, Bucket="acl-enforced", Key="c")[1] == 404
    owner.put_bucket_acl(Bucket="acl-enforced", ACL="private")
    assert grants(owner.get_bucket_acl(Bucket="acl-enforced")) == [
        user_grant("aowner", "FULL_CONTROL")
    ]
    # S3's refusal of a bucket asking for both.
    assert refused(
        owner.create_bucket, Bucket="acl-both", ACL="public-read",
        ObjectOwnership="BucketOwnerEnforced",
    ) == ("InvalidBucketAclWithObjectOwnership", 400)  # fmt: skip
    assert refused(owner.head_bucket, Bucket="acl-both")[1] == 404
    # ACLs on, a public object; enforcing again needs the bucket ACL private
    # first, and then object ACLs count for nothing.
    owner.create_bucket(Bucket="acl-switch", ACL="public-read")
    owner.put_object(Bucket="acl-switch", Key="p", Body=b"p", ACL="public-read")
    assert read(anonymous, "acl-switch", "p") == b"p"
    enforce = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert refused(
        owner.put_bucket_ownership_controls, Bucket="acl-switch",
        OwnershipControls=enforce,
    ) == ("InvalidBucketAclWithObjectOwnership", 400)  # fmt: skip
    owner.put_bucket_acl(Bucket="acl-switch", ACL="private")
    owner.put_bucket_ownership_controls(Bucket="acl-switch", OwnershipControls=enforce)
    assert refused(anonymous.get_object, Bucket="acl-switch", Key="p")[1] == 403
    assert grants(owner.get_object_acl(Bucket="acl-switch", Key="p")) == [
        user_grant("aowner", "FULL_CONTROL")
    ]
    # Without controls: ACLs count again (ObjectWriter), Get says there are none.
    owner.delete_bucket_ownership_controls(Bucket="acl-switch")
    assert refused(owner.get_bucket_ownership_controls, Bucket="acl-switch") == (
        "OwnershipControlsNotFoundError", 404,
    )  # fmt: skip
    assert read(anonymous, "acl-switch", "p") == b"p"
    # Only the owner manages them.
    assert refused(mate.get_bucket_ownership_controls, Bucket="acl-switch")[1] == 403
    assert refused(
        mate.put_bucket_ownership_controls, Bucket="acl-switch",
        OwnershipControls=enforce,
    )[1] == 403  # fmt: skip


def test_public_access_block_acl_flags(owner: Any, anonymous: Any) -> None:
    owner.create_bucket(Bucket="acl-blocked", ObjectOwnership="ObjectWriter")
    owner.put_object(Bucket="acl-blocked", Key="p", Body=b"p", ACL="public-read")
    assert read(anonymous, "acl-blocked", "p") == b"p"
    owner.put_public_access_block(
        Bucket="acl-blocked",
        PublicAccessBlockConfiguration={"IgnorePublicAcls": True},
    )
    assert refused(anonymous.get_object, Bucket="acl-blocked", Key="p")[1] == 403
    owner.put_public_access_block(
        Bucket="acl-blocked",
        PublicAccessBlockConfiguration={"BlockPublicAcls": True},
    )
    assert read(anonymous, "acl-blocked", "p") == b"p"  # no longer ignored
    assert refused(
        owner.put_object, Bucket="acl-blocked", Key="q", Body=b"q", ACL="public-read"
    ) == ("AccessDenied", 403)  # fmt: skip
    assert (
        refused(owner.put_bucket_acl, Bucket="acl-blocked", ACL="public-read")[1] == 403
    )
    assert refused(owner.head_object, Bucket="acl-blocked", Key="q")[1] == 404
    owner.put_object(Bucket="acl-blocked", Key="q", Body=b"q", GrantRead="id=mate")


def test_multipart_and_copy_take_the_requests_acl(owner: Any, anonymous: Any) -> None:
    owner.create_bucket(Bucket="acl-mp", ObjectOwnership="ObjectWriter")
    up = owner.create_multipart_upload(Bucket="acl-mp", Key="mp", ACL="public-read")
    part = owner.upload_part(
        Bucket="acl-mp", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"m" * 10
    )
    owner.complete_multipart_upload(
        Bucket="acl-mp", Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    assert read(anonymous, "acl-mp", "mp") == b"m" * 10
    # A copy never inherits its source's ACL: the request's, else private.
    owner.copy_object(Bucket="acl-mp", Key="private-copy", CopySource="acl-mp/mp")
    assert refused(anonymous.get_object, Bucket="acl-mp", Key="private-copy")[1] == 403
    owner.put_object(Bucket="acl-mp", Key="src", Body=b"s")
    owner.copy_object(
        Bucket="acl-mp", Key="open-copy", CopySource="acl-mp/src", ACL="public-read"
    )
    assert read(anonymous, "acl-mp", "open-copy") == b"s"
    # Anonymous copies need READ on the source too.
    owner.put_bucket_acl(Bucket="acl-mp", ACL="public-read-write")
    anonymous.copy_object(Bucket="acl-mp", Key="anon", CopySource="acl-mp/open-copy")
    assert refused(
        anonymous.copy_object, Bucket="acl-mp", Key="anon2", CopySource="acl-mp/src"
    )[1] == 403  # fmt: skip
    info = owner.get_object_acl(Bucket="acl-mp", Key="anon")
    assert info["Owner"]["ID"] == "aowner"  # anonymous writes: the bucket owner's
