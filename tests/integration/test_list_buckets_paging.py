"""ListBuckets with max-buckets, continuation-token, prefix and bucket-region,
as AWS pages it (issue 14)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def many(s3: Any) -> Iterator[list[str]]:
    tag = uuid.uuid4().hex[:6]
    names = [f"pg-{tag}-{i:02d}" for i in range(7)]
    for name in names:
        s3.create_bucket(Bucket=name)
    yield names
    for name in names:
        s3.delete_bucket(Bucket=name)


def test_pages_through_the_buckets_with_tokens(s3: Any, many: list[str]) -> None:
    prefix = many[0][:-2]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"MaxBuckets": 3, "Prefix": prefix}
    pages = 0
    while True:
        page = s3.list_buckets(**kwargs)
        pages += 1
        assert len(page["Buckets"]) <= 3
        assert page["Prefix"] == prefix
        seen += [b["Name"] for b in page["Buckets"]]
        token = page.get("ContinuationToken")
        if not token:
            break
        kwargs["ContinuationToken"] = token
    assert seen == many
    assert pages == 3
    # The paginator follows the same tokens.
    listed = [
        b["Name"]
        for p in s3.get_paginator("list_buckets").paginate(
            Prefix=prefix, PaginationConfig={"PageSize": 2}
        )
        for b in p["Buckets"]
    ]
    assert listed == many


def test_no_paging_arguments_lists_everything_without_a_token(
    s3: Any, many: list[str]
) -> None:
    page = s3.list_buckets()
    assert set(many) <= {b["Name"] for b in page["Buckets"]}
    assert "ContinuationToken" not in page


def test_bucket_region_filters(s3: Any, many: list[str]) -> None:
    prefix = many[0][:-2]
    assert len(s3.list_buckets(Prefix=prefix, BucketRegion="us-east-1")["Buckets"]) == 7
    assert s3.list_buckets(Prefix=prefix, BucketRegion="eu-west-1")["Buckets"] == []


@pytest.mark.parametrize("value", ["0", "10001", "-1", "x"])
def test_bad_max_buckets_is_invalid_argument(s3: Any, value: str) -> None:
    def set_raw(request: Any, **_: Any) -> None:
        # botocore refuses such values itself: put them on the wire as is.
        sep = "&" if "?" in request.url else "?"
        request.url += f"{sep}max-buckets={value}"

    s3.meta.events.register_first("before-sign.s3.ListBuckets", set_raw)
    try:
        with pytest.raises(ClientError) as e:
            s3.list_buckets()
        assert e.value.response["Error"]["Code"] == "InvalidArgument"
    finally:
        s3.meta.events.unregister("before-sign.s3.ListBuckets", set_raw)


def test_a_forged_token_is_invalid_argument(s3: Any) -> None:
    with pytest.raises(ClientError) as e:
        s3.list_buckets(ContinuationToken="!!!not-base64")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
