"""Unit tests for ozs3.s3.headers: Range, ETags, dates, conditionals, metadata."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.headers import (
    MAX_USER_META,
    content_md5,
    etag_matches,
    evaluate_conditionals,
    http_date,
    is_aws_chunked,
    iso8601,
    iso8601_stamps,
    parse_http_date,
    parse_range,
    payload_sha256,
    quote_etag,
    user_metadata,
)

# ---------------------------------------------------------------- Range


def reference_range(kind: str, a: int, b: int, size: int):
    """RFC 9110 single byte-range semantics: (start, end), None or 'invalid'."""
    if kind == "a-b":
        if b < a:
            return None
        if a >= size:
            return "invalid"
        return a, min(b, size - 1)
    if kind == "a-":
        if a >= size:
            return "invalid"
        return a, size - 1
    # "-n": the last n bytes
    if b == 0 or size == 0:
        return "invalid"
    return max(0, size - b), size - 1


def render_range(kind: str, a: int, b: int, spaces: tuple[str, ...], unit: str):
    s0, s1, s2, s3 = spaces
    first = str(a) if kind != "-n" else ""
    last = str(b) if kind != "a-" else ""
    return f"{s0}{unit}{s1}={s2}{first}{s3}-{s1}{last}{s0}"


sizes = st.integers(0, 2**40)
positions = st.one_of(st.integers(0, 50), st.integers(0, 2**41))


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["a-b", "a-", "-n"]),
    a=positions,
    b=positions,
    size=st.one_of(st.integers(0, 50), sizes),
    spaces=st.tuples(*[st.sampled_from(["", " ", "\t"])] * 4),
    unit=st.sampled_from(["bytes", "BYTES", "Bytes"]),
)
def test_parse_range_matches_reference(kind, a, b, size, spaces, unit):
    """parse_range agrees with the RFC 9110 model for random sizes/ranges."""
    header = render_range(kind, a, b, spaces, unit)
    expected = reference_range(kind, a, b, size)
    if expected == "invalid":
        with pytest.raises(S3Error) as info:
            parse_range(header, size)
        assert info.value.code == "InvalidRange"
        assert info.value.status == 416
        assert info.value.headers == {"content-range": f"bytes */{size}"}
        assert info.value.extra["ActualObjectSize"] == str(size)
    else:
        got = parse_range(header, size)
        assert got == expected
        if got is not None:
            start, end = got
            assert 0 <= start <= end < size


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=0-9", 10, (0, 9)),
        ("bytes=0-100", 10, (0, 9)),
        ("bytes=9-", 10, (9, 9)),
        ("bytes=-1", 10, (9, 9)),
        ("bytes=-10", 10, (0, 9)),
        ("bytes=-100", 10, (0, 9)),
        ("bytes=5-4", 10, None),
        (None, 10, None),
    ],
)
def test_parse_range_examples(header, size, expected):
    """Hand-picked satisfiable and ignorable ranges."""
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10), ("bytes=0-", 0)],
)
def test_parse_range_unsatisfiable_examples(header, size):
    """Ranges beyond the object (or empty suffixes) are InvalidRange."""
    with pytest.raises(S3Error) as info:
        parse_range(header, size)
    assert info.value.code == "InvalidRange"
    assert info.value.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=0-1,3-4",
        "bytes=0-1, 5-",
        "items=0-1",
        "0-1",
        "bytes=1",
        "bytes=-1-2",
        "bytes=--1",
        "bytes=a-b",
        "bytes=1.5-2",
        "bytes=0x1-2",
        "bytes 0-1",
    ],
)
def test_parse_range_syntactically_invalid_ignored(header):
    """Headers that are not one byte range are ignored (whole object)."""
    assert parse_range(header, 100) is None


@settings(max_examples=200, deadline=None)
@given(header=st.text(st.characters(exclude_characters="0123456789")), size=sizes)
def test_parse_range_without_digits_ignored(header, size):
    """A Range header with no digits at all never selects or refuses a range."""
    assert parse_range(header, size) is None


# ---------------------------------------------------------------- ETags

etags = st.builds(
    lambda d, parts: d.hex() + (f"-{parts}" if parts else ""),
    st.binary(min_size=16, max_size=16),
    st.none() | st.integers(1, 10000),
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"abc"', True),
        ("abc", True),
        ('W/"abc"', True),
        ("*", True),
        (' "x", "abc" ', True),
        ('"x",W/"abc"', True),
        ('"x", *', True),
        ('"abcd"', False),
        ('"ab"', False),
        ('"x", "y"', False),
        ("", False),
        ('"ABC"', False),
    ],
)
def test_etag_matches_examples(header, expected):
    """Quoted, unquoted, weak, '*' and list forms of If-(None-)Match."""
    assert etag_matches(header, "abc") is expected


@settings(max_examples=200, deadline=None)
@given(
    etag=etags,
    others=st.lists(etags, max_size=4),
    pos=st.integers(0, 4),
    weak=st.booleans(),
    quoted=st.booleans(),
)
def test_etag_matches_in_any_list_position(etag, others, pos, weak, quoted):
    """An ETag anywhere in a comma list matches; a list without it does not."""
    others = [o for o in others if o != etag]

    def form(t: str) -> str:
        t = f'"{t}"' if quoted else t
        return f"W/{t}" if weak else t

    without = ", ".join(form(o) for o in others)
    assert etag_matches(without, etag) is False
    items = [form(o) for o in others]
    items.insert(min(pos, len(items)), form(etag))
    assert etag_matches(",".join(items), etag) is True


def test_quote_etag_wraps_in_quotes():
    """quote_etag renders the HTTP entity-tag form."""
    assert quote_etag("d41d8cd98f00b204e9800998ecf8427e") == (
        '"d41d8cd98f00b204e9800998ecf8427e"'
    )


# ---------------------------------------------------------------- dates

timestamps = st.floats(min_value=0, max_value=253402300799.0, allow_nan=False)
HTTP_DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT$"
)


@settings(max_examples=300, deadline=None)
@given(ts=timestamps)
def test_http_date_round_trip(ts):
    """parse_http_date(http_date(t)) is t truncated to whole seconds."""
    text = http_date(ts)
    assert HTTP_DATE_RE.match(text), text
    assert parse_http_date(text) == int(ts)


def test_http_date_known_value():
    """http_date renders the RFC 9110 IMF-fixdate of a known instant."""
    assert http_date(784111777.9) == "Sun, 06 Nov 1994 08:49:37 GMT"


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 09:49:37 +0100",
    ],
)
def test_parse_http_date_accepts_rfc9110_formats(text):
    """IMF-fixdate, RFC 850 and asctime dates all parse to the same instant."""
    assert parse_http_date(text) == 784111777.0


@pytest.mark.parametrize(
    "text", [None, "", "garbage", "Sun, 32 Nov 1994 08:49:37 GMT", "1994-11-06"]
)
def test_parse_http_date_invalid_is_none(text):
    """Unparseable dates are None (and so ignored by conditionals)."""
    assert parse_http_date(text) is None


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_parse_http_date_never_raises(text):
    """Arbitrary header text parses to a float or None, never an exception."""
    result = parse_http_date(text)
    assert result is None or isinstance(result, float)


ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@settings(max_examples=300, deadline=None)
@given(ts=st.floats(min_value=0, max_value=253402300798.0, allow_nan=False))
def test_iso8601_format_and_value(ts):
    """iso8601 is YYYY-MM-DDTHH:MM:SS.mmmZ and within a millisecond of t."""
    text = iso8601(ts)
    assert ISO_RE.match(text), text
    parsed = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.UTC
    )
    assert abs(parsed.timestamp() - ts) < 0.0011


@settings(max_examples=500, deadline=None)
@given(ts=st.floats(min_value=0, max_value=253402300798.0, allow_nan=False))
def test_iso8601_is_what_datetime_writes(ts):
    """The listing's timestamps are datetime's (its rounding to microseconds,
    then milliseconds cut), computed from integers."""
    dt = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    assert iso8601(ts) == dt.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{dt.microsecond // 1000:03d}Z"
    )


@settings(max_examples=300, deadline=None)
@given(
    stamps=st.lists(
        st.one_of(
            st.floats(min_value=0, max_value=253402300798.0, allow_nan=False),
            # Runs within a second, and values rounding into the next one.
            st.integers(1_700_000_000, 1_700_000_003).map(lambda s: s + 0.9999996),
            st.integers(1_700_000_000, 1_700_000_003).map(lambda s: s + 0.5),
        ),
        max_size=30,
    )
)
def test_a_page_of_stamps_is_each_stamp(stamps):
    """iso8601_stamps (a listing page's, at once) writes what iso8601 writes
    for each, in order."""
    assert iso8601_stamps(stamps) == [iso8601(ts) for ts in stamps]


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1700000000.123456, "2023-11-14T22:13:20.123Z"),
        (1700000000.9999, "2023-11-14T22:13:20.999Z"),
    ],
)
def test_iso8601_examples(ts, text):
    """iso8601 truncates to milliseconds in UTC."""
    assert iso8601(ts) == text


# ---------------------------------------------------------------- conditionals

T = 1_700_000_000
ETAG = "0123456789abcdef0123456789abcdef"


def reference_conditionals(h: dict[str, str], etag: str, mtime: int):
    """RFC 9110 section 13.2.2 evaluation order for GET/HEAD."""

    def matches(v: str) -> bool:
        return any(
            i.strip().removeprefix("W/").strip('"') in (etag, "*") for i in v.split(",")
        )

    if "if-match" in h:
        if not matches(h["if-match"]):
            return 412
    elif "if-unmodified-since" in h:
        since = parse_http_date(h["if-unmodified-since"])
        if since is not None and mtime > since:
            return 412
    if "if-none-match" in h:
        if matches(h["if-none-match"]):
            return 304
    elif "if-modified-since" in h:
        since = parse_http_date(h["if-modified-since"])
        if since is not None and mtime <= since:
            return 304
    return None


etag_header = st.sampled_from([f'"{ETAG}"', '"other"', "*", f'"x", W/"{ETAG}"'])
date_header = st.one_of(st.integers(T - 3, T + 3).map(http_date), st.just("not a date"))


@settings(max_examples=300, deadline=None)
@given(
    im=st.none() | etag_header,
    inm=st.none() | etag_header,
    ius=st.none() | date_header,
    ims=st.none() | date_header,
    frac=st.floats(0, 0.999),
)
def test_evaluate_conditionals_matches_reference(im, inm, ius, ims, frac):
    """evaluate_conditionals follows RFC 9110 precedence for any combination."""
    h = {
        name: v
        for name, v in [
            ("if-match", im),
            ("if-none-match", inm),
            ("if-unmodified-since", ius),
            ("if-modified-since", ims),
        ]
        if v is not None
    }
    assert evaluate_conditionals(h, ETAG, T + frac) == reference_conditionals(
        h, ETAG, T
    )


def test_evaluate_conditionals_none_without_headers():
    """No conditional headers -> proceed."""
    assert evaluate_conditionals({}, ETAG, T) is None


def test_evaluate_conditionals_if_match_beats_if_unmodified_since():
    """A matching If-Match overrides a failing If-Unmodified-Since."""
    h = {"if-match": f'"{ETAG}"', "if-unmodified-since": http_date(T - 100)}
    assert evaluate_conditionals(h, ETAG, T) is None
    alone = {"if-unmodified-since": http_date(T - 100)}
    assert evaluate_conditionals(alone, ETAG, T) == 412


def test_evaluate_conditionals_if_none_match_beats_if_modified_since():
    """A non-matching If-None-Match overrides a 304-ing If-Modified-Since."""
    h = {"if-none-match": '"other"', "if-modified-since": http_date(T + 100)}
    assert evaluate_conditionals(h, ETAG, T) is None
    assert (
        evaluate_conditionals({"if-modified-since": http_date(T + 100)}, ETAG, T) == 304
    )


def test_evaluate_conditionals_412_beats_304():
    """A failing If-Match is 412 even when If-None-Match would be 304."""
    h = {"if-match": '"other"', "if-none-match": f'"{ETAG}"'}
    assert evaluate_conditionals(h, ETAG, T) == 412


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"if-match": f'"{ETAG}"'}, None),
        ({"if-match": '"other"'}, 412),
        ({"if-match": "*"}, None),
        ({"if-none-match": f'"{ETAG}"'}, 304),
        ({"if-none-match": "*"}, 304),
        ({"if-none-match": '"other"'}, None),
        ({"if-modified-since": http_date(T)}, 304),
        ({"if-modified-since": http_date(T - 1)}, None),
        ({"if-unmodified-since": http_date(T)}, None),
        ({"if-unmodified-since": http_date(T - 1)}, 412),
        ({"if-modified-since": "garbage"}, None),
        ({"if-unmodified-since": "garbage"}, None),
    ],
)
def test_evaluate_conditionals_single_header(headers, expected):
    """Each conditional alone, with sub-second mtimes compared in seconds."""
    assert evaluate_conditionals(headers, ETAG, T + 0.75) == expected


# ---------------------------------------------------------------- metadata

meta_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
meta_values = st.text(st.characters(codec="utf-8"), max_size=40)


def reference_metadata(headers):
    found: dict[str, list[str]] = {}
    for name, value in headers:
        low = name.lower()
        if low.startswith("x-amz-meta-") and len(low) > len("x-amz-meta-"):
            found.setdefault(low[len("x-amz-meta-") :], []).append(value)
    return {k: ",".join(v) for k, v in found.items()}


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.one_of(
                meta_names.map(lambda n: "x-amz-meta-" + n),
                meta_names.map(lambda n: "X-Amz-Meta-" + n.upper()),
                st.sampled_from(["content-type", "x-amz-meta-", "x-amz-date"]),
            ),
            meta_values,
        ),
        max_size=60,
    )
)
def test_user_metadata_matches_reference(pairs):
    """Names fold to lower case, repeats join with commas, 2 KiB cap holds."""
    expected = reference_metadata(pairs)
    size = sum(len(k.encode()) + len(v.encode()) for k, v in expected.items())
    if size > MAX_USER_META:
        with pytest.raises(S3Error) as info:
            user_metadata(pairs)
        assert info.value.code == "MetadataTooLarge"
        assert info.value.extra["Size"] == str(size)
    else:
        assert user_metadata(pairs) == tuple(sorted(expected.items()))


def test_user_metadata_folds_case_and_joins_repeats():
    """X-Amz-Meta-Foo and x-amz-meta-foo are one entry, values comma-joined."""
    got = user_metadata(
        [("X-Amz-Meta-Foo", "1"), ("content-type", "x"), ("x-amz-meta-foo", "2")]
    )
    assert got == (("foo", "1,2"),)


def test_user_metadata_at_limit_accepted():
    """Exactly 2048 bytes of names plus values is accepted."""
    value = "v" * (MAX_USER_META - 1)
    assert user_metadata([("x-amz-meta-k", value)]) == (("k", value),)


def test_user_metadata_over_limit_refused():
    """2049 bytes of metadata is MetadataTooLarge."""
    with pytest.raises(S3Error) as info:
        user_metadata([("x-amz-meta-k", "v" * MAX_USER_META)])
    assert info.value.code == "MetadataTooLarge"
    assert info.value.extra == {"Size": "2049", "MaxSizeAllowed": "2048"}


def test_user_metadata_counts_utf8_bytes():
    """The cap counts UTF-8 bytes, not characters."""
    value = "\u00e9" * 1024  # 2048 bytes
    with pytest.raises(S3Error):
        user_metadata([("x-amz-meta-k", value)])
    assert user_metadata([("x-amz-meta-k", value[:-1])])


# ---------------------------------------------------------------- digests


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=100))
def test_content_md5_decodes_real_digest(data):
    """A base64 MD5 digest decodes to its 16 bytes (whitespace tolerated)."""
    digest = hashlib.md5(data).digest()
    assert content_md5(base64.b64encode(digest).decode()) == digest
    assert content_md5(" " + base64.b64encode(digest).decode() + " ") == digest


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=40))
def test_content_md5_wrong_length_invalid_digest(raw):
    """Valid base64 of anything but 16 bytes is InvalidDigest."""
    assume(len(raw) != 16)
    value = base64.b64encode(raw).decode()
    with pytest.raises(S3Error) as info:
        content_md5(value)
    assert info.value.code == "InvalidDigest"
    assert info.value.extra == {"Content-MD5": value}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        "1B2M2Y8AsgTpgAmY7PhCfg",  # missing padding
        "1B2M2Y8AsgTpgAmY7PhCfg=",
        "1B2M2Y8AsgTpgAmY7PhC*g==",
        "d41d8cd98f00b204e9800998ecf8427e",  # hex, not base64
        "1B2M2Y8Asg Tpg AmY7PhCfg==",
    ],
)
def test_content_md5_bad_base64_invalid_digest(value):
    """Malformed base64 is InvalidDigest."""
    with pytest.raises(S3Error) as info:
        content_md5(value)
    assert info.value.code == "InvalidDigest"


def test_content_md5_absent_is_none():
    """No Content-MD5 header -> None."""
    assert content_md5(None) is None


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=100), upper=st.booleans())
def test_payload_sha256_hex_digest(data, upper):
    """A 64-hex x-amz-content-sha256 is returned as the 32-byte digest."""
    hexdigest = hashlib.sha256(data).hexdigest()
    value = hexdigest.upper() if upper else hexdigest
    assert payload_sha256(value) == hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    "value",
    [
        None,
        "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "",
    ],
)
def test_payload_sha256_special_or_malformed_is_none(value):
    """Special values and anything not 64 hex digits give None."""
    assert payload_sha256(value) is None


def test_payload_sha256_trailing_newline_not_hex():
    """A value with a trailing newline is not 64 hex digits."""
    assert payload_sha256("a" * 64 + "\n") is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"content-encoding": "aws-chunked"}, True),
        ({"content-encoding": "AWS-Chunked,gzip"}, True),
        ({"content-encoding": "gzip, aws-chunked"}, True),
        ({"content-encoding": "gzip"}, False),
        ({"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, True),
        ({"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}, True),
        ({"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, False),
        ({"x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb924" * 2}, False),
    ],
)
def test_is_aws_chunked(headers, expected):
    """aws-chunked is signalled by Content-Encoding or a STREAMING-* sha256."""
    assert is_aws_chunked(headers.get) is expected


def test_a_key_without_an_etag_gets_no_etag_header_and_matches_only_star():
    from ozs3.s3.handlers.read import object_headers
    from ozs3.s3.headers import etag_matches
    from ozs3.storage.model import KeyInfo, ObjectMeta

    assert "etag" not in object_headers(KeyInfo("b", "k", 1, "", 0.0, ObjectMeta()))
    assert (
        object_headers(KeyInfo("b", "k", 1, "ab", 0.0, ObjectMeta()))["etag"] == '"ab"'
    )
    assert not etag_matches('""', "")
    assert etag_matches("*", "")


def test_a_future_if_modified_since_is_ignored():
    """No object was modified after a date still to come: S3 (and RFC 2616)
    ignore such an If-Modified-Since, on GET and on copy sources alike."""
    h = {"if-modified-since": http_date(T + 100)}
    assert evaluate_conditionals(h, ETAG, T, now=T + 200) == 304
    assert evaluate_conditionals(h, ETAG, T, now=T + 50) is None
    assert evaluate_conditionals(h, ETAG, T) == 304  # the real clock is past T + 100
