"""Unit tests for ozs3.s3.chunked: the sans-IO aws-chunked body decoder."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.s3.chunked import (
    MAX_HEADER_LINE,
    MAX_TRAILERS,
    AwsChunkedDecoder,
    AwsChunkedError,
)

SIG = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"


def build_body(
    chunks: list[bytes],
    signatures: list[str | None] | None = None,
    trailers: list[tuple[str, str]] = (),
    upper: bool = False,
    zero_pad: int = 0,
) -> bytes:
    """An aws-chunked body: chunks, the final 0 chunk, trailers, blank line."""
    if signatures is None:
        signatures = [None] * (len(chunks) + 1)
    out = bytearray()
    for data, sig in zip([*chunks, b""], signatures):
        size = "0" * zero_pad + format(len(data), "X" if upper else "x")
        out += size.encode()
        if sig is not None:
            out += b";chunk-signature=" + sig.encode()
        out += b"\r\n"
        if data:
            out += data + b"\r\n"
    for name, value in trailers:
        out += f"{name}:{value}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def feed_all(decoder: AwsChunkedDecoder, body: bytes, cuts: list[int]) -> bytes:
    """Feed ``body`` split at ``cuts``; the joined decoded payload."""
    out = bytearray()
    bounds = [0, *sorted(c % (len(body) + 1) for c in cuts), len(body)]
    for lo, hi in itertools.pairwise(bounds):
        for piece in decoder.feed(body[lo:hi]):
            assert isinstance(piece, memoryview)
            out += piece
    return bytes(out)


TRAILER_NAMES = (
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-sha256",
    "x-amz-trailer-signature",
    "x-amz-meta-x",
)
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


@st.composite
def chunked_bodies(draw):
    payload = draw(st.binary(max_size=3000))
    sizes = draw(st.lists(st.integers(1, 700), max_size=30))
    chunks = []
    pos = 0
    for n in sizes:
        if pos >= len(payload):
            break
        chunks.append(payload[pos : pos + n])
        pos += n
    if pos < len(payload):
        chunks.append(payload[pos:])
    signed = draw(st.booleans())
    sigs: list[str | None]
    if signed:
        sigs = draw(
            st.lists(
                st.binary(min_size=32, max_size=32).map(bytes.hex),
                min_size=len(chunks) + 1,
                max_size=len(chunks) + 1,
            )
        )
    else:
        sigs = [None] * (len(chunks) + 1)
    names = draw(st.lists(st.sampled_from(TRAILER_NAMES), unique=True, max_size=3))
    values = [draw(st.text(B64, max_size=44)) for _ in names]
    trailers = list(zip(names, values))
    body = build_body(
        chunks,
        sigs,
        trailers,
        upper=draw(st.booleans()),
        zero_pad=draw(st.integers(0, 3)),
    )
    return payload, sigs, dict(trailers), body


cut_lists = st.lists(st.integers(min_value=0, max_value=10**6), max_size=40)


@settings(max_examples=200, deadline=None)
@given(case=chunked_bodies(), cuts=cut_lists)
def test_decoder_any_split_decodes_identically(case, cuts):
    """Any split of a valid body yields the payload, signatures and trailers."""
    payload, sigs, trailers, body = case
    d = AwsChunkedDecoder()
    assert feed_all(d, body, cuts) == payload
    assert d.done
    assert d.decoded == len(payload)
    assert d.chunk_signatures == sigs
    assert d.trailers == trailers


@settings(max_examples=100, deadline=None)
@given(case=chunked_bodies(), data=st.data())
def test_decoder_truncated_body_not_done(case, data):
    """A proper prefix of a valid body is not an error and is not done."""
    payload, _, _, body = case
    cut = data.draw(st.integers(0, len(body) - 1))
    cuts = data.draw(st.lists(st.integers(0, cut), max_size=10))
    d = AwsChunkedDecoder()
    got = feed_all(d, body[:cut], cuts)
    assert not d.done
    assert payload.startswith(got)
    assert d.decoded == len(got)


def test_decoder_byte_at_a_time():
    """Feeding one byte per call decodes the same as one big call."""
    body = build_body([b"hello ", b"world"], [SIG, SIG, SIG], [("x-amz-a", "1")])
    d = AwsChunkedDecoder()
    out = b"".join(bytes(p) for i in range(len(body)) for p in d.feed(body[i : i + 1]))
    assert out == b"hello world"
    assert d.done
    assert d.chunk_signatures == [SIG, SIG, SIG]


def test_decoder_trailer_names_lowercased_values_stripped():
    """Trailer names are lower-cased; names and values are stripped."""
    body = b"3\r\nabc\r\n0\r\nX-Amz-Checksum-CRC32 :  AAAA== \r\n\r\n"
    d = AwsChunkedDecoder()
    assert feed_all(d, body, []) == b"abc"
    assert d.trailers == {"x-amz-checksum-crc32": "AAAA=="}


def test_decoder_trailer_value_may_contain_colon():
    """Only the first ':' separates a trailer name from its value."""
    body = b"0\r\nx-amz-trailer-signature:a:b:c\r\n\r\n"
    d = AwsChunkedDecoder()
    feed_all(d, body, [])
    assert d.trailers == {"x-amz-trailer-signature": "a:b:c"}


def test_decoder_unknown_chunk_extension_has_no_signature():
    """A chunk extension other than chunk-signature records None."""
    d = AwsChunkedDecoder()
    assert feed_all(d, b"2;foo=bar\r\nhi\r\n0\r\n\r\n", []) == b"hi"
    assert d.chunk_signatures == [None, None]


def test_decoder_empty_payload():
    """A body of just the final chunk decodes to nothing and is done."""
    d = AwsChunkedDecoder()
    assert feed_all(d, b"0;chunk-signature=" + SIG.encode() + b"\r\n\r\n", []) == b""
    assert d.done
    assert d.chunk_signatures == [SIG]


def test_decoder_feed_empty_is_noop():
    """Feeding b'' produces nothing and changes no state."""
    d = AwsChunkedDecoder()
    assert d.feed(b"") == []
    assert not d.done
    assert d.decoded == 0


def test_decoder_pieces_are_views_of_input():
    """Decoded pieces reference the input buffer rather than copies."""
    buf = bytearray(b"5\r\nhello\r\n0\r\n\r\n")
    d = AwsChunkedDecoder()
    (piece,) = d.feed(buf)
    assert piece.obj is buf


def test_decoder_header_line_at_limit_accepted():
    """A chunk header line of exactly MAX_HEADER_LINE bytes is accepted."""
    line = b"5;" + b"x" * (MAX_HEADER_LINE - 2)
    d = AwsChunkedDecoder()
    assert feed_all(d, line + b"\r\nhello\r\n0\r\n\r\n", []) == b"hello"
    assert d.done


def test_decoder_header_line_at_limit_split_before_lf():
    """A limit-length header line is accepted however the input is split."""
    line = b"5;" + b"x" * (MAX_HEADER_LINE - 2)
    body = line + b"\r\nhello\r\n0\r\n\r\n"
    d = AwsChunkedDecoder()
    assert feed_all(d, body, [len(line) + 1]) == b"hello"
    assert d.done


MALFORMED = {
    "bad hex": b"zz\r\nhello\r\n0\r\n\r\n",
    "hex with junk": b"5g\r\nhello\r\n0\r\n\r\n",
    "empty size": b"\r\nhello\r\n0\r\n\r\n",
    "blank size": b"  \r\n",
    "negative size": b"-5\r\nhello\r\n0\r\n\r\n",
    "plus sign": b"+5\r\nhello\r\n0\r\n\r\n",
    "underscore": b"1_0\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n",
    "header LF only": b"5\nhello\r\n0\r\n\r\n",
    "data LF only": b"5\r\nhello\n0\r\n\r\n",
    "data no CRLF": b"5\r\nhello0\r\n\r\n",
    "data longer": b"3\r\nhello\r\n0\r\n\r\n",
    "final LF only": b"0\n\n",
    "trailer LF only": b"0\r\nx-amz-a:1\n\r\n",
    "trailer no colon": b"0\r\nx-amz-checksum-crc32\r\n\r\n",
    "after final": b"0\r\n\r\nx",
    "chunk after final": b"0\r\n\r\n5\r\nhello\r\n",
    "signed after final": b"0;chunk-signature=" + SIG.encode() + b"\r\n\r\n\r\n",
    "oversize header": b"1" * (MAX_HEADER_LINE + 10),
    "oversize header CRLF": b"5;" + b"x" * MAX_HEADER_LINE + b"\r\nhello\r\n",
    "oversize data tail": b"3\r\nabc" + b"d" * (MAX_HEADER_LINE + 10),
    "oversize trailer": b"0\r\nx-amz-a:" + b"v" * MAX_HEADER_LINE + b"\r\n\r\n",
    "trailers too large": b"0\r\n"
    + b"".join(
        b"x-amz-t%d:" % i + b"v" * 1000 + b"\r\n"
        for i in range(MAX_TRAILERS // 1000 + 2)
    )
    + b"\r\n",
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_decoder_malformed_raises(body):
    """Malformed framing raises AwsChunkedError when fed in one piece."""
    d = AwsChunkedDecoder()
    with pytest.raises(AwsChunkedError):
        d.feed(body)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(MALFORMED)), cuts=cut_lists)
def test_decoder_malformed_raises_any_split(name, cuts):
    """Malformed framing raises AwsChunkedError however the body is split."""
    body = MALFORMED[name]
    d = AwsChunkedDecoder()
    with pytest.raises(AwsChunkedError):
        feed_all(d, body, cuts)


def test_decoder_hex_prefix_refused():
    """A chunk size with a 0x prefix is not hex digits and is refused."""
    d = AwsChunkedDecoder()
    with pytest.raises(AwsChunkedError):
        d.feed(b"0x5\r\nhello\r\n0\r\n\r\n")


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(min_size=1, max_size=200), extra=st.binary(min_size=1))
def test_decoder_data_after_done_raises(payload, extra):
    """Any byte after the terminating blank line is an error."""
    d = AwsChunkedDecoder()
    feed_all(d, build_body([payload]), [])
    assert d.done
    with pytest.raises(AwsChunkedError):
        d.feed(extra)
