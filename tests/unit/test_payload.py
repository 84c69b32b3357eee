"""Unit tests for ozs3.s3.payload: a buffered body against the digests its
request declares (x-amz-content-sha256, Content-MD5, x-amz-checksum-*)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.digests import ALGORITHMS, Checksum
from ozs3.s3.errors import S3Error
from ozs3.s3.payload import verify_buffered


def _checksum(algorithm: str, body: bytes) -> str:
    c = Checksum(algorithm)
    c.update(body)
    return c.b64()


def _declared(
    body: bytes, sha: bool, md5: bool, algorithm: str | None
) -> dict[str, str]:
    headers = {}
    if sha:
        headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    if md5:
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    if algorithm is not None:
        headers[f"x-amz-checksum-{algorithm}"] = _checksum(algorithm, body)
        headers["x-amz-sdk-checksum-algorithm"] = algorithm.upper()
    return headers


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=2048),
    other=st.binary(max_size=2048),
    sha=st.booleans(),
    md5=st.booleans(),
    algorithm=st.one_of(st.none(), st.sampled_from(ALGORITHMS)),
)
def test_the_declared_body_passes_any_other_fails(body, other, sha, md5, algorithm):
    """The body the digests were made for passes; any other body fails with
    the error of the first digest it breaks, in S3's order: payload hash
    (XAmzContentSHA256Mismatch), then Content-MD5 and checksums (BadDigest).
    Without any digest, every body passes."""
    headers = _declared(body, sha, md5, algorithm)
    verify_buffered(headers.get, body)
    if other == body:
        return
    if not (sha or md5 or algorithm):
        verify_buffered(headers.get, other)
        return
    with pytest.raises(S3Error) as err:
        verify_buffered(headers.get, other)
    assert err.value.code == ("XAmzContentSHA256Mismatch" if sha else "BadDigest")
    assert err.value.status == 400


@pytest.mark.parametrize(
    "value", ["UNSIGNED-PAYLOAD", hashlib.sha256(b"").hexdigest(), "not-hex"]
)
def test_values_that_vouch_for_nothing_here(value: str) -> None:
    """UNSIGNED-PAYLOAD, and any value that is not a hex digest (the
    signature check has already refused what it must), check nothing; the
    empty-body hash holds for the empty body only."""
    verify_buffered({"x-amz-content-sha256": value}.get, b"")
    if value == hashlib.sha256(b"").hexdigest():
        with pytest.raises(S3Error) as err:
            verify_buffered({"x-amz-content-sha256": value}.get, b"<Delete/>")
        assert err.value.code == "XAmzContentSHA256Mismatch"
    else:
        verify_buffered({"x-amz-content-sha256": value}.get, b"<Delete/>")


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        (
            {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
            "InvalidRequest",
        ),
        (
            {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
            "InvalidRequest",
        ),
        ({"x-amz-trailer": "x-amz-checksum-crc32"}, "InvalidRequest"),
        ({"content-md5": "not base64!"}, "InvalidDigest"),
        ({"x-amz-checksum-crc32": "AAAA"}, "InvalidRequest"),
    ],
)
def test_bodies_that_cannot_be_checked_are_refused(headers, code) -> None:
    """aws-chunked framing or a trailer on a buffered operation (its chunks
    or trailer would go unchecked), or a malformed digest: refused."""
    with pytest.raises(S3Error) as err:
        verify_buffered(headers.get, b"<Delete/>")
    assert err.value.code == code
