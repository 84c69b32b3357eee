"""Object and bucket tags against the real gateway (issue 14):
Put/Get/DeleteObjectTagging, x-amz-tagging on PutObject and
CreateMultipartUpload, CopyObject's x-amz-tagging-directive,
x-amz-tagging-count on GET/HEAD and Put/Get/DeleteBucketTagging, with
boto3 and the aws CLI.  Every refusal is checked for its code and status and
for leaving tags, bytes and keys as they were."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import AwsCli

OWNER = "testuser"  # the access key that created the bucket (conftest)
WRONG_OWNER = "111122223333"
MISSING_BUCKET = "no-such-bucket-tagging"


def refused(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def tag_set(pairs: dict[str, str] | list[tuple[str, str]]) -> dict[str, Any]:
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return {"TagSet": [{"Key": k, "Value": v} for k, v in items]}


def object_tags(s3: Any, bucket: str, key: str) -> list[tuple[str, str]]:
    """The tags GetObjectTagging answers, in the order it answers them."""
    got = s3.get_object_tagging(Bucket=bucket, Key=key)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    return [(t["Key"], t["Value"]) for t in got["TagSet"]]


def bucket_tags(s3: Any, bucket: str) -> list[tuple[str, str]] | None:
    """GetBucketTagging's tags in its order; None for NoSuchTagSet."""
    try:
        got = s3.get_bucket_tagging(Bucket=bucket)
    except ClientError as e:
        r = e.response
        assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == (
            "NoSuchTagSet",
            404,
        )
        return None
    return [(t["Key"], t["Value"]) for t in got["TagSet"]]


def snapshot(s3: Any, bucket: str, key: str) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was: bytes, ETag,
    LastModified (milliseconds, from the listing), tags and tag count."""
    got = s3.get_object(Bucket=bucket, Key=key)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]
    [entry] = [o for o in listed if o["Key"] == key]
    return (
        got["Body"].read(),
        got["ETag"],
        entry["LastModified"],
        got.get("TagCount"),
        object_tags(s3, bucket, key),
    )


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


# ------------------------------------------------------------ object tagging


def assert_puts_refused(
    s3: Any, bucket: str, tagging: str, error: tuple[str, int]
) -> None:
    """PutObject with ``tagging`` over the key "k" (the bucket's only key)
    and onto a new key: both refused with ``error``, nothing changed."""
    before = snapshot(s3, bucket, "k")
    for key, data in (("k", b"replaced"), ("new", b"x")):
        put = lambda key=key, data=data: s3.put_object(  # noqa: E731
            Bucket=bucket, Key=key, Body=data, Tagging=tagging
        )
        assert refused(put) == error, key
    assert snapshot(s3, bucket, "k") == before
    assert keys(s3, bucket) == ["k"]


def test_tags_given_on_put_are_returned_sorted_and_counted(
    s3: Any, bucket: str
) -> None:
    put = s3.put_object(
        Bucket=bucket, Key="k", Body=b"tagged",
        Tagging="zeta=1&alpha=two%20words&mid=&caf%C3%A9=%C3%A9t%C3%A9",
    )  # fmt: skip
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    expected = [("alpha", "two words"), ("café", "été"), ("mid", ""), ("zeta", "1")]
    assert object_tags(s3, bucket, "k") == expected
    assert s3.head_object(Bucket=bucket, Key="k")["TagCount"] == 4
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"tagged"
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "4"
    # An object without tags: an empty TagSet and no count header at all.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert object_tags(s3, bucket, "plain") == []
    head = s3.head_object(Bucket=bucket, Key="plain")
    assert "x-amz-tagging-count" not in head["ResponseMetadata"]["HTTPHeaders"]
    get = s3.get_object(Bucket=bucket, Key="plain")
    assert "x-amz-tagging-count" not in get["ResponseMetadata"]["HTTPHeaders"]


def test_put_object_tagging_replaces_tags_and_leaves_the_object(
    s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"payload", Tagging="old=1&gone=2")
    body, etag, modified, _, _ = snapshot(s3, bucket, "k")
    head_modified = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    time.sleep(1.1)  # a rewrite would show in HEAD's whole-second time too
    tags = [("z", "last"), ("A", "upper"), ("m/n", "a:b=c+d-e@f_g."), ("k", "v w")]
    r = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(tags))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Replaced, not merged; sorted by key (code point order: "A" first).
    assert object_tags(s3, bucket, "k") == sorted(tags)
    assert snapshot(s3, bucket, "k") == (body, etag, modified, 4, sorted(tags))
    assert s3.head_object(Bucket=bucket, Key="k")["LastModified"] == head_modified
    # An empty TagSet removes every tag.
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})
    assert object_tags(s3, bucket, "k") == []
    assert snapshot(s3, bucket, "k") == (body, etag, modified, None, [])


def test_delete_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", Tagging="a=1&b=2")
    s3.put_object(Bucket=bucket, Key="other", Body=b"o", Tagging="keep=me")
    body, etag, modified, count, _ = snapshot(s3, bucket, "k")
    assert count == 2
    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert snapshot(s3, bucket, "k") == (body, etag, modified, None, [])
    # Only that object's tags; deleting none is fine too.
    assert object_tags(s3, bucket, "other") == [("keep", "me")]
    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_overwriting_an_object_drops_its_tags(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v1", Tagging="old=1")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set({"set": "later"}))
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
    assert object_tags(s3, bucket, "k") == []
    assert "TagCount" not in s3.head_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v3", Tagging="new=3")
    assert object_tags(s3, bucket, "k") == [("new", "3")]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v3"


def test_ten_object_tags_and_no_more(s3: Any, bucket: str) -> None:
    ten = {f"k{i:02}": str(i) for i in range(10)}
    eleven = {f"k{i:02}": str(i) for i in range(11)}
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(ten))
    assert object_tags(s3, bucket, "k") == sorted(ten.items())
    before = snapshot(s3, bucket, "k")
    put_tagging = lambda: s3.put_object_tagging(  # noqa: E731
        Bucket=bucket, Key="k", Tagging=tag_set(eleven)
    )
    assert refused(put_tagging) == ("BadRequest", 400)
    assert snapshot(s3, bucket, "k") == before
    header = "&".join(f"{k}={v}" for k, v in eleven.items())
    assert_puts_refused(s3, bucket, header, ("BadRequest", 400))
    # Ten on PutObject's header are fine.
    s3.put_object(
        Bucket=bucket, Key="ten", Body=b"x",
        Tagging="&".join(f"{k}={v}" for k, v in ten.items()),
    )  # fmt: skip
    assert s3.head_object(Bucket=bucket, Key="ten")["TagCount"] == 10


BAD_TAGS = {
    "key-129-chars": [("k" * 129, "v")],
    "value-257-chars": [("k", "v" * 257)],
    "aws-prefix": [("aws:createdBy", "me")],
    "duplicate-key": [("dup", "1"), ("dup", "2")],
    "key-char-hash": [("a#b", "v")],
    "key-char-star": [("a*", "v")],
    "value-char-bang": [("k", "v!")],
    "value-char-ampersand-quote": [("k", "a&'b")],
}


@pytest.mark.parametrize("tags", BAD_TAGS.values(), ids=BAD_TAGS.keys())
def test_invalid_tags_are_refused_on_objects(
    s3: Any, bucket: str, tags: list[tuple[str, str]]
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original", Tagging="good=1")
    before = snapshot(s3, bucket, "k")
    put_tagging = lambda: s3.put_object_tagging(  # noqa: E731
        Bucket=bucket, Key="k", Tagging=tag_set(tags)
    )
    assert refused(put_tagging) == ("InvalidTag", 400)
    assert snapshot(s3, bucket, "k") == before


@pytest.mark.parametrize("tags", BAD_TAGS.values(), ids=BAD_TAGS.keys())
def test_invalid_tags_are_refused_on_buckets(
    s3: Any, bucket: str, tags: list[tuple[str, str]]
) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"team": "a"}))
    put = lambda: s3.put_bucket_tagging(  # noqa: E731
        Bucket=bucket, Tagging=tag_set(tags)
    )
    assert refused(put) == ("InvalidTag", 400)
    assert bucket_tags(s3, bucket) == [("team", "a")]


@pytest.mark.parametrize(
    "tagging",
    [
        "k" * 129 + "=v",
        "k=" + "v" * 257,
        "aws%3Akey=v",
        "a%23b=v",
        "k=v%21",
    ],
    ids=["key-129", "value-257", "aws-prefix", "key-char", "value-char"],
)
def test_invalid_tags_on_put_object_are_refused(
    s3: Any, bucket: str, tagging: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original", Tagging="good=1")
    assert_puts_refused(s3, bucket, tagging, ("InvalidTag", 400))


@pytest.mark.parametrize("tagging", ["a=1&a=2", "a=%ZZ"])
def test_a_malformed_tagging_header_is_invalid_argument(
    s3: Any, bucket: str, tagging: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original", Tagging="good=1")
    before = snapshot(s3, bucket, "k")
    put = lambda: s3.put_object(  # noqa: E731
        Bucket=bucket, Key="k", Body=b"replaced", Tagging=tagging
    )
    assert refused(put) == ("InvalidArgument", 400)
    assert snapshot(s3, bucket, "k") == before


def test_tag_length_limits_are_inclusive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    longest = [("k" * 128, "v" * 256), ("é" * 128, "ü" * 256)]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(longest))
    assert object_tags(s3, bucket, "k") == sorted(longest)
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(longest))
    assert bucket_tags(s3, bucket) == sorted(longest)


def test_malformed_tagging_xml_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="good=1")
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"team": "a"}))
    before = snapshot(s3, bucket, "k")
    bad = b"<Tagging><TagSet><Tag><Key>only-a-key</Key></Tag></TagSet></Tagging>"

    def set_body(request: Any, **_: Any) -> None:
        request.data = bad
        for name in list(request.headers):
            if name.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum")):
                del request.headers[name]
            if name.lower() in ("content-md5", "content-length"):
                del request.headers[name]
        request.headers["Content-Length"] = str(len(bad))

    for operation, call in [
        (
            "PutObjectTagging",
            lambda: s3.put_object_tagging(
                Bucket=bucket, Key="k", Tagging=tag_set({"new": "1"})
            ),
        ),
        (
            "PutBucketTagging",
            lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"n": "1"})),
        ),
    ]:
        s3.meta.events.register_first(f"before-sign.s3.{operation}", set_body)
        try:
            assert refused(call) == ("MalformedXML", 400)
        finally:
            s3.meta.events.unregister(f"before-sign.s3.{operation}", set_body)
    assert snapshot(s3, bucket, "k") == before
    assert bucket_tags(s3, bucket) == [("team", "a")]


def test_tagging_a_missing_key_is_no_such_key(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="present", Body=b"x")
    calls = [
        lambda: s3.get_object_tagging(Bucket=bucket, Key="absent"),
        lambda: s3.put_object_tagging(
            Bucket=bucket, Key="absent", Tagging=tag_set({"a": "1"})
        ),
        lambda: s3.delete_object_tagging(Bucket=bucket, Key="absent"),
    ]
    for call in calls:
        assert refused(call) == ("NoSuchKey", 404)
    # PutObjectTagging did not create the key.
    assert keys(s3, bucket) == ["present"]


def test_tagging_in_a_missing_bucket_is_no_such_bucket(s3: Any) -> None:
    b, t = MISSING_BUCKET, tag_set({"a": "1"})
    calls = [
        lambda: s3.get_object_tagging(Bucket=b, Key="k"),
        lambda: s3.put_object_tagging(Bucket=b, Key="k", Tagging=t),
        lambda: s3.delete_object_tagging(Bucket=b, Key="k"),
        lambda: s3.get_bucket_tagging(Bucket=b),
        lambda: s3.put_bucket_tagging(Bucket=b, Tagging=t),
        lambda: s3.delete_bucket_tagging(Bucket=b),
    ]
    for call in calls:
        assert refused(call) == ("NoSuchBucket", 404)
    assert MISSING_BUCKET not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


def test_version_null_is_the_only_version(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    got = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId="null")
    assert got["TagSet"] == [{"Key": "a", "Value": "1"}]
    put = lambda: s3.put_object_tagging(  # noqa: E731
        Bucket=bucket, Key="k", VersionId="3HL4kqtJlcpXroDTDmJ", Tagging=tag_set({})
    )
    assert refused(put) == ("InvalidArgument", 400)
    assert object_tags(s3, bucket, "k") == [("a", "1")]


# ---------------------------------------------------------- multipart, copy


def _complete(s3: Any, bucket: str, key: str, upload_id: str) -> None:
    etag = s3.upload_part(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part"
    )["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )  # fmt: skip


def test_multipart_tags_land_on_the_completed_key(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="mp", Body=b"old", Tagging="old=1")
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="b=2&a=1")
    # Until completion the key is the old one, with its old tags.
    assert object_tags(s3, bucket, "mp") == [("old", "1")]
    _complete(s3, bucket, "mp", up["UploadId"])
    assert object_tags(s3, bucket, "mp") == [("a", "1"), ("b", "2")]
    assert s3.head_object(Bucket=bucket, Key="mp")["TagCount"] == 2
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"part"
    # Without x-amz-tagging the completed key has none (old ones dropped).
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    _complete(s3, bucket, "mp", up["UploadId"])
    assert object_tags(s3, bucket, "mp") == []


@pytest.mark.parametrize(
    ("tagging", "error"),
    [
        ("aws:k=v", ("InvalidTag", 400)),
        ("k=" + "v" * 257, ("InvalidTag", 400)),
        ("&".join(f"k{i}=v" for i in range(11)), ("BadRequest", 400)),
        ("a=1&a=2", ("InvalidArgument", 400)),
    ],
    ids=["aws-prefix", "value-257", "eleven", "duplicate"],
)
def test_bad_tags_on_create_multipart_upload_start_nothing(
    s3: Any, bucket: str, tagging: str, error: tuple[str, int]
) -> None:
    create = lambda: s3.create_multipart_upload(  # noqa: E731
        Bucket=bucket, Key="mp", Tagging=tagging
    )
    assert refused(create) == error
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    assert keys(s3, bucket) == []


def test_copy_tagging_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source", Tagging="s=1&t=2")
    src = f"{bucket}/src"
    # Default (COPY): the source's tags, over a destination with its own.
    s3.put_object(Bucket=bucket, Key="dst", Body=b"dest", Tagging="d=0")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=src)
    assert object_tags(s3, bucket, "dst") == [("s", "1"), ("t", "2")]
    assert s3.head_object(Bucket=bucket, Key="dst")["TagCount"] == 2
    s3.copy_object(Bucket=bucket, Key="c2", CopySource=src, TaggingDirective="COPY")
    assert object_tags(s3, bucket, "c2") == [("s", "1"), ("t", "2")]
    # REPLACE: x-amz-tagging's tags, sorted; REPLACE without it: none.
    s3.copy_object(
        Bucket=bucket, Key="c3", CopySource=src,
        TaggingDirective="REPLACE", Tagging="z=9&new=1",
    )  # fmt: skip
    assert object_tags(s3, bucket, "c3") == [("new", "1"), ("z", "9")]
    s3.copy_object(Bucket=bucket, Key="c2", CopySource=src, TaggingDirective="REPLACE")
    assert object_tags(s3, bucket, "c2") == []
    assert "TagCount" not in s3.head_object(Bucket=bucket, Key="c2")
    assert s3.get_object(Bucket=bucket, Key="c2")["Body"].read() == b"source"
    # The source kept its tags throughout.
    assert object_tags(s3, bucket, "src") == [("s", "1"), ("t", "2")]


def test_copy_tagging_errors_change_nothing(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source", Tagging="s=1")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"dest", Tagging="d=0")
    src = f"{bucket}/src"
    before = snapshot(s3, bucket, "dst")
    source_before = snapshot(s3, bucket, "src")
    cases = [
        # x-amz-tagging with COPY (explicit or by default) would be ignored.
        ({"Tagging": "x=1"}, ("InvalidArgument", 400)),
        ({"Tagging": "x=1", "TaggingDirective": "COPY"}, ("InvalidArgument", 400)),
        ({"TaggingDirective": "BOGUS"}, ("InvalidArgument", 400)),
        (
            {"Tagging": "aws:x=1", "TaggingDirective": "REPLACE"},
            ("InvalidTag", 400),
        ),
        (
            {
                "Tagging": "&".join(f"k{i}=v" for i in range(11)),
                "TaggingDirective": "REPLACE",
            },
            ("BadRequest", 400),
        ),
    ]
    for extra, error in cases:
        for key in ("dst", "fresh"):
            copy = lambda k=key, x=extra: s3.copy_object(  # noqa: E731
                Bucket=bucket, Key=k, CopySource=src, **x
            )
            assert refused(copy) == error, (extra, key)
    assert snapshot(s3, bucket, "dst") == before
    assert snapshot(s3, bucket, "src") == source_before
    assert keys(s3, bucket) == ["dst", "src"]


# ------------------------------------------------------------ bucket tagging


def test_bucket_tagging_round_trip(s3: Any, bucket: str) -> None:
    assert bucket_tags(s3, bucket) is None  # NoSuchTagSet, 404
    tags = [("z", "1"), ("Team", "storage"), ("cost-center", "42"), ("e", "")]
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(tags))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert bucket_tags(s3, bucket) == sorted(tags)
    # A second PUT replaces the set.
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"only": "this"}))
    assert bucket_tags(s3, bucket) == [("only", "this")]
    # Bucket tags are not object tags, and the other way round.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="obj=1")
    assert object_tags(s3, bucket, "k") == [("obj", "1")]
    assert bucket_tags(s3, bucket) == [("only", "this")]
    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert bucket_tags(s3, bucket) is None
    assert object_tags(s3, bucket, "k") == [("obj", "1")]
    # Deleting when there are none is still 204.
    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bucket_tags_are_per_bucket(s3: Any, bucket: str) -> None:
    other = bucket + "-2"
    s3.create_bucket(Bucket=other)
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"a": "1"}))
    assert bucket_tags(s3, other) is None
    s3.put_bucket_tagging(Bucket=other, Tagging=tag_set({"b": "2"}))
    s3.delete_bucket_tagging(Bucket=other)
    assert bucket_tags(s3, bucket) == [("a", "1")]


def test_fifty_bucket_tags_and_no_more(s3: Any, bucket: str) -> None:
    fifty = {f"t{i:02}": str(i) for i in range(50)}
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(fifty))
    assert bucket_tags(s3, bucket) == sorted(fifty.items())
    fifty_one = dict(fifty, extra="1")
    put = lambda: s3.put_bucket_tagging(  # noqa: E731
        Bucket=bucket, Tagging=tag_set(fifty_one)
    )
    assert refused(put) == ("BadRequest", 400)
    assert bucket_tags(s3, bucket) == sorted(fifty.items())
    # Eleven are fine on a bucket, though not on an object.
    eleven = {f"k{i}": "v" for i in range(11)}
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(eleven))
    assert bucket_tags(s3, bucket) == sorted(eleven.items())


# ------------------------------------------------ x-amz-expected-bucket-owner


def test_a_wrong_expected_owner_is_refused_and_nothing_changes(
    s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"b": "2"}))
    before = snapshot(s3, bucket, "k")
    new = tag_set({"new": "1"})
    calls: list[Callable[[str], Any]] = [
        lambda o: s3.get_object_tagging(Bucket=bucket, Key="k", ExpectedBucketOwner=o),
        lambda o: s3.put_object_tagging(
            Bucket=bucket, Key="k", Tagging=new, ExpectedBucketOwner=o
        ),
        lambda o: s3.delete_object_tagging(
            Bucket=bucket, Key="k", ExpectedBucketOwner=o
        ),
        lambda o: s3.get_bucket_tagging(Bucket=bucket, ExpectedBucketOwner=o),
        lambda o: s3.put_bucket_tagging(
            Bucket=bucket, Tagging=new, ExpectedBucketOwner=o
        ),
        lambda o: s3.delete_bucket_tagging(Bucket=bucket, ExpectedBucketOwner=o),
    ]
    for call in calls:
        assert refused(partial(call, WRONG_OWNER)) == ("AccessDenied", 403)
    assert snapshot(s3, bucket, "k") == before
    assert bucket_tags(s3, bucket) == [("b", "2")]
    # The right owner is served (the same calls, in order).
    for call in calls:
        call(OWNER)
    assert object_tags(s3, bucket, "k") == []
    assert bucket_tags(s3, bucket) is None


# ------------------------------------------------------------------ aws CLI


def test_aws_cli_object_and_bucket_tagging(aws: AwsCli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"cli")
    aws(
        "s3api", "put-object-tagging", "--bucket", bucket, "--key", "k",
        "--tagging", "TagSet=[{Key=zz,Value=last},{Key=aa,Value=first}]",
    )  # fmt: skip
    out = aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "k")
    assert json.loads(out.stdout)["TagSet"] == [
        {"Key": "aa", "Value": "first"},
        {"Key": "zz", "Value": "last"},
    ]
    head = json.loads(
        aws("s3api", "head-object", "--bucket", bucket, "--key", "k").stdout
    )
    assert head["TagCount"] == 2
    # A refusal exits non-zero with S3's code, and changes nothing.
    bad = aws(
        "s3api", "put-object-tagging", "--bucket", bucket, "--key", "k",
        "--tagging", "TagSet=[{Key=aws:x,Value=1}]", check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "InvalidTag" in bad.stderr, bad.stderr
    assert object_tags(s3, bucket, "k") == [("aa", "first"), ("zz", "last")]
    aws("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "k")
    assert object_tags(s3, bucket, "k") == []

    missing = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert missing.returncode != 0 and "NoSuchTagSet" in missing.stderr
    aws(
        "s3api", "put-bucket-tagging", "--bucket", bucket,
        "--tagging", "TagSet=[{Key=team,Value=storage},{Key=env,Value=test}]",
    )  # fmt: skip
    out = aws("s3api", "get-bucket-tagging", "--bucket", bucket)
    assert json.loads(out.stdout)["TagSet"] == [
        {"Key": "env", "Value": "test"},
        {"Key": "team", "Value": "storage"},
    ]
    aws("s3api", "delete-bucket-tagging", "--bucket", bucket)
    assert bucket_tags(s3, bucket) is None


def test_aws_cli_cp_with_tagging(
    aws: AwsCli, s3: Any, bucket: str, tmp_path: Any
) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"file")
    aws(
        "s3api", "put-object", "--bucket", bucket, "--key", "k",
        "--body", str(src), "--tagging", "b=2&a=1",
    )  # fmt: skip
    assert object_tags(s3, bucket, "k") == [("a", "1"), ("b", "2")]
