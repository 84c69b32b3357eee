"""Bucket operations, driven by boto3 against the real gateway."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_create_bucket_then_list_buckets_shows_it(s3) -> None:
    """A created bucket appears in ListBuckets with a creation date."""
    name = f"lb-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
    assert name in listed
    assert listed[name]["CreationDate"].year >= 2024


def test_create_bucket_twice_by_owner_is_already_owned(s3, bucket) -> None:
    """Re-creating your own bucket answers 409 BucketAlreadyOwnedByYou."""
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=bucket)
    assert _code(e) == "BucketAlreadyOwnedByYou"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_create_bucket_owned_by_other_is_already_exists(gateway, bucket) -> None:
    """Another access key creating the same name gets BucketAlreadyExists."""
    import boto3

    other = boto3.client(
        "s3", endpoint_url=gateway.endpoint, aws_access_key_id="someoneelse",
        aws_secret_access_key="x", region_name="us-east-1",
    )  # fmt: skip
    with pytest.raises(ClientError) as e:
        other.create_bucket(Bucket=bucket)
    assert _code(e) == "BucketAlreadyExists"


@pytest.mark.parametrize(
    "name", ["ab", "UPPER", "under_score", "a" * 64, "192.168.1.1", "a..b", "-ab"]
)
def test_create_bucket_invalid_name_is_refused(s3, name: str) -> None:
    """Names breaking S3's rules get 400 InvalidBucketName."""
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert _code(e) in ("InvalidBucketName",)


def test_create_bucket_with_location_constraint_is_accepted(s3) -> None:
    """A CreateBucketConfiguration body is parsed and accepted."""
    name = f"lc-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.head_bucket(Bucket=name)


def test_head_bucket_missing_is_404(s3) -> None:
    """HeadBucket on a missing bucket is a bare 404."""
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="does-not-exist-bkt")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_bucket_location_is_us_east_1(s3, bucket) -> None:
    """GetBucketLocation answers an empty constraint (us-east-1)."""
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None


def test_get_bucket_location_missing_bucket(s3) -> None:
    """GetBucketLocation on a missing bucket is NoSuchBucket."""
    with pytest.raises(ClientError) as e:
        s3.get_bucket_location(Bucket="no-such-bucket-x")
    assert _code(e) == "NoSuchBucket"


def test_delete_bucket_not_empty_then_empty(s3, bucket) -> None:
    """DeleteBucket refuses a bucket with keys, then deletes it once empty."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert _code(e) == "BucketNotEmpty"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_bucket_missing_is_no_such_bucket(s3) -> None:
    """DeleteBucket of a missing bucket is NoSuchBucket."""
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="no-such-bucket-y")
    assert _code(e) == "NoSuchBucket"


def test_recreated_bucket_is_empty(s3) -> None:
    """A bucket deleted and created again does not resurrect old keys."""
    name = f"rc-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="old", Body=b"1")
    s3.delete_object(Bucket=name, Key="old")
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0


def test_delete_objects_verbose_and_quiet(s3, bucket) -> None:
    """DeleteObjects reports each key (verbose) or nothing (quiet); missing
    keys count as deleted, as in S3."""
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    out = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "missing"}]}
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "missing"]
    out = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "b"}], "Quiet": True}
    )
    assert "Deleted" not in out
    left = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["c"]


def test_delete_objects_missing_bucket(s3) -> None:
    """DeleteObjects on a missing bucket is NoSuchBucket."""
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="no-such-bkt-z", Delete={"Objects": [{"Key": "a"}]})
    assert _code(e) == "NoSuchBucket"
