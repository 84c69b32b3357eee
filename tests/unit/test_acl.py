"""S3 ACLs, pure: canned ACLs, grant headers, the AccessControlPolicy XML
both ways, and who a grant lets in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozs3.s3.acl import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    CANNED,
    FULL_CONTROL,
    LOG_DELIVERY,
    PERMISSIONS,
    READ,
    READ_ACP,
    WRITE,
    WRITE_ACP,
    Grant,
    acl_permission,
    acl_xml,
    allows,
    canned,
    effective,
    is_public,
    normalise,
    owner_only,
    parse_acl_xml,
    requested,
)
from ozs3.s3.errors import S3Error

users = st.sampled_from(["alice", "bob", "carol"])
grants = st.lists(
    st.one_of(
        st.builds(Grant, st.just("id"), users, st.sampled_from(PERMISSIONS)),
        st.builds(
            Grant,
            st.just("uri"),
            st.sampled_from([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]),
            st.sampled_from(PERMISSIONS),
        ),
    ),
    max_size=6,
).map(tuple)


def code(e: pytest.ExceptionInfo[S3Error]) -> str:
    return e.value.code


def test_canned_acls_expand_as_s3_documents() -> None:
    mine = Grant("id", "alice", FULL_CONTROL)
    assert canned("private", "alice", "bob", False) == ()
    assert canned("public-read", "alice", "bob", False) == (
        mine, Grant("uri", ALL_USERS, READ),
    )  # fmt: skip
    assert canned("public-read-write", "alice", "bob", True) == (
        mine, Grant("uri", ALL_USERS, READ), Grant("uri", ALL_USERS, WRITE),
    )  # fmt: skip
    assert canned("authenticated-read", "alice", "bob", False)[1] == Grant(
        "uri", AUTHENTICATED_USERS, READ
    )
    assert canned("bucket-owner-read", "alice", "bob", False) == (
        mine, Grant("id", "bob", READ),
    )  # fmt: skip
    assert canned("bucket-owner-full-control", "alice", "bob", False) == (
        mine, Grant("id", "bob", FULL_CONTROL),
    )  # fmt: skip
    # The bucket owner writing: nothing beyond the default.
    assert canned("bucket-owner-full-control", "bob", "bob", False) == ()
    assert canned("log-delivery-write", "bob", "bob", True) == (
        Grant("id", "bob", FULL_CONTROL),
        Grant("uri", LOG_DELIVERY, WRITE),
        Grant("uri", LOG_DELIVERY, READ_ACP),
    )
    with pytest.raises(S3Error) as e:
        canned("everyone", "a", "b", False)
    assert code(e) == "InvalidArgument"


def test_grant_headers() -> None:
    headers = {
        "x-amz-grant-read": f'id="bob", uri="{ALL_USERS}"',
        "x-amz-grant-write-acp": "id=carol",
    }
    assert requested(headers.get, "alice", "alice", False) == (
        Grant("id", "bob", READ),
        Grant("uri", ALL_USERS, READ),
        Grant("id", "carol", WRITE_ACP),
    )
    assert requested({}.get, "alice", "alice", False) is None
    for bad, expected in (
        (
            {"x-amz-grant-read": 'emailAddress="a@b.c"'},
            "UnresolvableGrantByEmailAddress",
        ),
        ({"x-amz-grant-read": 'uri="http://example.com/x"'}, "InvalidArgument"),
        ({"x-amz-grant-read": "nonsense"}, "InvalidArgument"),
        ({"x-amz-grant-read": 'id=""'}, "InvalidArgument"),
        ({"x-amz-acl": "private", "x-amz-grant-read": "id=bob"}, "InvalidRequest"),
    ):
        with pytest.raises(S3Error) as e:
            requested(bad.get, "alice", "alice", False)
        assert code(e) == expected, bad


@given(grants, users)
def test_acl_xml_round_trips(acl: tuple[Grant, ...], owner: str) -> None:
    named, parsed = parse_acl_xml(acl_xml(owner, acl))
    assert named == owner
    assert parsed == effective(acl, owner)
    assert normalise(parsed, owner) == normalise(acl, owner)


@given(grants, users, st.one_of(st.none(), users), st.sampled_from(PERMISSIONS[1:]))
def test_who_a_grant_lets_in(
    acl: tuple[Grant, ...], owner: str, who: str | None, permission: str
) -> None:
    got = allows(acl, owner, who, permission)
    expected = any(
        g.permission in (permission, FULL_CONTROL)
        and (
            (g.kind == "id" and g.grantee == who)
            or g.grantee == ALL_USERS
            or (g.grantee == AUTHENTICATED_USERS and who is not None)
        )
        for g in effective(acl, owner)
    ) or (who == owner and permission in (READ_ACP, WRITE_ACP))
    assert got == expected
    # IgnorePublicAcls: the groups let nobody in.
    ignoring = allows(acl, owner, who, permission, ignore_public=True)
    assert ignoring == (
        any(
            g.kind == "id"
            and g.grantee == who
            and g.permission in (permission, FULL_CONTROL)
            for g in effective(acl, owner)
        )
        or (who == owner and permission in (READ_ACP, WRITE_ACP))
    )
    assert not ignoring or got


def test_public_and_owner_only() -> None:
    assert is_public(canned("public-read", "a", "a", False))
    assert is_public(canned("authenticated-read", "a", "a", False))
    assert not is_public(canned("log-delivery-write", "a", "a", True))
    assert owner_only((), "a")
    assert owner_only((Grant("id", "a", FULL_CONTROL),), "a")
    assert not owner_only((Grant("id", "a", READ),), "a")
    assert not owner_only(canned("bucket-owner-full-control", "b", "a", False), "a")
    for name in CANNED:
        acl = canned(name, "a", "a", True)
        assert owner_only(acl, "a") == (name in (
            "private", "bucket-owner-read", "bucket-owner-full-control", "aws-exec-read"
        ))  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        b"<AccessControlPolicy/>",
        b"<Nope/>",
        b"not xml",
        b"<AccessControlPolicy><AccessControlList><Grant><Permission>READ"
        b"</Permission></Grant></AccessControlList></AccessControlPolicy>",
        b'<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<AccessControlList><Grant><Grantee xsi:type="CanonicalUser"><ID>a</ID>'
        b"</Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList>"
        b"</AccessControlPolicy>",
        b'<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<AccessControlList><Grant><Grantee xsi:type="Robot"><ID>a</ID>'
        b"</Grantee><Permission>READ</Permission></Grant></AccessControlList>"
        b"</AccessControlPolicy>",
    ],
)
def test_malformed_acl_bodies(body: bytes) -> None:
    with pytest.raises(S3Error) as e:
        parse_acl_xml(body)
    assert code(e) == "MalformedACLError"


def test_email_grantees_are_unresolvable() -> None:
    body = (
        b'<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<AccessControlList><Grant><Grantee xsi:type="AmazonCustomerByEmail">'
        b"<EmailAddress>a@b.c</EmailAddress></Grantee><Permission>READ</Permission>"
        b"</Grant></AccessControlList></AccessControlPolicy>"
    )
    with pytest.raises(S3Error) as e:
        parse_acl_xml(body)
    assert code(e) == "UnresolvableGrantByEmailAddress"


def test_actions_map_to_acl_permissions() -> None:
    assert acl_permission("s3:GetObject") == (READ, True)
    assert acl_permission("s3:ListBucket") == (READ, False)
    assert acl_permission("s3:PutObject") == (WRITE, False)
    assert acl_permission("s3:PutObjectAcl") == (WRITE_ACP, True)
    assert acl_permission("s3:GetBucketAcl") == (READ_ACP, False)
    assert acl_permission("s3:PutBucketPolicy") is None
    assert acl_permission(None) is None
