"""x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner: a
mismatch is 403 AccessDenied and changes nothing (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

OWNER = "testuser"  # the access key that created the bucket (conftest)


def denied(call: Any, head: bool = False) -> None:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    # A HEAD answer has no body: botocore names the error by its status.
    code = "403" if head else "AccessDenied"
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (403, code)


def test_the_owner_shown_is_the_owner_expected(s3: Any, bucket: str) -> None:
    assert s3.list_buckets()["Owner"]["ID"] == OWNER
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=OWNER)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ExpectedBucketOwner=OWNER)
    got = s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=OWNER)
    assert got["Body"].read() == b"v"
    s3.copy_object(
        Bucket=bucket, Key="c", CopySource=f"{bucket}/k",
        ExpectedBucketOwner=OWNER, ExpectedSourceBucketOwner=OWNER,
    )  # fmt: skip
    s3.delete_object(Bucket=bucket, Key="c", ExpectedBucketOwner=OWNER)


def test_a_wrong_owner_is_refused_and_nothing_changes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    wrong = "111122223333"
    denied(lambda: s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=wrong), head=True)
    denied(
        lambda: s3.head_object(Bucket=bucket, Key="k", ExpectedBucketOwner=wrong),
        head=True,
    )
    denied(lambda: s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=wrong))
    denied(lambda: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=wrong))
    denied(
        lambda: s3.put_object(
            Bucket=bucket, Key="k", Body=b"replaced", ExpectedBucketOwner=wrong
        )
    )
    denied(lambda: s3.delete_object(Bucket=bucket, Key="k", ExpectedBucketOwner=wrong))
    denied(
        lambda: s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": "k"}]},
            ExpectedBucketOwner=wrong,
        )
    )
    denied(
        lambda: s3.copy_object(
            Bucket=bucket, Key="c", CopySource=f"{bucket}/k",
            ExpectedSourceBucketOwner=wrong,
        )
    )  # fmt: skip
    denied(
        lambda: s3.create_multipart_upload(
            Bucket=bucket, Key="mp", ExpectedBucketOwner=wrong
        )
    )
    s3.put_object(Bucket=bucket, Key="keep-bucket", Body=b"")
    s3.delete_object(Bucket=bucket, Key="keep-bucket")
    denied(lambda: s3.delete_bucket(Bucket=bucket, ExpectedBucketOwner=wrong))
    # Nothing changed: the object, its bytes, no copy, no upload, the bucket.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["k"]
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    s3.head_bucket(Bucket=bucket)


def test_a_missing_bucket_is_still_no_such_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket-eo", ExpectedBucketOwner=OWNER)
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"
