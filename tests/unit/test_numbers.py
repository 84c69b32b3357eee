"""Numbers from clients (Range, x-amz-copy-source-range, partNumber,
max-keys, <PartNumber>, x-amz-decoded-content-length): ASCII digits only,
bounded; everything else is refused or, for Range, ignored."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.s3.context import Call, Headers
from ozs3.s3.errors import S3Error
from ozs3.s3.handlers.bucket import int_arg
from ozs3.s3.handlers.copy import copy_range
from ozs3.s3.handlers.multipart import part_target
from ozs3.s3.handlers.obj import _declared_size
from ozs3.s3.headers import parse_range
from ozs3.s3.numbers import decimal
from ozs3.s3.routing import S3Request
from ozs3.s3.xml_parse import parse_complete

# Unicode decimal digits int() accepts and S3 does not (Arabic-Indic,
# Devanagari, fullwidth, mathematical bold), and what int() strips or skips.
FOREIGN_DIGITS = "٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３４５６７８９𝟎𝟏𝟐𝟑"
NOT_ASCII_NUMBERS = st.one_of(
    st.text(alphabet=FOREIGN_DIGITS, min_size=1, max_size=5),
    st.builds(
        lambda a, f, b: a + f + b,
        st.text(alphabet="0123456789", max_size=3),
        st.sampled_from([*FOREIGN_DIGITS, "_", "\u00a0", "\u2003", "+", "-"]),
        st.text(alphabet="0123456789", min_size=1, max_size=3),
    ),
)
HUGE = "9" * 5000


def call(query: dict[str, str] | None = None, **headers: str) -> Call:
    s3 = S3Request("PUT", "b", "k", tuple((query or {}).items()), "path")
    pairs = tuple((k.replace("_", "-"), v) for k, v in headers.items())
    return Call("rid", "PutObject", s3, Headers(pairs), "-")


@given(st.integers(0, 10**19 - 1))
def test_decimal_reads_ascii_digits(n: int) -> None:
    assert decimal(str(n)) == n
    assert decimal(str(n).zfill(19)) == n


@given(NOT_ASCII_NUMBERS)
def test_decimal_refuses_what_int_would_take(text: str) -> None:
    assert decimal(text) is None


def test_decimal_is_bounded() -> None:
    assert decimal("1" * 19) == int("1" * 19)
    assert decimal("1" * 20) is None
    assert decimal(HUGE) is None  # int() would raise ValueError (4,300 digits)
    assert decimal("") is None and decimal(None) is None
    assert decimal("12345", 4) is None


# ---------------------------------------------------------------- Range


@settings(max_examples=200)
@given(NOT_ASCII_NUMBERS, st.integers(0, 100))
def test_range_with_foreign_digits_is_ignored(text: str, n: int) -> None:
    assert parse_range(f"bytes={text}-{n}", 1000) is None
    assert parse_range(f"bytes={n}-{text}", 1000) is None
    assert parse_range(f"bytes=-{text}", 1000) is None


def test_range_examples() -> None:
    assert parse_range("bytes=\u0660-\u0663", 10) is None
    assert parse_range(f"bytes=0-{HUGE}", 10) is None
    assert parse_range(f"bytes={HUGE}-", 10) is None
    assert parse_range(f"bytes=-{HUGE}", 10) is None
    assert parse_range("bytes=0-" + "9" * 19, 10) == (0, 9)  # clipped
    assert parse_range("byte\u017f=0-3", 10) is None  # not "bytes" under re.I
    assert parse_range("bytes=0-3\u00a0", 10) is None
    assert parse_range(" bytes = 2 - 3 ", 10) == (2, 3)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6))
def test_range_ascii_digits_still_work(a: int, b: int, size: int) -> None:
    try:
        got = parse_range(f"bytes={a}-{b}", size)
    except S3Error as e:
        assert e.code == "InvalidRange" and a >= size
        return
    if b < a:
        assert got is None
    else:
        assert got == (a, min(b, size - 1))


# ------------------------------------------- x-amz-copy-source-range


@given(st.one_of(NOT_ASCII_NUMBERS, st.just(HUGE), st.just("1" * 20)))
def test_copy_range_refuses_foreign_or_huge_numbers(text: str) -> None:
    for value in (f"bytes=0-{text}", f"bytes={text}-9"):
        with pytest.raises(S3Error) as e:
            copy_range(call(x_amz_copy_source_range=value))
        assert e.value.code == "InvalidArgument" and e.value.status == 400


def test_copy_range_ascii() -> None:
    assert copy_range(call(x_amz_copy_source_range="bytes=5-9")) == (5, 5)


# ---------------------------------- partNumber, <PartNumber>, max-keys


@given(NOT_ASCII_NUMBERS)
def test_part_number_query_refuses_foreign_digits(text: str) -> None:
    with pytest.raises(S3Error) as e:
        part_target(call({"uploadId": "u", "partNumber": text}))
    assert e.value.code == "InvalidArgument"


def test_part_number_query_examples() -> None:
    assert part_target(call({"uploadId": "u", "partNumber": "7"})).part_number == 7
    for bad in ("\u0661", HUGE, "0", "10001", " 1", "1_0"):
        with pytest.raises(S3Error):
            part_target(call({"uploadId": "u", "partNumber": bad}))


def _complete(number: str) -> bytes:
    return (
        "<CompleteMultipartUpload><Part><PartNumber>"
        f'{number}</PartNumber><ETag>"e"</ETag></Part></CompleteMultipartUpload>'
    ).encode()


@given(NOT_ASCII_NUMBERS)
def test_complete_part_number_refuses_foreign_digits(text: str) -> None:
    with pytest.raises(S3Error) as e:
        parse_complete(_complete(text))
    assert e.value.code in ("MalformedXML", "InvalidArgument")


def test_complete_part_number_examples() -> None:
    assert parse_complete(_complete(" 3\n")) == [(3, "e")]
    for bad in ("\u0661", HUGE):
        with pytest.raises(S3Error):
            parse_complete(_complete(bad))


@given(st.one_of(NOT_ASCII_NUMBERS, st.just(HUGE), st.just(str(2**31))))
def test_max_keys_refuses_foreign_or_huge(text: str) -> None:
    with pytest.raises(S3Error) as e:
        int_arg(call({"max-keys": text}), "max-keys", 1000)
    assert e.value.code == "InvalidArgument"


def test_max_keys_examples() -> None:
    assert int_arg(call({"max-keys": "5"}), "max-keys", 1000) == 5
    assert int_arg(call({"max-keys": str(2**31 - 1)}), "max-keys", 1) == 2**31 - 1


@given(st.one_of(NOT_ASCII_NUMBERS, st.just(HUGE)))
def test_decoded_content_length_refuses_foreign_or_huge(text: str) -> None:
    with pytest.raises(S3Error) as e:
        _declared_size(call(x_amz_decoded_content_length=text))
    assert e.value.code == "InvalidArgument"
