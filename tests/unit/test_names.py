"""Unit tests for ozs3.s3.names: bucket naming rules and key checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.names import (
    MAX_KEY_BYTES,
    check_bucket_name,
    check_key,
    is_valid_bucket_name,
)

VALID = [
    "abc",
    "a" * 63,
    "my-bucket",
    "my.bucket.name",
    "bucket-1.example",
    "123",
    "1.2.3",  # not four octets, so not IP-like
    "1.2.3.4.5",
    "a-b-c",
    "xn-abc",
    "b.xn--abc",
    "docexamplebucket1",
]

INVALID = [
    "",
    "a",
    "ab",
    "a" * 64,
    "Abc",
    "myBucket",
    "-abc",
    "abc-",
    ".abc",
    "abc.",
    "a..b",
    "a.-b",
    "a-.b",
    "a_b",
    "a b",
    "a/b",
    "192.168.5.4",
    "10.0.0.1",
    "999.999.999.999",
    "xn--abc",
    "sthree-abc",
    "amzn-s3-demo-bucket",
    "abc-s3alias",
    "abc--ol-s3",
    "abc.mrap",
    "abc--x-s3",
    "caf\u00e9",
    "\u0661\u0662\u0663",  # Arabic-Indic digits
]


@pytest.mark.parametrize("name", VALID)
def test_is_valid_bucket_name_accepts(name):
    """Names that follow S3's general-purpose rules are accepted."""
    assert is_valid_bucket_name(name)
    check_bucket_name(name)


@pytest.mark.parametrize("name", INVALID)
def test_is_valid_bucket_name_rejects(name):
    """Names breaking a rule are InvalidBucketName, naming the bucket."""
    assert not is_valid_bucket_name(name)
    with pytest.raises(S3Error) as info:
        check_bucket_name(name)
    assert info.value.code == "InvalidBucketName"
    assert info.value.status == 400
    assert info.value.resource == name
    assert info.value.extra == {"BucketName": name}


@pytest.mark.parametrize(
    ("length", "ok"), [(1, False), (2, False), (3, True), (63, True), (64, False)]
)
def test_is_valid_bucket_name_length_bounds(length, ok):
    """Bucket names are 3 to 63 characters long."""
    assert is_valid_bucket_name("b" * length) is ok


@pytest.mark.parametrize("name", ["abc\n", "my-bucket\n", "a" * 63 + "\n"])
def test_is_valid_bucket_name_rejects_trailing_newline(name):
    """A trailing newline makes a bucket name invalid."""
    assert not is_valid_bucket_name(name)


_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10).map(
    lambda s: "a" + s.strip("-") + "z"
)
good_names = (
    st.lists(_label, min_size=1, max_size=5)
    .map(".".join)
    .filter(lambda n: 3 <= len(n) <= 63 and not n.startswith("amzn-s3-demo-"))
)


@settings(max_examples=200, deadline=None)
@given(name=good_names)
def test_is_valid_bucket_name_generated_valid(name):
    """Dot-joined lowercase labels starting/ending alphanumeric are valid."""
    assert is_valid_bucket_name(name)


@settings(max_examples=200, deadline=None)
@given(
    name=good_names,
    pos=st.integers(0, 62),
    bad=st.sampled_from(list("ABCZ_ /:@!\u00e9\x00")),
)
def test_is_valid_bucket_name_bad_character_rejected(name, pos, bad):
    """Inserting an upper-case or non [a-z0-9.-] character invalidates a name."""
    pos = min(pos, len(name))
    assert not is_valid_bucket_name(name[:pos] + bad + name[pos:])


@settings(max_examples=100, deadline=None)
@given(octets=st.lists(st.integers(0, 999), min_size=4, max_size=4))
def test_is_valid_bucket_name_ip_like_rejected(octets):
    """Four dot-separated 1-3 digit groups look like an IP and are invalid."""
    assert not is_valid_bucket_name(".".join(map(str, octets)))


# ---------------------------------------------------------------- keys


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "x" * MAX_KEY_BYTES,
        "\u00e9" * (MAX_KEY_BYTES // 2),
        "\U0001f600" * (MAX_KEY_BYTES // 4),
        "a//b/",
        "tab\there",
        "line\nbreak",
        "cr\rhere",
        "\x7f\x85\u2028",
        "\ufffd",
    ],
)
def test_check_key_accepts(key):
    """Keys up to 1024 UTF-8 bytes made of XML-representable characters pass."""
    check_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "x" * (MAX_KEY_BYTES + 1),
        "\u00e9" * (MAX_KEY_BYTES // 2) + "a",
        "\U0001f600" * (MAX_KEY_BYTES // 4) + "a",
        "a" * 2000,
    ],
)
def test_check_key_too_long(key):
    """Keys over 1024 UTF-8 bytes are KeyTooLongError with their size."""
    with pytest.raises(S3Error) as info:
        check_key(key)
    assert info.value.code == "KeyTooLongError"
    assert info.value.extra["Size"] == str(len(key.encode()))
    assert info.value.extra["MaxSizeAllowed"] == "1024"


CONTROL = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + [
    "\ufffe",
    "\uffff",
]


@pytest.mark.parametrize("bad", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
def test_check_key_control_character_invalid_argument(bad):
    """Characters XML 1.0 cannot carry are InvalidArgument."""
    with pytest.raises(S3Error) as info:
        check_key("pre" + bad + "post")
    assert info.value.code == "InvalidArgument"
    assert info.value.extra == {"ArgumentName": "key"}


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(st.characters(codec="utf-8"), min_size=1, max_size=300),
    bad=st.sampled_from(CONTROL),
    pos=st.integers(0, 300),
)
def test_check_key_any_control_character_refused(key, bad, pos):
    """A control character anywhere in a short key is refused."""
    pos = min(pos, len(key))
    with pytest.raises(S3Error) as info:
        check_key(key[:pos] + bad + key[pos:])
    assert info.value.code in ("InvalidArgument", "KeyTooLongError")
