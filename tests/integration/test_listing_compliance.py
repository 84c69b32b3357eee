"""ListObjects v1 and v2, driven by boto3 against the real gateway."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

TREE = [
    "a.txt", "dir/1", "dir/2", "dir/sub/3", "dir/sub/4", "dir2/x",
    "e+plus", "e%pct", "e space", "zz/ü/ñ",
]  # fmt: skip


@pytest.fixture
def tree(s3, bucket) -> str:
    for key in TREE:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return str(bucket)


def test_list_objects_v2_all_keys_sorted(s3, tree) -> None:
    """Without a delimiter every key comes back in binary UTF-8 order."""
    r = s3.list_objects_v2(Bucket=tree)
    assert [c["Key"] for c in r["Contents"]] == sorted(TREE, key=str.encode)
    assert r["KeyCount"] == len(TREE)
    assert all(c["ETag"].startswith('"') and c["StorageClass"] for c in r["Contents"])
    assert r["Contents"][0]["Size"] == len(r["Contents"][0]["Key"].encode())


def test_list_objects_v2_delimiter(s3, tree) -> None:
    """A delimiter rolls keys up into CommonPrefixes; KeyCount counts both."""
    r = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/", "dir2/", "zz/"]
    assert [c["Key"] for c in r["Contents"]] == ["a.txt", "e space", "e%pct", "e+plus"]
    assert r["KeyCount"] == 7


def test_list_objects_v2_prefix_and_delimiter(s3, tree) -> None:
    """Prefix plus delimiter lists one directory level."""
    r = s3.list_objects_v2(Bucket=tree, Prefix="dir/", Delimiter="/")
    assert [c["Key"] for c in r["Contents"]] == ["dir/1", "dir/2"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/sub/"]


@pytest.mark.parametrize("page", [1, 2, 3, 1000])
def test_list_objects_v2_paginates_exactly(s3, tree, page: int) -> None:
    """Continuation tokens walk the listing with no gaps or duplicates."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=tree, Delimiter="/", PaginationConfig={"PageSize": page}
    )
    seen: list[str] = []
    for p in pages:
        assert p["KeyCount"] <= page
        seen += [c["Key"] for c in p.get("Contents", [])]
        seen += [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    assert sorted(seen) == sorted(
        ["a.txt", "e space", "e%pct", "e+plus", "dir/", "dir2/", "zz/"]
    )
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("page", [1, 4])
def test_list_objects_v1_paginates_exactly(s3, tree, page: int) -> None:
    """ListObjects v1 pages by Marker/NextMarker (boto3's paginator)."""
    pages = s3.get_paginator("list_objects").paginate(
        Bucket=tree, PaginationConfig={"PageSize": page}
    )
    seen = [c["Key"] for p in pages for c in p.get("Contents", [])]
    assert seen == sorted(TREE, key=str.encode)


def test_list_objects_v1_next_marker_with_delimiter(s3, tree) -> None:
    """With a delimiter, a truncated v1 page carries NextMarker."""
    r = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2)
    assert r["IsTruncated"] is True
    assert r["NextMarker"] == "dir/"
    r2 = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2, Marker=r["NextMarker"])
    assert [p["Prefix"] for p in r2.get("CommonPrefixes", [])] == ["dir2/"]


def test_list_objects_v2_start_after(s3, tree) -> None:
    """start-after skips keys up to and including the given key."""
    r = s3.list_objects_v2(Bucket=tree, StartAfter="dir/sub/3")
    assert [c["Key"] for c in r["Contents"]][:2] == ["dir/sub/4", "dir2/x"]
    assert r["StartAfter"] == "dir/sub/3"


def test_list_objects_v2_fetch_owner(s3, tree) -> None:
    """fetch-owner=true adds Owner to each entry; without it there is none."""
    with_owner = s3.list_objects_v2(Bucket=tree, FetchOwner=True)["Contents"]
    assert with_owner[0]["Owner"]["ID"] == "testuser"
    assert "Owner" not in s3.list_objects_v2(Bucket=tree)["Contents"][0]


def test_list_objects_url_encoding_round_trips_odd_keys(s3, bucket) -> None:
    """encoding-type=url (botocore's default) keeps +, % and spaces exact."""
    keys = ["a+b", "a b", "a%2Bb", "c/ü+%"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    from urllib.parse import unquote_plus

    got = [unquote_plus(c["Key"]) for c in r["Contents"]]
    assert got == sorted(keys, key=str.encode)


def test_list_objects_max_keys_zero_and_negative(s3, tree) -> None:
    """max-keys=0 lists nothing; a negative max-keys is InvalidArgument."""
    r = s3.list_objects_v2(Bucket=tree, MaxKeys=0)
    assert r["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=tree, MaxKeys=-1)
    assert e.value.response["Error"]["Code"] == "InvalidArgument"


def test_list_objects_bad_continuation_token(s3, tree) -> None:
    """A continuation token that we did not issue is InvalidArgument."""
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=tree, ContinuationToken="!!!not-a-token")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"


def test_list_objects_missing_bucket(s3) -> None:
    """Listing a missing bucket is NoSuchBucket."""
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket-l")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"
