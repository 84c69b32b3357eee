"""Unit tests for ozs3.s3.operations: table dispatch of S3 operations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.operations import (
    COPIES,
    OPERATIONS,
    SUBRESOURCES,
    lookup,
    operation_name,
    subresource_of,
)
from ozs3.s3.routing import S3Request, parse_request

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
LEVELS = ("service", "bucket", "object")
# Query parameters that are arguments, not sub-resources.
ARGUMENTS = (
    "prefix",
    "delimiter",
    "max-keys",
    "marker",
    "list-type",
    "continuation-token",
    "start-after",
    "encoding-type",
    "fetch-owner",
    "partNumber",
    "versionId",
    "x-id",
    "response-content-type",
    "response-cache-control",
)


def _req(method: str, level: str, *query: tuple[str, str]) -> S3Request:
    bucket = None if level == "service" else "bkt"
    key = "k/ey" if level == "object" else None
    return S3Request(method, bucket, key, tuple(query), "path")


@pytest.mark.parametrize(
    ("entry", "op"), list(OPERATIONS.items()), ids=list(OPERATIONS.values())
)
def test_lookup_table_entries_dispatch(entry, op):
    """Every table row dispatches to its operation."""
    method, level, sub = entry
    query = ((sub, ""),) if sub else ()
    assert lookup(_req(method, level, *query)) == op


@pytest.mark.parametrize(
    ("method", "uri", "op"),
    [
        ("GET", b"/", "ListBuckets"),
        ("GET", b"/bkt", "ListObjects"),
        ("GET", b"/bkt?list-type=2&prefix=a", "ListObjects"),
        ("GET", b"/bkt?location", "GetBucketLocation"),
        ("HEAD", b"/bkt", "HeadBucket"),
        ("PUT", b"/bkt", "CreateBucket"),
        ("DELETE", b"/bkt/", "DeleteBucket"),
        ("POST", b"/bkt?delete", "DeleteObjects"),
        ("GET", b"/bkt/k?partNumber=1", "GetObject"),
        ("HEAD", b"/bkt/k", "HeadObject"),
        ("PUT", b"/bkt/k?x-id=PutObject", "PutObject"),
        ("DELETE", b"/bkt/k", "DeleteObject"),
        ("GET", b"/bkt?uploads&prefix=a", "ListMultipartUploads"),
        ("POST", b"/bkt/k?uploads", "CreateMultipartUpload"),
        ("PUT", b"/bkt/k?partNumber=1&uploadId=abc", "UploadPart"),
        ("POST", b"/bkt/k?uploadId=abc", "CompleteMultipartUpload"),
        ("DELETE", b"/bkt/k?uploadId=abc", "AbortMultipartUpload"),
        ("GET", b"/bkt/k?uploadId=abc&max-parts=5", "ListParts"),
    ],
)
def test_lookup_from_parsed_requests(method, uri, op):
    """Parsed raw requests dispatch to the expected operation."""
    assert lookup(parse_request(method, None, uri, ())) == op


@pytest.mark.parametrize(
    ("method", "uri"),
    [
        ("DELETE", b"/bkt?notification"),
        ("DELETE", b"/bkt?analytics"),
        ("DELETE", b"/bkt?replication"),
        ("DELETE", b"/bkt?website"),
        ("DELETE", b"/bkt/k?retention"),
        ("DELETE", b"/bkt?uploads"),
        ("DELETE", b"/bkt?uploadId=abc"),
        ("GET", b"/bkt/k?torrent"),
        ("GET", b"/bkt/k?retention"),
        ("GET", b"/bkt/k?uploads"),
        ("GET", b"/bkt?uploadId=abc"),
        ("GET", b"/bkt?website"),
        ("GET", b"/?acl"),
        ("GET", b"/?uploads"),
        ("PUT", b"/bkt?versioning"),
        ("PUT", b"/bkt/k?uploads"),
        ("POST", b"/bkt?uploads"),
        ("POST", b"/bkt/k?restore"),
        ("HEAD", b"/bkt/k?uploadId=abc"),
        ("HEAD", b"/bkt?location"),
    ],
)
def test_lookup_unknown_subresource_is_not_implemented(method, uri):
    """Unimplemented sub-resources are 501 NotImplemented, never another op."""
    with pytest.raises(S3Error) as info:
        lookup(parse_request(method, None, uri, ()))
    assert info.value.code == "NotImplemented"
    assert info.value.status == 501


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(METHODS),
    level=st.sampled_from(LEVELS),
    sub=st.sampled_from(sorted(SUBRESOURCES)),
    value=st.sampled_from(["", "1", "abc"]),
    args=st.lists(st.sampled_from(ARGUMENTS), max_size=3),
)
def test_lookup_subresource_never_falls_through(method, level, sub, value, args):
    """A sub-resource outside the table is NotImplemented; inside, its op."""
    query = [(a, "1") for a in args] + [(sub, value)]
    req = _req(method, level, *query)
    expected = OPERATIONS.get((method, level, sub))
    if expected is None:
        with pytest.raises(S3Error) as info:
            lookup(req)
        assert info.value.code == "NotImplemented"
    else:
        assert lookup(req) == expected


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(METHODS),
    level=st.sampled_from(LEVELS),
    args=st.lists(
        st.tuples(st.sampled_from(ARGUMENTS), st.sampled_from(["", "x"])),
        max_size=4,
    ),
)
def test_lookup_arguments_do_not_change_operation(method, level, args):
    """Non-sub-resource query arguments never change the dispatch result."""

    def outcome(req: S3Request) -> str:
        try:
            return lookup(req)
        except S3Error as e:
            return "error:" + e.code

    assert outcome(_req(method, level, *args)) == outcome(_req(method, level))


@settings(max_examples=100, deadline=None)
@given(
    method=st.sampled_from(METHODS),
    level=st.sampled_from(LEVELS),
    subs=st.lists(st.sampled_from(sorted(SUBRESOURCES)), min_size=2, unique=True),
)
def test_lookup_two_subresources_not_implemented(method, level, subs):
    """Combining two different sub-resources is NotImplemented."""
    req = _req(method, level, *((s, "") for s in subs))
    with pytest.raises(S3Error) as info:
        lookup(req)
    assert info.value.code == "NotImplemented"
    assert all(s in info.value.message for s in subs)


def test_subresource_of_repeated_same_name_is_single():
    """The same sub-resource twice is still that one sub-resource."""
    req = _req("POST", "bucket", ("delete", ""), ("delete", ""))
    assert subresource_of(req) == "delete"
    assert lookup(req) == "DeleteObjects"


@pytest.mark.parametrize("sub", [(), (("cors", ""),), (("acl", ""), ("tagging", ""))])
def test_options_is_a_cors_preflight_on_buckets_and_objects(sub):
    """OPTIONS on a bucket or object URL is the browser's CORS preflight,
    whatever the query; on the service it is 405."""
    assert lookup(_req("OPTIONS", "bucket", *sub)) == "PreflightRequest"
    assert lookup(_req("OPTIONS", "object", *sub)) == "PreflightRequest"
    with pytest.raises(S3Error) as info:
        lookup(_req("OPTIONS", "service", *sub))
    assert info.value.code == "MethodNotAllowed"


def test_subresource_of_none_without_subresources():
    """Only arguments in the query -> no sub-resource."""
    assert subresource_of(_req("GET", "bucket", ("prefix", "a"))) is None


@pytest.mark.parametrize(
    "method", ["PATCH", "TRACE", "CONNECT", "PROPFIND", "get", "options", ""]
)
@pytest.mark.parametrize("level", LEVELS)
def test_lookup_unsupported_method_not_allowed(method, level):
    """Methods S3 does not define are 405 MethodNotAllowed, naming the method."""
    with pytest.raises(S3Error) as info:
        lookup(_req(method, level))
    assert info.value.code == "MethodNotAllowed"
    assert info.value.status == 405
    assert info.value.extra["Method"] == method


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("PUT", "service"),
        ("DELETE", "service"),
        ("HEAD", "service"),
        ("POST", "service"),
    ],
)
def test_lookup_known_method_wrong_level_not_allowed(method, level):
    """A defined method on a level without that operation is MethodNotAllowed."""
    with pytest.raises(S3Error) as info:
        lookup(_req(method, level))
    assert info.value.code == "MethodNotAllowed"
    assert info.value.extra == {"Method": method, "ResourceType": level.upper()}


def test_lookup_plain_post_on_an_object_not_implemented():
    """POST on an object without a known sub-resource is 501; on a bucket it
    is a browser form upload."""
    with pytest.raises(S3Error) as info:
        lookup(_req("POST", "object"))
    assert info.value.code == "NotImplemented"
    assert lookup(_req("POST", "bucket")) == "PostObject"


def test_lookup_put_with_copy_source_is_copy_object():
    """PUT with x-amz-copy-source is CopyObject."""
    assert lookup(_req("PUT", "object"), copy_source=True) == "CopyObject"


def test_lookup_upload_part_with_copy_source_is_upload_part_copy():
    """PUT ?partNumber&uploadId with x-amz-copy-source is UploadPartCopy."""
    req = parse_request("PUT", None, b"/bkt/k?partNumber=2&uploadId=u", ())
    assert lookup(req, copy_source=True) == "UploadPartCopy"
    assert lookup(req, copy_source=False) == "UploadPart"


def test_lookup_put_without_copy_source_is_put_object():
    """The copy_source flag alone decides between PutObject and CopyObject."""
    assert lookup(_req("PUT", "object"), copy_source=False) == "PutObject"


@pytest.mark.parametrize(
    ("entry", "op"), list(OPERATIONS.items()), ids=list(OPERATIONS.values())
)
def test_lookup_copy_source_only_changes_copyable_ops(entry, op):
    """copy_source turns PutObject/UploadPart into copies and nothing else."""
    method, level, sub = entry
    query = ((sub, ""),) if sub else ()
    expected = {"PutObject": "CopyObject", "UploadPart": "UploadPartCopy"}.get(op, op)
    assert lookup(_req(method, level, *query), copy_source=True) == expected
    assert COPIES.get(op, op) == expected


@pytest.mark.parametrize(
    ("method", "uri"),
    [("PUT", b"/bkt/k?retention"), ("PUT", b"/bkt/k?legal-hold"), ("POST", b"/bkt/k")],
)
def test_lookup_copy_source_does_not_rescue_unknown(method, uri):
    """copy_source never turns an unimplemented request into an operation."""
    with pytest.raises(S3Error) as info:
        lookup(parse_request(method, None, uri, ()), copy_source=True)
    assert info.value.code == "NotImplemented"


@pytest.mark.parametrize("method", ["PATCH", "COPY"])
def test_lookup_copy_source_bad_method_still_not_allowed(method):
    """copy_source does not change MethodNotAllowed for unknown methods."""
    with pytest.raises(S3Error) as info:
        lookup(_req(method, "object"), copy_source=True)
    assert info.value.code == "MethodNotAllowed"


@pytest.mark.parametrize(
    ("method", "level", "op"),
    [
        ("GET", "object", "GetObject"),
        ("PUT", "bucket", "CreateBucket"),
        ("DELETE", "object", "DeleteObject"),
    ],
)
def test_lookup_copy_source_ignored_for_other_ops(method, level, op):
    """copy_source only affects PutObject and UploadPart."""
    assert lookup(_req(method, level), copy_source=True) == op


def test_subresources_include_table_subresources():
    """Every sub-resource in the table is a known S3 sub-resource."""
    assert {s for _, _, s in OPERATIONS if s} <= SUBRESOURCES


@settings(max_examples=400, deadline=None)
@given(
    method=st.sampled_from((*METHODS, "PATCH", "OPTIONS")),
    level=st.sampled_from(LEVELS),
    subs=st.lists(st.sampled_from(sorted(SUBRESOURCES)), max_size=2, unique=True),
    args=st.lists(st.sampled_from(ARGUMENTS), max_size=2),
    copy=st.booleans(),
)
def test_operation_name_is_lookups_answer_or_names_the_refused(
    method, level, subs, args, copy
):
    """operation_name never raises: what lookup dispatches to, else a
    bounded set of names (an AWS operation, or "Invalid"), the same whatever
    the arguments, so audit lines and metric labels always name something."""
    req = _req(method, level, *((s, "") for s in subs), *((a, "1") for a in args))
    name = operation_name(req, copy_source=copy)
    try:
        assert name == lookup(req, copy_source=copy)
        return
    except S3Error:
        pass
    assert name == operation_name(_req(method, level, *((s, "") for s in subs)))
    assert name == "Invalid" or (name[0].isupper() and name.isalnum())
    if method not in METHODS or len(subs) > 1:
        assert name == "Invalid"


@pytest.mark.parametrize(
    ("method", "uri", "name"),
    [
        ("PUT", b"/bkt?notification", "PutBucketNotificationConfiguration"),
        ("DELETE", b"/bkt?website", "DeleteBucketWebsite"),
        ("PUT", b"/bkt?inventory", "PutBucketInventoryConfiguration"),
        ("DELETE", b"/bkt?replication", "DeleteBucketReplication"),
        ("GET", b"/bkt?accelerate", "GetBucketAccelerateConfiguration"),
        ("PUT", b"/bkt?versioning", "PutBucketVersioning"),
        ("PUT", b"/bkt?object-lock", "PutObjectLockConfiguration"),
        ("GET", b"/bkt/k?torrent", "GetObjectTorrent"),
        ("PUT", b"/bkt/k?retention", "PutObjectRetention"),
        ("GET", b"/bkt/k?legal-hold", "GetObjectLegalHold"),
        ("POST", b"/bkt/k?restore", "RestoreObject"),
        ("POST", b"/bkt/k?select&select-type=2", "SelectObjectContent"),
        ("PUT", b"/bkt/k?acl&tagging", "Invalid"),
        ("POST", b"/bkt?metadataTable", "CreateBucketMetadataTableConfiguration"),
        ("GET", b"/bkt/k?uploads", "Invalid"),
        ("PUT", b"/", "Invalid"),
        ("PATCH", b"/bkt/k", "Invalid"),
    ],
)
def test_operation_name_of_unserved_requests(method, uri, name):
    """Requests the gateway refuses are named as AWS names the operation."""
    req = parse_request(method, None, uri, ())
    with pytest.raises(S3Error):
        lookup(req)
    assert operation_name(req) == name
