"""Bucket policies on the real gateway process, security on, with three
users and anonymous callers (boto3 signed and unsigned, raw HTTP):
Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus, and what a policy
allows and denies — public reads, a teammate's reads, explicit denies that
bind the owner too, conditions, DeleteObjects key by key.  And with
security off, a Deny takes effect."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client, user
from tests.integration.test_security import secure_gateway
from tests.support.gateway import GatewayProcess

BUCKET = "policy-bkt"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "policy")


@pytest.fixture(scope="module")
def owner(gw: GatewayProcess) -> Any:
    s3 = user(gw, "powner")
    s3.create_bucket(Bucket=BUCKET)
    for key in ("public/a", "private/a", "shared/a", "secret/a", "keep/a", "tmp/a"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    return s3


@pytest.fixture
def put_policy(owner: Any) -> Iterator[Any]:
    def put(*statements: dict[str, Any]) -> str:
        text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        owner.put_bucket_policy(Bucket=BUCKET, Policy=text)
        return text

    yield put
    owner.delete_bucket_policy(Bucket=BUCKET)


def allow(principal: Any, action: Any, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action,
            "Resource": f"arn:aws:s3:::{BUCKET}{resource}", **extra}  # fmt: skip


def deny(principal: Any, action: Any, resource: str, **extra: Any) -> dict[str, Any]:
    return {**allow(principal, action, resource, **extra), "Effect": "Deny"}


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def raw_get(gw: GatewayProcess, path: str) -> tuple[int, bytes]:
    host, port = gw.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_policy_is_put_read_validated_and_deleted(owner: Any, mate: Any) -> None:
    assert refused(owner.get_bucket_policy, Bucket=BUCKET) == (
        "NoSuchBucketPolicy",
        404,
    )
    assert refused(owner.get_bucket_policy_status, Bucket=BUCKET)[1] == 404
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [allow("*", "s3:GetObject", "/public/*")],
        },
        indent=1,
    )
    owner.put_bucket_policy(Bucket=BUCKET, Policy=text)
    # Returned exactly as put (spacing included).
    assert owner.get_bucket_policy(Bucket=BUCKET)["Policy"] == text
    assert owner.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"]
    bad = [
        ('{"Statement": []}', "Could not parse the policy: Statement is empty!"),
        (
            json.dumps({"Statement": [allow({"AWS": "nobody"}, "s3:GetObject", "/*")]}),
            "Invalid principal in policy",
        ),
        (
            json.dumps({"Statement": [allow("*", "s3:GetObject", "")]}),
            "Action does not apply to any resource(s) in statement",
        ),
    ]
    for body, message in bad:
        with pytest.raises(ClientError) as e:
            owner.put_bucket_policy(Bucket=BUCKET, Policy=body)
        assert e.value.response["Error"]["Code"] == "MalformedPolicy"
        assert e.value.response["Error"]["Message"] == message
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        # The policy in place is untouched.
        assert owner.get_bucket_policy(Bucket=BUCKET)["Policy"] == text
    owner.put_bucket_policy(
        Bucket=BUCKET,
        Policy=json.dumps(
            {"Statement": [allow({"AWS": "mate"}, "s3:GetObject", "/public/*")]}
        ),
    )
    status = owner.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]
    assert status["IsPublic"] is False
    owner.delete_bucket_policy(Bucket=BUCKET)
    assert refused(owner.get_bucket_policy, Bucket=BUCKET) == (
        "NoSuchBucketPolicy",
        404,
    )


def test_a_public_read_policy_lets_anyone_read_that_prefix_only(
    gw: GatewayProcess, anonymous: Any, eve: Any, put_policy: Any
) -> None:
    assert refused(anonymous.get_object, Bucket=BUCKET, Key="public/a") == (
        "AccessDenied", 403,
    )  # fmt: skip
    put_policy(allow("*", "s3:GetObject", "/public/*"))
    assert (
        anonymous.get_object(Bucket=BUCKET, Key="public/a")["Body"].read()
        == b"public/a"
    )
    assert anonymous.head_object(Bucket=BUCKET, Key="public/a")["ContentLength"] == 8
    assert raw_get(gw, f"/{BUCKET}/public/a") == (200, b"public/a")
    assert eve.get_object(Bucket=BUCKET, Key="public/a")["Body"].read() == b"public/a"
    for call, kwargs in [
        (anonymous.get_object, {"Key": "private/a"}),
        (anonymous.put_object, {"Key": "public/b", "Body": b"x"}),
        (anonymous.delete_object, {"Key": "public/a"}),
        (anonymous.list_objects_v2, {}),
        (eve.put_object, {"Key": "public/a", "Body": b"overwritten"}),
        (eve.get_bucket_policy, {}),
    ]:
        assert refused(call, Bucket=BUCKET, **kwargs) == ("AccessDenied", 403)
    status, body = raw_get(gw, f"/{BUCKET}/private/a")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"<RequestId>" in body
    assert refused(anonymous.list_buckets) == ("AccessDenied", 403)
    assert (
        anonymous.get_object(Bucket=BUCKET, Key="public/a")["Body"].read()
        == b"public/a"
    )


def test_a_teammate_reads_and_lists_but_an_explicit_deny_still_binds(
    owner: Any, mate: Any, eve: Any, put_policy: Any
) -> None:
    put_policy(
        allow(
            {"AWS": "arn:aws:iam::mate:root"}, ["s3:GetObject", "s3:ListBucket"], "*"
        ),
        deny("*", "s3:GetObject", "/secret/*"),
        deny("*", ["s3:DeleteObject", "s3:PutObject"], "/keep/*"),
    )
    assert mate.get_object(Bucket=BUCKET, Key="shared/a")["Body"].read() == b"shared/a"
    keys = [o["Key"] for o in mate.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert "shared/a" in keys
    assert refused(mate.get_object, Bucket=BUCKET, Key="secret/a") == (
        "AccessDenied",
        403,
    )
    assert refused(mate.put_object, Bucket=BUCKET, Key="shared/b", Body=b"x")[1] == 403
    assert refused(mate.delete_object, Bucket=BUCKET, Key="shared/a")[1] == 403
    assert refused(eve.get_object, Bucket=BUCKET, Key="shared/a")[1] == 403
    # The owner is bound by the explicit denies too...
    assert refused(owner.get_object, Bucket=BUCKET, Key="secret/a")[1] == 403
    assert refused(owner.delete_object, Bucket=BUCKET, Key="keep/a")[1] == 403
    assert refused(owner.put_object, Bucket=BUCKET, Key="keep/a", Body=b"new")[1] == 403
    # ...but still owns everything else, and the policy itself.
    assert (
        owner.get_object(Bucket=BUCKET, Key="private/a")["Body"].read() == b"private/a"
    )
    assert "Policy" in owner.get_bucket_policy(Bucket=BUCKET)
    # A teammate's read of the policy: not granted, refused.
    assert refused(mate.get_bucket_policy, Bucket=BUCKET)[1] == 403


def test_conditions_on_prefix_and_source_address(
    mate: Any, anonymous: Any, put_policy: Any
) -> None:
    put_policy(
        allow({"AWS": "mate"}, "s3:ListBucket", "",
              Condition={"StringLike": {"s3:prefix": "shared/*"}}),
        allow("*", "s3:GetObject", "/*",
              Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
        deny("*", "s3:GetObject", "/private/*",
             Condition={"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}),
    )  # fmt: skip
    page = mate.list_objects_v2(Bucket=BUCKET, Prefix="shared/")
    assert [o["Key"] for o in page["Contents"]] == ["shared/a"]
    assert refused(mate.list_objects_v2, Bucket=BUCKET)[1] == 403
    assert refused(mate.list_objects_v2, Bucket=BUCKET, Prefix="secret/")[1] == 403
    # From loopback: the IpAddress allow applies, and so does the deny.
    assert anonymous.get_object(Bucket=BUCKET, Key="tmp/a")["Body"].read() == b"tmp/a"
    assert refused(anonymous.get_object, Bucket=BUCKET, Key="private/a")[1] == 403


def test_delete_objects_is_judged_key_by_key(
    owner: Any, mate: Any, put_policy: Any
) -> None:
    owner.put_object(Bucket=BUCKET, Key="tmp/b", Body=b"b")
    put_policy(allow({"AWS": "mate"}, "s3:DeleteObject", "/tmp/*"))
    result = mate.delete_objects(
        Bucket=BUCKET,
        Delete={"Objects": [{"Key": "tmp/b"}, {"Key": "keep/a"}]},
    )
    assert [d["Key"] for d in result.get("Deleted", [])] == ["tmp/b"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [
        ("keep/a", "AccessDenied")
    ]
    assert owner.get_object(Bucket=BUCKET, Key="keep/a")["Body"].read() == b"keep/a"
    assert refused(owner.head_object, Bucket=BUCKET, Key="tmp/b")[1] == 404


def test_a_bucket_made_again_under_the_name_has_no_policy(
    owner: Any, eve: Any, anonymous: Any
) -> None:
    name = "policy-reborn"
    owner.create_bucket(Bucket=name)
    owner.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/*"}]}),
    )  # fmt: skip
    owner.put_object(Bucket=name, Key="k", Body=b"old")
    assert anonymous.get_object(Bucket=name, Key="k")["Body"].read() == b"old"
    owner.delete_object(Bucket=name, Key="k")
    owner.delete_bucket(Bucket=name)
    eve.create_bucket(Bucket=name)
    eve.put_object(Bucket=name, Key="k", Body=b"eve's")
    # Within the policy cache's lifetime: the old bucket's policy is gone.
    assert refused(anonymous.get_object, Bucket=name, Key="k") == ("AccessDenied", 403)
    assert refused(eve.get_bucket_policy, Bucket=name)[0] == "NoSuchBucketPolicy"


@pytest.fixture(scope="module")
def open_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(str(tmp_path_factory.mktemp("policy-off") / "data")).start()
    yield gw
    gw.stop()
    assert not gw.tracebacks(), gw.log()


def test_with_security_off_a_deny_takes_effect(open_gw: GatewayProcess) -> None:
    s3 = make_client(open_gw.endpoint)
    s3.create_bucket(Bucket="open")
    s3.put_object(Bucket="open", Key="keep/a", Body=b"a")
    s3.put_object(Bucket="open", Key="tmp/a", Body=b"t")
    s3.put_bucket_policy(
        Bucket="open",
        Policy=json.dumps({"Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::open/keep/*"}]}),
    )  # fmt: skip
    assert refused(s3.delete_object, Bucket="open", Key="keep/a") == (
        "AccessDenied",
        403,
    )
    s3.delete_object(Bucket="open", Key="tmp/a")  # not denied: everyone may
    assert s3.get_object(Bucket="open", Key="keep/a")["Body"].read() == b"a"
    s3.delete_bucket_policy(Bucket="open")
    s3.delete_object(Bucket="open", Key="keep/a")


def test_anonymous_writes_go_where_allowed_and_never_with_unchecked_chunks(
    gw: GatewayProcess, owner: Any, anonymous: Any, put_policy: Any
) -> None:
    put_policy(allow("*", "s3:PutObject", "/drop/*"))
    anonymous.put_object(Bucket=BUCKET, Key="drop/a", Body=b"dropped")
    # The bucket owner owns what anyone writes into it.
    assert owner.get_object(Bucket=BUCKET, Key="drop/a")["Body"].read() == b"dropped"
    assert (
        refused(anonymous.put_object, Bucket=BUCKET, Key="other", Body=b"x")[1] == 403
    )
    # Chunk signatures that no signed request anchors cannot be checked:
    # refused before the body, nothing stored.
    host, port = gw.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    chunk = (
        b"3;chunk-signature="
        + b"0" * 64
        + b"\r\nabc\r\n0;chunk-signature="
        + (b"0" * 64 + b"\r\n\r\n")
    )
    try:
        conn.request("PUT", f"/{BUCKET}/drop/chunked", body=chunk, headers={
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "x-amz-decoded-content-length": "3", "content-encoding": "aws-chunked",
        })  # fmt: skip
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    assert r.status == 403 and b"<Code>AccessDenied</Code>" in body, body
    assert refused(owner.head_object, Bucket=BUCKET, Key="drop/chunked")[1] == 404


def test_what_others_write_the_bucket_owner_owns(
    owner: Any, mate: Any, put_policy: Any
) -> None:
    put_policy(allow({"AWS": "mate"}, ["s3:PutObject", "s3:ListBucket"], "*"))
    mate.put_object(Bucket=BUCKET, Key="from-mate", Body=b"m")
    listed = owner.list_objects_v2(Bucket=BUCKET, Prefix="from-mate", FetchOwner=True)
    assert [o["Owner"]["ID"] for o in listed["Contents"]] == ["powner"]
    page = mate.list_objects(Bucket=BUCKET, Prefix="from-mate")
    assert [o["Owner"]["ID"] for o in page["Contents"]] == ["powner"]


def test_copies_need_read_on_the_source_and_write_on_the_target(
    owner: Any, mate: Any, put_policy: Any
) -> None:
    mate.create_bucket(Bucket="mate-own")
    put_policy(
        allow({"AWS": "mate"}, "s3:GetObject", "/shared/*"),
        allow({"AWS": "mate"}, "s3:PutObject", "/inbox/*"),
    )
    mate.copy_object(Bucket="mate-own", Key="c", CopySource=f"{BUCKET}/shared/a")
    assert mate.get_object(Bucket="mate-own", Key="c")["Body"].read() == b"shared/a"
    for bucket, key, source in [
        ("mate-own", "d", f"{BUCKET}/private/a"),  # no read on the source
        (BUCKET, "shared/copy", "mate-own/c"),  # no write on the target
    ]:
        assert refused(mate.copy_object, Bucket=bucket, Key=key, CopySource=source) == (
            "AccessDenied", 403,
        ), (bucket, key)  # fmt: skip
    mate.copy_object(Bucket=BUCKET, Key="inbox/c", CopySource="mate-own/c")
    assert owner.get_object(Bucket=BUCKET, Key="inbox/c")["Body"].read() == b"shared/a"
    assert refused(owner.head_object, Bucket=BUCKET, Key="shared/copy")[1] == 404
    mate.delete_object(Bucket="mate-own", Key="c")
    mate.delete_bucket(Bucket="mate-own")


def test_public_access_block_blocks_and_restricts_public_policies(
    owner: Any, mate: Any, anonymous: Any, put_policy: Any
) -> None:
    assert refused(owner.get_public_access_block, Bucket=BUCKET) == (
        "NoSuchPublicAccessBlockConfiguration", 404,
    )  # fmt: skip
    public = allow("*", "s3:GetObject", "/public/*")
    text = put_policy(public, allow({"AWS": "mate"}, "s3:GetObject", "/shared/*"))
    assert anonymous.get_object(Bucket=BUCKET, Key="public/a")["Body"].read()
    flags = {"BlockPublicAcls": False, "IgnorePublicAcls": False,
             "BlockPublicPolicy": False, "RestrictPublicBuckets": True}  # fmt: skip
    owner.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=flags)
    got = owner.get_public_access_block(Bucket=BUCKET)
    assert got["PublicAccessBlockConfiguration"] == flags
    # A public policy now grants nobody but the owner: not the public, not
    # a user it names either.
    assert refused(anonymous.get_object, Bucket=BUCKET, Key="public/a")[1] == 403
    assert refused(mate.get_object, Bucket=BUCKET, Key="shared/a")[1] == 403
    assert owner.get_object(Bucket=BUCKET, Key="public/a")["Body"].read() == b"public/a"
    # BlockPublicPolicy: a public policy is refused, the one in place kept;
    # a policy that is not public goes in.
    owner.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={**flags, "BlockPublicPolicy": True},
    )
    with pytest.raises(ClientError) as e:
        owner.put_bucket_policy(
            Bucket=BUCKET, Policy=json.dumps({"Statement": [public]})
        )
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    # A condition that does not pin who may ask leaves it public.
    loose = {**public, "Condition": {"StringLike": {"aws:Referer": "*"}}}
    with pytest.raises(ClientError) as e:
        owner.put_bucket_policy(
            Bucket=BUCKET, Policy=json.dumps({"Statement": [loose]})
        )
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert owner.get_bucket_policy(Bucket=BUCKET)["Policy"] == text
    private = json.dumps(
        {"Statement": [allow({"AWS": "mate"}, "s3:GetObject", "/shared/*")]}
    )
    owner.put_bucket_policy(Bucket=BUCKET, Policy=private)
    assert mate.get_object(Bucket=BUCKET, Key="shared/a")["Body"].read() == b"shared/a"
    owner.delete_public_access_block(Bucket=BUCKET)
    assert refused(owner.get_public_access_block, Bucket=BUCKET)[1] == 404
    # Only the owner (or whom the policy lets) manages the block.
    assert refused(mate.delete_public_access_block, Bucket=BUCKET)[1] == 403
