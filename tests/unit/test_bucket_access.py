"""Public access block and ownership controls XML (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozs3.s3.acl import canned
from ozs3.s3.bucket_access import (
    BucketAccessControl,
    PublicAccessBlock,
    check_ownership,
    decode_block,
    decode_control,
    encode_block,
    encode_control,
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


def test_access_control_setting_round_trips() -> None:
    control = BucketAccessControl("ObjectWriter", canned("public-read", "a", "a", True))
    assert decode_control(encode_control(control)) == control
    assert control.acls_enabled
    assert not BucketAccessControl().acls_enabled
    assert BucketAccessControl("").acls_enabled  # no controls: ObjectWriter


def test_ownership_controls() -> None:
    assert parse_ownership(ownership_xml("ObjectWriter")) == "ObjectWriter"
    for value in ("BucketOwnerEnforced", "ObjectWriter", "BucketOwnerPreferred"):
        check_ownership(value)
    with pytest.raises(S3Error) as e:
        check_ownership("Mine")
    assert e.value.code == "InvalidArgument"
    for body in (
        b"<OwnershipControls/>",
        b"<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>",
    ):
        with pytest.raises(S3Error) as e:
            parse_ownership(body)
        assert e.value.code == "MalformedXML"
