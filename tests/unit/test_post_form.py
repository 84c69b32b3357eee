"""POST Object forms (pure): policies checked as S3 checks them, the SigV4
and SigV2 form signatures (made by botocore's own generate_presigned_post),
the object's headers from the fields, and S3's answers."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import given
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.post_form import (
    check_policy,
    field_headers,
    object_key,
    post_auth,
    success,
    verify_post_signature,
)

SECRET = "s3cr3t"


def presigned(version: str, **kwargs: Any) -> dict[str, str]:
    s3 = boto3.client(
        "s3", endpoint_url="http://127.0.0.1:9", aws_access_key_id="alice",
        aws_secret_access_key=SECRET, region_name="us-east-1",
        config=Config(signature_version=version),
    )  # fmt: skip
    post = s3.generate_presigned_post("bkt", "up/${filename}", **kwargs)
    return {k.lower(): v for k, v in post["fields"].items()}


def policy(*conditions: Any, expires: float | None = None) -> str:
    when = time.gmtime(expires if expires is not None else time.time() + 600)
    doc = {"expiration": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", when),
           "conditions": list(conditions)}  # fmt: skip
    return base64.b64encode(json.dumps(doc).encode()).decode()


def denied(policy_b64: str, fields: dict[str, str], bucket: str = "bkt") -> str:
    with pytest.raises(S3Error) as e:
        check_policy(policy_b64, fields, bucket, time.time())
    return f"{e.value.code}: {e.value.message}"


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_botocore_forms_verify_with_the_secret_only(version: str) -> None:
    fields = presigned(version, Conditions=[["content-length-range", 1, 10]])
    auth = post_auth(fields)
    assert auth is not None and auth.access_key == "alice"
    verify_post_signature(auth, SECRET)
    with pytest.raises(S3Error) as e:
        verify_post_signature(auth, "other")
    assert e.value.code == "SignatureDoesNotMatch"
    assert check_policy(fields["policy"], fields, "bkt", time.time()) == (1, 10)
    # The policy names the bucket: another bucket fails it.
    assert "Policy Condition failed" in denied(fields["policy"], fields, "other")


def test_policies_are_checked_as_s3_does() -> None:
    fields = {"key": "a/b", "policy": "", "x-amz-meta-x": "1"}
    ok = policy({"bucket": "bkt"}, ["starts-with", "$key", "a/"], {"x-amz-meta-x": "1"})
    assert check_policy(ok, fields, "bkt", time.time()) is None
    assert denied(policy({"bucket": "bkt"}, ["starts-with", "$key", "a/"],
                         expires=time.time() - 1), fields) == (
        "AccessDenied: Invalid according to Policy: Policy expired."
    )  # fmt: skip
    assert denied(policy({"bucket": "bkt"}, ["starts-with", "$key", "b/"],
                         {"x-amz-meta-x": "1"}), fields) == (
        'AccessDenied: Invalid according to Policy: Policy Condition failed: '
        '["starts-with", "$key", "b/"]'
    )  # fmt: skip
    assert denied(policy({"bucket": "bkt"}, ["starts-with", "$key", ""]), fields) == (
        "AccessDenied: Invalid according to Policy: Extra input fields: x-amz-meta-x"
    )
    assert denied("not base64!", fields).startswith("InvalidPolicyDocument: ")
    no_expiry = base64.b64encode(b'{"conditions": []}').decode()
    assert denied(no_expiry, fields) == (
        "InvalidPolicyDocument: Invalid Policy: Policy missing expiration."
    )
    # x-ignore-* fields need no condition.
    check_policy(policy({"bucket": "bkt"}, {"key": "a/b"}),
                 {"key": "a/b", "x-ignore-me": "y"}, "bkt", time.time())  # fmt: skip


def test_forms_without_key_or_with_half_a_signature_are_refused() -> None:
    with pytest.raises(S3Error) as e:
        object_key({}, "f")
    assert e.value.code == "InvalidArgument" and "field named 'key'" in e.value.message
    for fields in ({"x-amz-signature": "s", "policy": "p"}, {"policy": "p"},
                   {"awsaccesskeyid": "a", "policy": "p"}):  # fmt: skip
        with pytest.raises(S3Error) as e:
            post_auth(fields)
        assert e.value.code == "InvalidArgument"
    assert post_auth({"key": "k"}) is None


@given(st.text(min_size=1, max_size=20).filter(lambda s: "${filename}" not in s))
def test_filename_substitution(name: str) -> None:
    assert object_key({"key": "u/${filename}"}, name) == f"u/{name}"


def test_fields_become_the_objects_headers() -> None:
    headers = dict(field_headers({
        "content-type": "text/plain", "acl": "private", "x-amz-meta-a": "1",
        "key": "k", "policy": "p", "success_action_status": "201",
        "tagging": "<Tagging><TagSet><Tag><Key>t</Key><Value>v w</Value></Tag></TagSet></Tagging>",
    }))  # fmt: skip
    assert headers == {"content-type": "text/plain", "x-amz-acl": "private",
                       "x-amz-meta-a": "1", "x-amz-tagging": "t=v%20w"}  # fmt: skip


def test_answers() -> None:
    loc = "http://h/bkt/k"
    assert success({}, loc, "bkt", "k", "e")[0] == 204
    status, headers, body = success(
        {"success_action_status": "201"}, loc, "bkt", "k", "e"
    )
    assert status == 201 and b"<Key>k</Key>" in body and b'<ETag>"e"</ETag>' in body
    assert success({"success_action_status": "200"}, loc, "bkt", "k", "e")[0] == 200
    assert success({"success_action_status": "404"}, loc, "bkt", "k", "e")[0] == 204
    status, headers, _ = success(
        {"success_action_redirect": "https://app.example/done?x=1"},
        loc,
        "bkt",
        "k",
        "e",
    )
    assert status == 303
    assert headers["location"] == (
        "https://app.example/done?x=1&bucket=bkt&key=k&etag=%22e%22"
    )
