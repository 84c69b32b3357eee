"""Unit tests for ozs3.s3.tagging: the x-amz-tagging header, the Tagging
document and S3's tag rules."""

from __future__ import annotations

import botocore.parsers
import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from ozs3.s3.errors import S3Error
from ozs3.s3.tagging import (
    BUCKET_TAG_LIMIT,
    OBJECT_TAG_LIMIT,
    TOO_MANY_TAGS_CODE,
    check_tags,
    parse_tagging_header,
    parse_tagging_xml,
    tagging_header,
    tagging_xml,
)
from ozs3.s3.xml import NS

BAD_HEADER = (
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL "
    "query parameters without tag name duplicates."
)


def _error(fn, *args) -> S3Error:
    with pytest.raises(S3Error) as info:
        fn(*args)
    return info.value


# ------------------------------------------------------------------ header


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ("", ()),
        ("&", ()),
        ("&&&", ()),
        ("key", (("key", ""),)),
        ("key&", (("key", ""),)),
        ("key=&", (("key", ""),)),
        ("key=val&", (("key", "val"),)),
        ("key1&key2", (("key1", ""), ("key2", ""))),
        ("k1=v1&k2=v2", (("k1", "v1"), ("k2", "v2"))),
        ("b=2&a=1", (("b", "2"), ("a", "1"))),  # order kept; check_tags sorts
        ("key@=val@", (("key@", "val@"),)),
        ("k=a=b", (("k", "a=b"),)),
        ("key%2E=value%2F", (("key.", "value/"),)),
        ("key%2D=value%2B", (("key-", "value+"),)),
        ("key++key=value++value", (("key  key", "value  value"),)),
        ("key%20key=value%20value", (("key key", "value value"),)),
        ("%C3%A9t%C3%A9=%E6%97%A5", (("été", "日"),)),
    ],
)
def test_header_parses(header: str, tags) -> None:
    assert parse_tagging_header(header) == tags


@pytest.mark.parametrize(
    "header",
    ["=", "=v", "a=1&=2", "key%", "key=%zz", "k=%4", "a=1&a=2", "a&a", "k=%FF"],
)
def test_header_refused(header: str) -> None:
    err = _error(parse_tagging_header, header)
    assert (err.code, err.status, err.message) == ("InvalidArgument", 400, BAD_HEADER)
    assert err.extra == {"ArgumentName": "x-amz-tagging", "ArgumentValue": header}


def test_header_duplicate_after_decoding() -> None:
    # "a%20b" and "a+b" are the same key once decoded.
    assert _error(parse_tagging_header, "a%20b=1&a+b=2").code == "InvalidArgument"


def test_header_leaves_rules_to_check_tags() -> None:
    tags = parse_tagging_header("key%3F=val")
    assert tags == (("key?", "val"),)
    assert _error(check_tags, tags, OBJECT_TAG_LIMIT).code == "InvalidTag"


def test_tagging_header_percent_encodes() -> None:
    assert tagging_header([("a b", "c+d"), ("é", "x/y")]) == (
        "a%20b=c%2Bd&%C3%A9=x%2Fy"
    )
    assert tagging_header([]) == ""


# Characters S3 allows in tags, from several categories and planes.
_ALLOWED = st.sampled_from(
    [*"abcXYZ019 _.:/=+-@é日Ωß٣Ⅻ\u00a0\u3000", "\U00010400", "\U0001d7d8"]
)


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_KEYS = st.text(_ALLOWED, min_size=1, max_size=128).filter(
    lambda k: _u16(k) <= 128 and not k.startswith("aws:")
)
_VALUES = st.text(_ALLOWED, max_size=256).filter(lambda v: _u16(v) <= 256)
_TAG_SETS = st.dictionaries(_KEYS, _VALUES, max_size=OBJECT_TAG_LIMIT).map(
    lambda d: tuple(d.items())
)


@given(_TAG_SETS)
def test_header_round_trip(tags) -> None:
    header = tagging_header(tags)
    assert parse_tagging_header(header) == tags
    assert check_tags(parse_tagging_header(header), OBJECT_TAG_LIMIT) == tuple(
        sorted(tags)
    )


@given(_TAG_SETS)
def test_header_plus_encoding_round_trip(tags) -> None:
    # Form encoding as some clients send it: spaces as "+", "+" as "%2B".
    from urllib.parse import urlencode

    assert parse_tagging_header(urlencode(tags)) == tags


# --------------------------------------------------------------------- XML


def tagging_body(tags, ns: bool = True) -> bytes:
    root = etree.Element("Tagging", nsmap={None: NS} if ns else None)
    tag_set = etree.SubElement(root, "TagSet")
    for k, v in tags:
        tag = etree.SubElement(tag_set, "Tag")
        etree.SubElement(tag, "Key").text = k
        etree.SubElement(tag, "Value").text = v
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("ns", [True, False])
def test_xml_parses_with_and_without_namespace(ns: bool) -> None:
    body = tagging_body([("b", "2"), ("a", "")], ns=ns)
    assert parse_tagging_xml(body) == (("b", "2"), ("a", ""))


def test_xml_empty_value_and_whitespace_kept() -> None:
    body = (
        b"<Tagging><TagSet>\n  <Tag><Key> k </Key><Value/></Tag>\n"
        b"  <Tag><Value>v</Value><Key>j</Key></Tag>\n</TagSet></Tagging>"
    )
    assert parse_tagging_xml(body) == ((" k ", ""), ("j", "v"))


def test_xml_empty_tag_set() -> None:
    for body in (b"<Tagging><TagSet/></Tagging>", tagging_body([])):
        assert parse_tagging_xml(body) == ()
        err = _error(parse_tagging_xml, body, False)
        assert (err.code, err.status) == ("MalformedXML", 400)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<Tagging/>",
        b"<Tagging></Tagging>",
        b"<Tags><TagSet/></Tags>",
        b"<Tagging><TagSet/><TagSet/></Tagging>",
        b"<Tagging><TagSet/><Other/></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag/></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value><Key>j</Key>"
        b"</Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value><X/></Tag>"
        b"</TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k<b/></Key><Value>v</Value></Tag>"
        b"</TagSet></Tagging>",
        b"<Tagging><TagSet><Other/></TagSet></Tagging>",
        b"<Tagging><TagSet>junk<Tag><Key>k</Key><Value>v</Value></Tag>"
        b"</TagSet></Tagging>",
        b"<Tagging><TagSet><Tag>junk<Key>k</Key><Value>v</Value></Tag>"
        b"</TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k</Key>junk<Value>v</Value></Tag>"
        b"</TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>",
        b'<!DOCTYPE x [<!ENTITY e "k">]><Tagging><TagSet><Tag><Key>&e;</Key>'
        b"<Value>v</Value></Tag></TagSet></Tagging>",
    ],
)
def test_xml_malformed(body: bytes) -> None:
    err = _error(parse_tagging_xml, body)
    assert (err.code, err.status) == ("MalformedXML", 400)


@given(_TAG_SETS)
def test_xml_round_trip(tags) -> None:
    body = tagging_xml(tags)
    assert parse_tagging_xml(body) == tuple(sorted(tags))
    root = etree.fromstring(body)
    assert root.tag == f"{{{NS}}}Tagging"
    keys = [el.text or "" for el in root.iter(f"{{{NS}}}Key")]
    assert keys == sorted(k for k, _ in tags)


def test_tagging_xml_empty_and_sdk_parse() -> None:
    assert parse_tagging_xml(tagging_xml([])) == ()
    model = botocore.session.get_session().get_service_model("s3")
    shape = model.operation_model("GetObjectTagging").output_shape
    parser = botocore.parsers.create_parser("rest-xml")
    body = tagging_xml([("z", "1"), ("a", "")])
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
    assert parsed["TagSet"] == [{"Key": "a", "Value": ""}, {"Key": "z", "Value": "1"}]
    empty = parser.parse(
        {"body": tagging_xml([]), "headers": {}, "status_code": 200}, shape
    )
    assert empty["TagSet"] == []


# ------------------------------------------------------------------- rules


def _tags(n: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"k{i:02d}", "v") for i in range(n))


def test_count_limits() -> None:
    assert len(check_tags(_tags(10), OBJECT_TAG_LIMIT)) == 10
    err = _error(check_tags, _tags(11), OBJECT_TAG_LIMIT)
    assert TOO_MANY_TAGS_CODE == "BadRequest"  # AWS's code, not InvalidTag
    assert (err.code, err.status, err.message) == (
        "BadRequest",
        400,
        "Object tags cannot be greater than 10",
    )
    assert len(check_tags(_tags(50), BUCKET_TAG_LIMIT)) == 50
    err = _error(check_tags, _tags(51), BUCKET_TAG_LIMIT)
    assert (err.code, err.message) == (
        TOO_MANY_TAGS_CODE,
        "Bucket tag count cannot be greater than 50",
    )


def test_count_checked_before_each_tag() -> None:
    tags = (("bad!", "v"), *_tags(10))
    assert _error(check_tags, tags, OBJECT_TAG_LIMIT).message == (
        "Object tags cannot be greater than 10"
    )


def test_sorted_by_key() -> None:
    assert check_tags([("b", "1"), ("a", "2"), ("B", "3")], 10) == (
        ("B", "3"),
        ("a", "2"),
        ("b", "1"),
    )
    assert check_tags([], 10) == ()


KEY_INVALID = "The TagKey you have provided is invalid"
VALUE_INVALID = "The TagValue you have provided is invalid"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "k" * 129,
        "\U00010400" * 65,  # 130 UTF-16 code units
        "te\tst",
        "a\nb",
        "user!name",
        "foo#bar",
        "a*b",
        "data%20",
        "key?",
        "key(",
        "key$",
        "comma,",
        "semi;",
        "`tick",
        "~",
        "smile\U0001f600",
    ],
)
def test_invalid_key(key: str) -> None:
    err = _error(check_tags, [("ok", "v"), (key, "v")], OBJECT_TAG_LIMIT)
    assert (err.code, err.status, err.message) == ("InvalidTag", 400, KEY_INVALID)
    assert err.extra == {"TagKey": key}


@pytest.mark.parametrize(
    "value",
    [
        "v" * 257,
        "\U00010400" * 128 + "v",
        "name?test",
        "`path",
        "comma,separated",
        "semicolon;test",
        "(parentheses)",
        "tab\t",
        "val!",
        "val#",
        "val$",
        "val*",
    ],
)
def test_invalid_value(value: str) -> None:
    err = _error(check_tags, [("k", value)], OBJECT_TAG_LIMIT)
    assert (err.code, err.status, err.message) == ("InvalidTag", 400, VALUE_INVALID)
    assert err.extra == {"TagKey": "k", "TagValue": value}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("k" * 128, "v" * 256),
        ("\U00010400" * 64, "\U00010400" * 128),
        ("+- =._:/@", "+- =._:/@"),
        ("été 日本 Ω ٣ Ⅻ", ""),
        ("nbsp\u00a0ideographic\u3000space", "x"),
        ("aws", "v"),
        ("aws-ish:", "v"),
        ("x", "aws:value"),
    ],
)
def test_valid_tags(key: str, value: str) -> None:
    assert check_tags([(key, value)], OBJECT_TAG_LIMIT) == ((key, value),)


def test_duplicate_key() -> None:
    err = _error(check_tags, [("key", "v"), ("key", "v1"), ("k2", "v")], 10)
    assert (err.code, err.status, err.message) == (
        "InvalidTag",
        400,
        "Cannot provide multiple Tags with the same key",
    )
    assert err.extra == {"TagKey": "key"}


def test_reserved_prefix() -> None:
    err = _error(check_tags, [("aws:createdBy", "me")], BUCKET_TAG_LIMIT)
    assert (err.code, err.status, err.message) == (
        "InvalidTag",
        400,
        "Your TagKey cannot be prefixed with aws:",
    )
    assert err.extra == {"TagKey": "aws:createdBy"}


def test_reserved_prefix_after_other_rules() -> None:
    # As S3 reports it: a malformed tag later in the set wins over aws:.
    err = _error(check_tags, [("aws:x", "v"), ("bad!", "v")], OBJECT_TAG_LIMIT)
    assert err.message == KEY_INVALID


@given(_TAG_SETS)
def test_check_tags_idempotent(tags) -> None:
    once = check_tags(tags, OBJECT_TAG_LIMIT)
    assert check_tags(once, OBJECT_TAG_LIMIT) == once
    assert [k for k, _ in once] == sorted(k for k, _ in tags)
