"""Bucket policies (pure): validation with S3's MalformedPolicy messages,
and evaluation (explicit deny wins, principals, action and resource
wildcards, condition operators)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.policy import ALLOW, DENY, Condition, Policy, Request, evaluate
from ozs3.s3.policy_actions import action_of
from ozs3.s3.policy_json import decode_policy, parse_policy

BUCKET = "photos"


def doc(*statements: dict[str, Any]) -> bytes:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}).encode()


def stmt(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy(doc(*statements), BUCKET)


def get(key: str = "a.jpg", who: str | None = None, **context: str) -> Request:
    return Request(who, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}", context)


def refusal(body: bytes, bucket: str = BUCKET) -> str:
    with pytest.raises(S3Error) as e:
        parse_policy(body, bucket)
    assert e.value.code == "MalformedPolicy"
    return e.value.message


# --- validation ------------------------------------------------------------


@pytest.mark.parametrize(
    "body, message",
    [
        (b"[1]", "Policies must be valid JSON and the first byte must be '{'"),
        (b"  not json", "Policies must be valid JSON and the first byte must be '{'"),
        (b"{", "This policy contains invalid Json"),
        (b'{"Statement": [], "Statement": []}', "This policy contains invalid Json"),
        (b'{"Version": "2012-10-17"}', "Missing required field Statement"),
        (b'{"Statement": []}', "Could not parse the policy: Statement is empty!"),
        (b'{"Statment": []}', "Unknown field Statment"),
        (b'{"Version": "2020-01-01", "Statement": []}', None),
        (doc(stmt(Effect=None)), "Missing required field Effect"),
        (doc(stmt(Effect="Maybe")), "Invalid effect: Maybe"),
        (doc(stmt(Principal=None)), "Missing required field Principal"),
        (
            doc(stmt(NotPrincipal="*")),
            "Statement cannot have both Principal and NotPrincipal",
        ),
        (doc(stmt(Principal={"Federated": "x"})), "Invalid principal in policy"),
        (doc(stmt(Principal={"AWS": []})), "Invalid principal in policy"),
        (doc(stmt(Action=None)), "Missing required field Action"),
        (doc(stmt(Action="s3:Fly")), "Policy has invalid action"),
        (doc(stmt(Action="iam:*")), "Policy has invalid action"),
        (doc(stmt(Resource=None)), "Missing required field Resource"),
        (doc(stmt(Resource="arn:aws:s3:::other/*")), "Policy has invalid resource"),
        (doc(stmt(Resource="photos/*")), "Policy has invalid resource"),
        (
            doc(stmt(Resource=f"arn:aws:s3:::{BUCKET}")),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            doc(stmt(Action="s3:ListBucket")),
            "Action does not apply to any resource(s) in statement",
        ),
        (doc(stmt(Extra=1)), "Unknown field Extra"),
        (
            doc(stmt(Condition={"StringEqualz": {"s3:prefix": "a"}})),
            "Invalid Condition type : StringEqualz",
        ),
        (
            doc(stmt(Condition={"StringEquals": {"s3:colour": "a"}})),
            "Policy has an invalid condition key",
        ),
    ],
)
def test_malformed_policies_get_s3s_messages(body: bytes, message: str | None) -> None:
    got = refusal(body)
    if message is not None:
        assert got == message
    else:
        assert got == "The policy must contain a valid version string"


def test_a_valid_policy_keeps_its_text_and_reads_back_the_same() -> None:
    body = doc(
        stmt(Sid="read", Principal={"AWS": ["arn:aws:iam::alice:root", "bob"]}),
        stmt(
            Effect="Deny",
            Action=["s3:List*"],
            Resource=f"arn:aws:s3:::{BUCKET}",
            Condition={"StringNotLikeIfExists": {"s3:prefix": "pub/*"}},
        ),
    )
    p = parse_policy(body, BUCKET)
    assert p.text == body.decode()
    assert p.statements[0].principals == ("alice", "bob")
    assert p.statements[1].conditions == (
        Condition("StringNotLike", "s3:prefix", ("pub/*",), if_exists=True),
    )
    assert decode_policy(p.text) == p


def test_wildcard_resources_and_actions_that_cover_the_bucket_are_valid() -> None:
    policy(stmt(Action="s3:*", Resource=["arn:aws:s3:::pho*"]))
    policy(stmt(Action="*", Resource="*"))
    policy(stmt(Action=["s3:ListBucket", "s3:GetObject"], Resource=[
        f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]))  # fmt: skip


def test_tag_condition_keys_keep_the_tags_case() -> None:
    p = policy(stmt(Condition={"StringEquals": {"s3:ExistingObjectTag/Team": "x"}}))
    assert p.statements[0].conditions[0].key == "s3:existingobjecttag/Team"
    assert p.needs_object_tags


# --- evaluation ------------------------------------------------------------


def test_anyone_means_anonymous_too_and_a_user_only_that_user() -> None:
    public = policy(stmt())
    assert evaluate(public, get()) == ALLOW
    assert evaluate(public, get(who="bob")) == ALLOW
    named = policy(stmt(Principal={"AWS": "alice"}))
    assert evaluate(named, get(who="alice")) == ALLOW
    assert evaluate(named, get(who="bob")) is None
    assert evaluate(named, get()) is None
    others = policy(stmt(Principal=None, NotPrincipal={"AWS": "alice"}))
    assert evaluate(others, get(who="bob")) == ALLOW
    assert evaluate(others, get(who="alice")) is None


@given(st.permutations(["allow-all", "deny-secret", "allow-alice"]))
def test_an_explicit_deny_wins_in_any_order(order: list[str]) -> None:
    statements = {
        "allow-all": stmt(),
        "deny-secret": stmt(Effect="Deny", Resource=f"arn:aws:s3:::{BUCKET}/secret/*"),
        "allow-alice": stmt(Principal={"AWS": "alice"}, Action="s3:*"),
    }
    p = policy(*(statements[name] for name in order))
    assert evaluate(p, get("secret/x", who="alice")) == DENY
    assert evaluate(p, get("public/x")) == ALLOW


def test_actions_match_case_insensitively_with_wildcards() -> None:
    p = policy(stmt(Action="S3:get*"))
    assert evaluate(p, get()) == ALLOW
    put = Request(None, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/a", {})
    assert evaluate(p, put) is None
    q = policy(stmt(Action="s3:?etObject"))
    assert evaluate(q, get()) == ALLOW


@given(st.text(alphabet="ab/*?.", max_size=8), st.text(alphabet="ab/.", max_size=8))
def test_resource_patterns_are_globs_with_star_and_question(
    pattern: str, key: str
) -> None:
    import re

    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    p = Policy((policy(stmt()).statements[0].__class__(
        ALLOW, ("*",), ("s3:getobject",), (f"arn:aws:s3:::{BUCKET}/{pattern}",)),))  # fmt: skip
    expected = re.fullmatch(regex, key, re.DOTALL) is not None
    assert (evaluate(p, get(key)) == ALLOW) == expected


def test_conditions_and_across_keys_or_across_values() -> None:
    p = policy(stmt(Condition={
        "StringEquals": {"aws:referer": ["https://a.example/", "https://b.example/"]},
        "IpAddress": {"aws:sourceip": "10.0.0.0/8"},
    }))  # fmt: skip
    ok = {"aws:referer": "https://b.example/", "aws:sourceip": "10.1.2.3"}
    assert evaluate(p, get(**ok)) == ALLOW
    assert evaluate(p, get(**{**ok, "aws:sourceip": "192.168.0.1"})) is None
    assert evaluate(p, get(**{**ok, "aws:referer": "https://c.example/"})) is None
    assert evaluate(p, get(**{"aws:sourceip": "10.1.2.3"})) is None  # no referer


@pytest.mark.parametrize(
    "operator, value, context, expected",
    [
        ("StringNotEquals", "x", {}, True),  # absent: a negated test holds
        ("StringEquals", "x", {}, False),
        ("StringEqualsIfExists", "x", {}, True),
        ("StringEqualsIfExists", "x", {"s3:prefix": "y"}, False),
        ("StringLike", "photos/*", {"s3:prefix": "photos/2024"}, True),
        ("StringNotLike", "photos/*", {"s3:prefix": "photos/2024"}, False),
        ("StringEqualsIgnoreCase", "ABC", {"s3:prefix": "abc"}, True),
        ("NumericLessThanEquals", "100", {"s3:max-keys": "100"}, True),
        ("NumericLessThan", "100", {"s3:max-keys": "100"}, False),
        ("NumericGreaterThan", "5", {"s3:max-keys": "not a number"}, False),
        ("Bool", "true", {"aws:securetransport": "false"}, False),
        ("Null", "true", {}, True),
        ("Null", "false", {}, False),
        ("NotIpAddress", "127.0.0.0/8", {"aws:sourceip": "127.0.0.1"}, False),
        ("NotIpAddress", "127.0.0.0/8", {"aws:sourceip": "::1"}, True),
    ],
)
def test_condition_operators(
    operator: str, value: str, context: dict[str, str], expected: bool
) -> None:
    key = next(iter(context), "s3:prefix")
    if operator == "Bool":
        key = "aws:securetransport"
    p = policy(stmt(Condition={operator: {key: value}}))
    assert (evaluate(p, get(**context)) == ALLOW) is expected


def test_public_is_an_allow_to_anyone_not_pinned_to_fixed_callers() -> None:
    assert policy(stmt()).is_public
    assert not policy(stmt(Principal={"AWS": "alice"})).is_public
    assert not policy(stmt(Effect="Deny")).is_public
    # Everyone but alice is the public too.
    assert policy(stmt(Principal=None, NotPrincipal={"AWS": "alice"})).is_public
    pinned = [
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"StringEquals": {"aws:userid": "alice"}},
        {"StringLike": {"aws:userid": ["alice", "bob"]}},
    ]
    for condition in pinned:
        assert not policy(stmt(Condition=condition)).is_public, condition
    # Conditions that do not pin who: still public (BlockPublicPolicy and
    # RestrictPublicBuckets must not be side-stepped by a token condition).
    loose = [
        {"StringLike": {"aws:Referer": "*"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"StringLike": {"aws:userid": "*"}},
        {"StringEqualsIfExists": {"aws:userid": "alice"}},
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    ]
    for condition in loose:
        assert policy(stmt(Condition=condition)).is_public, condition


def test_every_served_operation_on_a_bucket_has_an_action() -> None:
    from ozs3.s3.handlers import HANDLERS

    # PostObject is judged as the PutObject of its form's key.
    ungoverned = {
        "ListBuckets",
        "CreateBucket",
        "BucketBrowser",
        "PreflightRequest",
        "PostObject",
    }
    for op in HANDLERS:
        assert (action_of(op) is None) == (op in ungoverned), op


def test_request_object_tags_are_condition_keys() -> None:
    from ozs3.s3.authz import request_context
    from ozs3.s3.context import Call, Headers
    from ozs3.s3.routing import S3Request

    call = Call("r", "PutObject", S3Request("PUT", BUCKET, "k", (), "path"),
                Headers((("x-amz-tagging", "Team=blue&x=1"),)), "-")  # fmt: skip
    context = request_context(call)
    assert context["s3:requestobjecttag/Team"] == "blue"
    assert context["s3:requestobjecttagkeys"] == ["Team", "x"]
    p = policy(stmt(Action="s3:PutObject", Condition={
        "StringEquals": {"s3:RequestObjectTag/Team": "blue"}}))  # fmt: skip
    put = Request(None, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/k", context)
    assert evaluate(p, put) == ALLOW
    other = {**context, "s3:requestobjecttag/Team": "red"}
    assert evaluate(p, Request(None, "s3:PutObject", put.resource, other)) is None
