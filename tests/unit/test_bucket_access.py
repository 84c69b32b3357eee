"""Public access block and ownership controls XML (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozs3.s3.bucket_access import (
    PublicAccessBlock,
    check_ownership,
    decode_block,
    encode_block,
    ownership_xml,
    parse_ownership,
    parse_public_access_block,
    public_access_block_xml,
)
from ozs3.s3.errors import S3Error

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


@given(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()))
def test_public_access_block_round_trips(flags: tuple[bool, ...]) -> None:
    block = PublicAccessBlock(*flags)
    assert parse_public_access_block(public_access_block_xml(block)) == block
    assert decode_block(encode_block(block)) == block


def test_absent_flags_are_false_and_case_does_not_matter() -> None:
    body = f"<PublicAccessBlockConfiguration {NS}><BlockPublicPolicy>TRUE</BlockPublicPolicy></PublicAccessBlockConfiguration>"
    assert parse_public_access_block(body.encode()) == PublicAccessBlock(
        block_public_policy=True
    )


@pytest.mark.parametrize(
    "inner",
    [
        "<BlockPublicPolicy>yes</BlockPublicPolicy>",
        "<BlockPublicPolicy>true</BlockPublicPolicy><BlockPublicPolicy>true</BlockPublicPolicy>",
        "<BlockEverything>true</BlockEverything>",
    ],
)
def test_bad_public_access_blocks_are_malformed(inner: str) -> None:
    body = f"<PublicAccessBlockConfiguration>{inner}</PublicAccessBlockConfiguration>"
    with pytest.raises(S3Error) as e:
        parse_public_access_block(body.encode())
    assert e.value.code == "MalformedXML"


def test_ownership_controls() -> None:
    assert parse_ownership(ownership_xml("ObjectWriter")) == "ObjectWriter"
    check_ownership("BucketOwnerEnforced", "x")
    with pytest.raises(S3Error) as e:
        check_ownership("ObjectWriter", "ObjectOwnership")
    assert e.value.code == "NotImplemented"
    with pytest.raises(S3Error) as e:
        check_ownership("Mine", "x-amz-object-ownership")
    assert e.value.code == "InvalidArgument"
    for body in (
        b"<OwnershipControls/>",
        b"<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>",
    ):
        with pytest.raises(S3Error) as e:
            parse_ownership(body)
        assert e.value.code == "MalformedXML"
