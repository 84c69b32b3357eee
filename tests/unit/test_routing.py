"""Unit tests for ozs3.s3.routing: raw request line + Host -> S3Request."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.routing import (
    S3Request,
    bucket_from_host,
    parse_query,
    parse_request,
    split_host,
)

DOMAIN = "s3.example.com"
DOMAINS = (DOMAIN, "example.com")

# Valid-looking bucket names: labels of [a-z0-9-] joined by dots, 3..63 chars.
_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
buckets = (
    st.lists(_label, min_size=1, max_size=4)
    .map(".".join)
    .filter(lambda b: 3 <= len(b) <= 63)
)


def _truncate_utf8(s: str, limit: int = 1024) -> str:
    return s.encode("utf-8")[:limit].decode("utf-8", "ignore")


_key_chars = st.one_of(
    st.sampled_from(list("/ +%?#&=;~*'\"\\")),
    st.characters(codec="utf-8"),
)
keys = st.text(_key_chars, min_size=1, max_size=1024).map(_truncate_utf8).filter(bool)

query_text = st.text(st.characters(codec="utf-8"), max_size=20)
queries = st.lists(st.tuples(query_text.filter(bool), query_text), max_size=5)


def _raw_query(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs).encode()


def _raw_key(key: str, safe: str = "/~") -> bytes:
    return quote(key, safe=safe).encode("ascii")


# What clients leave unescaped in a path varies: any of these must decode alike.
SAFE_SETS = ["/~", "/~+", "/~+&=;:@!$'()*,"]


@settings(max_examples=200, deadline=None)
@given(bucket=buckets, key=keys, pairs=queries, safe=st.sampled_from(SAFE_SETS))
def test_parse_request_path_and_virtual_styles_agree(bucket, key, pairs, safe):
    """Path-style and virtual-host requests yield the same bucket, key, query."""
    raw_q = _raw_query(pairs)
    suffix = b"?" + raw_q if raw_q else b""
    raw_key = _raw_key(key, safe)
    path = parse_request(
        "GET", DOMAIN, b"/" + bucket.encode() + b"/" + raw_key + suffix, DOMAINS
    )
    virtual = parse_request(
        "GET", f"{bucket}.{DOMAIN}:9878", b"/" + raw_key + suffix, DOMAINS
    )
    assert path.style == "path"
    assert virtual.style == "virtual"
    assert (path.bucket, path.key, path.query) == (bucket, key, tuple(pairs))
    assert (virtual.bucket, virtual.key, virtual.query) == (
        bucket,
        key,
        tuple(pairs),
    )
    assert path.level == virtual.level == "object"


@settings(max_examples=100, deadline=None)
@given(bucket=buckets)
def test_parse_request_bucket_level_both_styles(bucket):
    """A bare bucket (with or without trailing slash) is a bucket-level request."""
    for uri in (b"/" + bucket.encode(), b"/" + bucket.encode() + b"/"):
        req = parse_request("PUT", None, uri, DOMAINS)
        assert (req.bucket, req.key, req.level, req.style) == (
            bucket,
            None,
            "bucket",
            "path",
        )
    req = parse_request("PUT", f"{bucket}.{DOMAIN}", b"/", DOMAINS)
    assert (req.bucket, req.key, req.level, req.style) == (
        bucket,
        None,
        "bucket",
        "virtual",
    )


@pytest.mark.parametrize(
    "key",
    [
        "a//b",
        "dir/",
        "/leading",
        "//",
        "/",
        "a b",
        "a+b",
        "100%",
        "%2F",
        "caf\u00e9/\u65e5\u672c/\U0001f600",
        "q?x=1#frag",
        "x" * 1024,
        "\u00e9" * 512,
        "\U0001f600" * 256,
    ],
)
def test_parse_request_special_keys_round_trip(key):
    """Keys with //, trailing /, spaces, +, %, unicode and 1024 bytes survive."""
    req = parse_request("GET", None, b"/bkt/" + _raw_key(key), DOMAINS)
    assert (req.bucket, req.key) == ("bkt", key)
    req = parse_request("GET", "bkt." + DOMAIN, b"/" + _raw_key(key), DOMAINS)
    assert (req.bucket, req.key) == ("bkt", key)


def test_parse_request_plus_in_path_is_literal():
    """A '+' in the path is a plus sign, not a space (only queries use +)."""
    req = parse_request("GET", None, b"/bkt/a+b%20c", DOMAINS)
    assert req.key == "a+b c"
    req = parse_request("GET", "bkt." + DOMAIN, b"/a+b%20c", DOMAINS)
    assert req.key == "a+b c"


def test_parse_request_service_level():
    """'/' with no vhost bucket is the service (ListBuckets) level."""
    req = parse_request("GET", DOMAIN, b"/", DOMAINS)
    assert (req.bucket, req.key, req.level, req.style) == (
        None,
        None,
        "service",
        "path",
    )


def test_parse_request_host_equal_to_domain_is_path_style():
    """A Host equal to a configured domain is path style."""
    req = parse_request("GET", DOMAIN + ":9878", b"/bkt/k", DOMAINS)
    assert (req.bucket, req.key, req.style) == ("bkt", "k", "path")


def test_parse_request_unknown_host_is_path_style():
    """A Host under no configured domain is path style."""
    req = parse_request("GET", "bkt.other.org", b"/b2/k", DOMAINS)
    assert (req.bucket, req.key, req.style) == ("b2", "k", "path")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"?uploads", (("uploads", ""),)),
        (b"?delete&", (("delete", ""),)),
        (b"?uploadId=abc&partNumber=3", (("uploadId", "abc"), ("partNumber", "3"))),
        (b"?prefix=a+b%2Bc", (("prefix", "a b+c"),)),
        (b"?acl&&versionId=", (("acl", ""), ("versionId", ""))),
        (b"?a=1&a=2", (("a", "1"), ("a", "2"))),
        (b"?x=a=b", (("x", "a=b"),)),
        (b"?k;v=1", (("k;v", "1"),)),
    ],
)
def test_parse_request_query_kept_raw(raw, expected):
    """Valueless sub-resources, duplicates, ';' and '=' in values are kept."""
    req = parse_request("POST", None, b"/bkt" + raw, DOMAINS)
    assert req.query == expected


def test_parse_request_valueless_subresource_visible_via_has():
    """?uploads is reported by has() and arg() returns an empty string."""
    req = parse_request("POST", None, b"/bkt/k?uploads", DOMAINS)
    assert req.has("uploads")
    assert req.arg("uploads") == ""
    assert not req.has("upload")
    assert req.arg("missing") is None


def test_s3request_arg_returns_first_value():
    """arg() returns the first of repeated query values."""
    req = S3Request("GET", "b", None, (("a", "1"), ("a", "2")), "path")
    assert req.arg("a") == "1"


@settings(max_examples=200, deadline=None)
@given(pairs=queries)
def test_parse_query_round_trips_quote_plus(pairs):
    """parse_query inverts quote_plus encoding, preserving order."""
    assert parse_query(_raw_query(pairs)) == tuple(pairs)


@pytest.mark.parametrize(
    "uri",
    [
        b"/bkt/%FF",
        b"/bkt/%C3%28",
        b"/bkt/a%80b",
        b"/%FF/key",
        b"/bkt/k\xff",
        b"/bkt/%ED%A0%80",  # encoded surrogate
        b"/bkt?prefix=%FF",
        b"/bkt?%FE=1",
    ],
)
def test_parse_request_invalid_utf8_is_invalid_uri(uri):
    """Percent-escapes that are not UTF-8 raise InvalidURI."""
    with pytest.raises(S3Error) as info:
        parse_request("GET", None, uri, DOMAINS)
    assert info.value.code == "InvalidURI"
    assert info.value.status == 400


def test_parse_request_invalid_utf8_virtual_host_is_invalid_uri():
    """Non-UTF-8 keys are refused in virtual-host style too."""
    with pytest.raises(S3Error) as info:
        parse_request("GET", "bkt." + DOMAIN, b"/%C0%AF", DOMAINS)
    assert info.value.code == "InvalidURI"


@pytest.mark.parametrize("uri", [b"*", b"bkt/key", b"", b"?uploads"])
def test_parse_request_non_origin_form_is_invalid_uri(uri):
    """A request target that does not start with '/' is InvalidURI."""
    with pytest.raises(S3Error) as info:
        parse_request("GET", None, uri, DOMAINS)
    assert info.value.code == "InvalidURI"


@pytest.mark.parametrize(
    ("uri", "bucket", "key"),
    [
        (b"http://gw:9878/bkt/a/b?acl", "bkt", "a/b"),
        (b"https://gw/bkt", "bkt", None),
        (b"http://gw", None, None),
        (b"http://gw/", None, None),
    ],
)
def test_parse_request_absolute_form_keeps_only_path(uri, bucket, key):
    """Absolute-form request targets are routed by their path alone."""
    req = parse_request("GET", None, uri, DOMAINS)
    assert (req.bucket, req.key) == (bucket, key)


def test_parse_request_absolute_form_keeps_query():
    """The query of an absolute-form target is still parsed."""
    req = parse_request("GET", None, b"http://gw/bkt/a?acl", DOMAINS)
    assert req.query == (("acl", ""),)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("Example.COM", "example.com"),
        ("example.com:9878", "example.com"),
        ("  bkt.s3.example.com:80 ", "bkt.s3.example.com"),
        ("[::1]:9878", "::1"),
        ("[::1]", "::1"),
        ("[fe80::1", "fe80::1"),
        ("::1", "::1"),
        ("127.0.0.1:9878", "127.0.0.1"),
    ],
)
def test_split_host_strips_port_and_lowercases(host, expected):
    """split_host drops the port and brackets and lower-cases the name."""
    assert split_host(host) == expected


@pytest.mark.parametrize(
    ("host", "domains", "expected"),
    [
        (None, DOMAINS, None),
        ("", DOMAINS, None),
        ("bkt.s3.example.com", (), None),
        ("bkt.s3.example.com", DOMAINS, "bkt"),
        ("BKT.S3.Example.Com:9878", DOMAINS, "bkt"),
        ("a.b.s3.example.com", DOMAINS, "a.b"),
        ("s3.example.com", DOMAINS, None),
        ("example.com", DOMAINS, None),
        ("bkt.example.com", DOMAINS, "bkt"),
        ("bkt.example.org", DOMAINS, None),
        ("xs3.example.com", ("s3.example.com",), None),
        ("bkt.localhost:9878", ("localhost",), "bkt"),
    ],
)
def test_bucket_from_host_cases(host, domains, expected):
    """bucket_from_host finds the bucket label before a configured domain."""
    assert bucket_from_host(host, domains) == expected


@settings(max_examples=100, deadline=None)
@given(bucket=buckets, order=st.permutations(["example.com", "s3.example.com"]))
def test_bucket_from_host_longest_domain_wins(bucket, order):
    """The longest matching domain wins whatever the configured order."""
    assert bucket_from_host(f"{bucket}.s3.example.com", order) == bucket
    assert bucket_from_host("s3.example.com", order) is None
