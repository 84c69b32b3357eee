"""refuse_unsupported (pure): the headers it refuses, against a plain
reading of its table, and the Headers it reads them from."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozs3.s3.context import Headers
from ozs3.s3.errors import S3Error
from ozs3.s3.unsupported import _NOT_IMPLEMENTED, _OBJECT_LOCK, refuse_unsupported

OPS = ["PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart",
       "UploadPartCopy", "GetObject", "HeadObject", "DeleteObject", "CreateBucket",
       "ListObjectsV2"]  # fmt: skip
PREFIXES = ("x-amz-server-side-encryption-customer-",
            "x-amz-copy-source-server-side-encryption-customer-")  # fmt: skip
NAMES = st.one_of(
    st.sampled_from(sorted(_NOT_IMPLEMENTED) + list(_OBJECT_LOCK)),
    st.builds(
        lambda p, s: p + s,
        st.sampled_from(PREFIXES),
        st.sampled_from(["algorithm", "key", "key-md5", ""]),
    ),
    st.sampled_from(
        [
            "host",
            "x-amz-date",
            "x-amz-content-sha256",
            "authorization",
            "x-amz-storage-class",
            "x-amz-request-payer",
            "range",
            "x-amz-bucket-object-lock-enabled",
        ]
    ),
    st.text("abcdefghijklmnopqrstuvwxyz-", max_size=40),
)


def _oracle(op: str, pairs: list[tuple[str, str]]) -> str | None:
    """The refusal's Header (or code), read straight off the table."""
    headers = dict(reversed(pairs))
    if op in ("PutObject", "CopyObject", "CreateMultipartUpload") and any(
        h in headers for h in _OBJECT_LOCK
    ):
        return "InvalidRequest"
    enabled = headers.get("x-amz-bucket-object-lock-enabled")
    if (
        op == "CreateBucket"
        and enabled is not None
        and enabled.strip().lower() != "false"
    ):
        return "x-amz-bucket-object-lock-enabled"
    for name, _ in pairs:
        family = next((p for p in PREFIXES if name.startswith(p)), name)
        if op in _NOT_IMPLEMENTED.get(family, ()):
            return name
    return None


@given(st.sampled_from(OPS),
       st.lists(st.tuples(NAMES, st.sampled_from(["", "x", "true", "False"])),
                max_size=8))  # fmt: skip
def test_refusals_follow_the_table(op: str, pairs: list[tuple[str, str]]) -> None:
    want = _oracle(op, pairs)
    try:
        refuse_unsupported(op, Headers(tuple(pairs)))
    except S3Error as e:
        got = e.code if e.code == "InvalidRequest" else e.extra["Header"]
        assert e.code in ("InvalidRequest", "NotImplemented")
    else:
        got = None
    assert got == want


def test_every_header_of_the_table_is_x_amz() -> None:
    # refuse_unsupported skips other headers unread.
    assert all(name.startswith("x-amz-") for name in _NOT_IMPLEMENTED)
    assert all(p.startswith("x-amz-") for p in PREFIXES)


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.text(max_size=3)), max_size=10))
def test_headers_get_is_the_first_value(pairs: list[tuple[str, str]]) -> None:
    headers = Headers(tuple(pairs))
    for name in "abcdef":
        first = next((v for k, v in pairs if k == name), None)
        assert headers.get(name) == first
    assert headers.as_dict() == {k: headers.get(k) for k, _ in pairs}
    assert headers == Headers(tuple(pairs))


@pytest.mark.parametrize("op", ["GetObject", "HeadObject"])
def test_sse_c_on_a_read_is_refused(op: str) -> None:
    with pytest.raises(S3Error) as e:
        refuse_unsupported(
            op, Headers((("x-amz-server-side-encryption-customer-key", "k"),))
        )
    assert e.value.code == "NotImplemented"
