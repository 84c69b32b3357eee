"""Unit tests for ozs3.s3.attributes (GetObjectAttributes) and
ozs3.s3.storage_class."""

from __future__ import annotations

import base64
import functools

import botocore.parsers
import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from ozs3.digests import Checksum, composite, encode_stored
from ozs3.s3.attributes import (
    ATTRIBUTES,
    attributes_xml,
    checksum_type,
    parse_attributes_header,
    parse_max_parts,
    parse_part_number_marker,
)
from ozs3.s3.errors import S3Error
from ozs3.s3.storage_class import (
    STORAGE_CLASSES,
    parse_storage_class,
    replication_of,
    storage_class_of,
)
from ozs3.s3.xml import NS
from ozs3.storage.model import KeyInfo, ObjectMeta, PartLayout

Q = f"{{{NS}}}"
ALL = frozenset(ATTRIBUTES)


def _error(fn, *args) -> S3Error:
    with pytest.raises(S3Error) as info:
        fn(*args)
    return info.value


def _stored(algorithm: str, data: bytes) -> str:
    c = Checksum(algorithm)
    c.update(data)
    return encode_stored(algorithm, c.b64())


def key_info(**kw) -> KeyInfo:
    fields: dict = {
        "bucket": "b",
        "key": "k",
        "size": 11,
        "etag": "5eb63bbbe01eeed093cb22bb8f5acdc3",
        "modified": 0.0,
        "meta": ObjectMeta(),
    }
    fields.update(kw)
    return KeyInfo(**fields)


@functools.cache
def _output_shape():  # type: ignore[no-untyped-def]
    # Loading botocore's S3 model takes tens of milliseconds: once per run,
    # not once per hypothesis example.
    model = botocore.session.get_session().get_service_model("s3")
    return model.operation_model("GetObjectAttributes").output_shape


def _sdk_parse(body: bytes) -> dict:
    shape = _output_shape()
    parser = botocore.parsers.create_parser("rest-xml")
    return parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)


def _children(el: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in el]


# --------------------------------------------------- x-amz-object-attributes


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("ETag", {"ETag"}),
        ("ETag,Checksum,ObjectParts,StorageClass,ObjectSize", set(ATTRIBUTES)),
        ("ObjectSize, StorageClass", {"ObjectSize", "StorageClass"}),
        ("ETag,ETag", {"ETag"}),
    ],
)
def test_attributes_header(header: str, names: set[str]) -> None:
    assert parse_attributes_header(header) == frozenset(names)


@pytest.mark.parametrize("header", [None, "", "  "])
def test_attributes_header_missing(header: str | None) -> None:
    err = _error(parse_attributes_header, header)
    assert (err.code, err.status, err.message) == (
        "InvalidRequest",
        400,
        "The x-amz-object-attributes header specifying the attributes to be "
        "retrieved is either missing or empty",
    )


@pytest.mark.parametrize(
    ("header", "bad"),
    [
        ("invalid_attr", "invalid_attr"),
        ("ETag,Invalid_argument", "Invalid_argument"),
        ("etag", "etag"),
        ("ETag,", ""),
        ("ETag;Checksum", "ETag;Checksum"),
        ("LastModified", "LastModified"),
    ],
)
def test_attributes_header_unknown(header: str, bad: str) -> None:
    err = _error(parse_attributes_header, header)
    assert (err.code, err.status, err.message) == (
        "InvalidArgument",
        400,
        "Invalid attribute name specified.",
    )
    assert err.extra == {
        "ArgumentName": "x-amz-object-attributes",
        "ArgumentValue": bad,
    }


# ------------------------------------------ x-amz-max-parts / part-number-marker


def test_paging_headers_defaults_and_values() -> None:
    assert parse_max_parts(None) == parse_max_parts("") == 1000
    assert parse_max_parts("0") == 0
    assert parse_max_parts("7") == 7
    assert parse_max_parts("1000") == 1000
    assert parse_max_parts("1001") == 1000
    assert parse_max_parts("2147483647") == 1000
    assert parse_part_number_marker(None) == parse_part_number_marker("") == 0
    assert parse_part_number_marker("3") == 3
    assert parse_part_number_marker("007") == 7
    assert parse_part_number_marker("2147483647") == 2147483647


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "+1",
        "1.5",
        " 1",
        "1 ",
        "0x10",
        "٣",
        "1_000",
        "abc",
        "2147483648",
        "99999999999",
    ],
)
def test_paging_headers_invalid(value: str) -> None:
    for fn, header in (
        (parse_max_parts, "x-amz-max-parts"),
        (parse_part_number_marker, "x-amz-part-number-marker"),
    ):
        err = _error(fn, value)
        assert (err.code, err.status) == ("InvalidArgument", 400)
        assert (
            err.message == f"Provided {header} not an integer or within integer range"
        )
        assert err.extra == {"ArgumentName": header, "ArgumentValue": value}


# ------------------------------------------------------------ the response


def test_single_part_object_all_attributes() -> None:
    stored = _stored("sha256", b"hello world")
    info = key_info(checksum=stored)
    body = attributes_xml(info, ALL, "STANDARD", 1000, 0)
    root = etree.fromstring(body)
    assert root.tag == f"{Q}GetObjectAttributesResponse"
    assert _children(root) == ["ETag", "Checksum", "StorageClass", "ObjectSize"]
    assert root.findtext(f"{Q}ETag") == info.etag  # unquoted
    checksum = root.find(f"{Q}Checksum")
    assert _children(checksum) == ["ChecksumSHA256", "ChecksumType"]
    assert checksum.findtext(f"{Q}ChecksumSHA256") == stored.split(":", 1)[1]
    assert checksum.findtext(f"{Q}ChecksumType") == "FULL_OBJECT"
    parsed = _sdk_parse(body)
    assert parsed["ETag"] == info.etag
    assert parsed["ObjectSize"] == 11
    assert parsed["StorageClass"] == "STANDARD"
    assert parsed["Checksum"] == {
        "ChecksumSHA256": stored.split(":", 1)[1],
        "ChecksumType": "FULL_OBJECT",
    }
    assert "ObjectParts" not in parsed


@pytest.mark.parametrize(
    "wanted", [{"ETag"}, {"ObjectSize"}, {"Checksum"}, {"StorageClass", "ETag"}]
)
def test_only_wanted_attributes(wanted: set[str]) -> None:
    info = key_info(checksum=_stored("crc32", b"x"), parts=(PartLayout(1, 11),))
    root = etree.fromstring(attributes_xml(info, wanted, "REDUCED_REDUNDANCY"))
    order = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
    assert _children(root) == [n for n in order if n in wanted]


def test_absent_etag_and_checksum_omitted() -> None:
    info = key_info(etag="", checksum="")
    root = etree.fromstring(attributes_xml(info, ALL, "STANDARD_IA"))
    assert _children(root) == ["StorageClass", "ObjectSize"]
    assert root.findtext(f"{Q}StorageClass") == "STANDARD_IA"


def test_unknown_checksum_algorithm_omitted() -> None:
    info = key_info(checksum="md4:AAAA")
    root = etree.fromstring(attributes_xml(info, {"Checksum"}, "STANDARD"))
    assert _children(root) == []


@pytest.mark.parametrize(
    ("algorithm", "element"),
    [
        ("crc32", "ChecksumCRC32"),
        ("crc32c", "ChecksumCRC32C"),
        ("crc64nvme", "ChecksumCRC64NVME"),
        ("sha1", "ChecksumSHA1"),
        ("sha256", "ChecksumSHA256"),
    ],
)
def test_checksum_type_selection(algorithm: str, element: str) -> None:
    parts = [_stored(algorithm, bytes([i]) * 5) for i in range(3)]
    whole = composite(parts)
    assert whole.endswith("-3")
    multipart = key_info(
        checksum=whole,
        parts=tuple(PartLayout(i + 1, 5, c) for i, c in enumerate(parts)),
    )
    single = key_info(checksum=_stored(algorithm, b"x"))
    for info, kind in ((multipart, "COMPOSITE"), (single, "FULL_OBJECT")):
        parsed = _sdk_parse(attributes_xml(info, {"Checksum"}, "STANDARD"))
        assert parsed["Checksum"] == {
            element: info.checksum.split(":", 1)[1],
            "ChecksumType": kind,
        }
    # Each part's own checksum, under the same element name.
    parsed = _sdk_parse(attributes_xml(multipart, {"ObjectParts"}, "STANDARD"))
    assert [p[element] for p in parsed["ObjectParts"]["Parts"]] == [
        c.split(":", 1)[1] for c in parts
    ]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("AAAAAA==-2", "COMPOSITE"),
        ("AAAAAA==-10000", "COMPOSITE"),
        ("AAAAAA==", "FULL_OBJECT"),
        ("ab-cd+/==", "FULL_OBJECT"),  # "-" inside base64url-ish text, no count
        ("AAAAAA==-", "FULL_OBJECT"),
    ],
)
def test_checksum_type(value: str, kind: str) -> None:
    assert checksum_type(value) == kind


def test_object_parts_elements_and_order() -> None:
    parts = tuple(PartLayout(n, 100 + n) for n in range(1, 6))
    info = key_info(size=sum(p.size for p in parts), etag="abc-5", parts=parts)
    root = etree.fromstring(attributes_xml(info, {"ObjectParts"}, "STANDARD", 2, 1))
    (op,) = root
    assert _children(op) == [
        "IsTruncated",
        "MaxParts",
        "NextPartNumberMarker",
        "PartNumberMarker",
        "Part",
        "Part",
        "PartsCount",
    ]
    assert _children(op.find(f"{Q}Part")) == ["PartNumber", "Size"]
    parsed = _sdk_parse(etree.tostring(root))["ObjectParts"]
    assert parsed == {
        "IsTruncated": True,
        "MaxParts": 2,
        "NextPartNumberMarker": 3,
        "PartNumberMarker": 1,
        "Parts": [{"PartNumber": 2, "Size": 102}, {"PartNumber": 3, "Size": 103}],
        "TotalPartsCount": 5,
    }


def test_object_parts_last_page_has_no_next_marker() -> None:
    parts = tuple(PartLayout(n, 5) for n in range(1, 7))
    parsed = _sdk_parse(
        attributes_xml(key_info(parts=parts), {"ObjectParts"}, "STANDARD", 10, 4)
    )["ObjectParts"]
    assert parsed["IsTruncated"] is False
    assert "NextPartNumberMarker" not in parsed
    assert [p["PartNumber"] for p in parsed["Parts"]] == [5, 6]
    assert parsed["TotalPartsCount"] == 6


def test_object_parts_only_for_multipart_keys() -> None:
    root = etree.fromstring(attributes_xml(key_info(), {"ObjectParts"}, "STANDARD"))
    assert _children(root) == []


def _page(info: KeyInfo, max_parts: int, marker: int) -> dict:
    body = attributes_xml(info, {"ObjectParts"}, "STANDARD", max_parts, marker)
    return _sdk_parse(body)["ObjectParts"]


_PART_SETS = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(0, 5 * 2**30)),
    min_size=1,
    max_size=40,
    unique_by=lambda t: t[0],
).map(lambda ps: tuple(PartLayout(n, s) for n, s in sorted(ps)))


@given(_PART_SETS, st.integers(0, 45), st.integers(0, 10_001), st.booleans())
def test_parts_page_against_oracle(parts, max_parts, marker, marker_at_part) -> None:
    if marker_at_part:
        marker = parts[marker % len(parts)].number
    info = key_info(parts=parts)
    got = _page(info, max_parts, marker)
    after = [p for p in parts if p.number > marker]  # brute force
    expected = after[:max_parts]
    truncated = len(after) > max_parts
    assert [(p["PartNumber"], p["Size"]) for p in got.get("Parts", [])] == [
        (p.number, p.size) for p in expected
    ]
    assert got["IsTruncated"] is truncated
    assert got["MaxParts"] == max_parts
    assert got["PartNumberMarker"] == marker
    assert got["TotalPartsCount"] == len(parts)
    if truncated:
        last = expected[-1].number if expected else marker
        assert got["NextPartNumberMarker"] == last
    else:
        assert "NextPartNumberMarker" not in got


@given(_PART_SETS, st.integers(1, 7))
def test_paging_walk_lists_every_part_once(parts, max_parts) -> None:
    info = key_info(parts=parts)
    seen: list[int] = []
    marker = 0
    for _ in range(len(parts) + 1):
        page = _page(info, max_parts, marker)
        seen += [p["PartNumber"] for p in page.get("Parts", [])]
        if not page["IsTruncated"]:
            break
        marker = int(page["NextPartNumberMarker"])
    assert seen == [p.number for p in parts]


def test_xml_text_is_escaped() -> None:
    info = key_info(etag='a&b<"c>')
    root = etree.fromstring(attributes_xml(info, {"ETag"}, "STANDARD"))
    assert root.findtext(f"{Q}ETag") == 'a&b<"c>'


def test_checksum_value_is_base64() -> None:
    stored = _stored("crc64nvme", b"abc")
    value = stored.split(":", 1)[1]
    assert len(base64.b64decode(value)) == 8
    root = etree.fromstring(attributes_xml(key_info(checksum=stored), ALL, "STANDARD"))
    assert root.findtext(f"{Q}Checksum/{Q}ChecksumCRC64NVME") == value


# ----------------------------------------------------------- storage classes


@pytest.mark.parametrize(
    ("storage_class", "replication"),
    [
        ("STANDARD", "RATIS/THREE"),
        ("REDUCED_REDUNDANCY", "RATIS/ONE"),
        ("STANDARD_IA", "EC/rs-3-2-1024k"),
    ],
)
def test_replication_of(storage_class: str, replication: str) -> None:
    assert parse_storage_class(storage_class) == storage_class
    assert replication_of(storage_class) == replication
    assert storage_class_of(replication) == storage_class


@pytest.mark.parametrize(
    ("replication", "storage_class"),
    [
        ("", "STANDARD"),
        ("RATIS/THREE", "STANDARD"),
        ("ratis/three", "STANDARD"),
        ("RATIS", "STANDARD"),
        ("SOMETHING/ELSE", "STANDARD"),
        ("RATIS/ONE", "REDUCED_REDUNDANCY"),
        ("ratis/one", "REDUCED_REDUNDANCY"),
        ("ec/rs-3-2-1024k", "STANDARD_IA"),
        ("STAND_ALONE/ONE", "REDUCED_REDUNDANCY"),
        ("STAND_ALONE/THREE", "REDUCED_REDUNDANCY"),
        ("EC/rs-3-2-1024k", "STANDARD_IA"),
        ("EC/rs-6-3-1024k", "STANDARD_IA"),
        ("EC/xor-2-1-4096k", "STANDARD_IA"),
    ],
)
def test_storage_class_of(replication: str, storage_class: str) -> None:
    assert storage_class_of(replication) == storage_class


@pytest.mark.parametrize(
    "value",
    [
        "",
        "standard",
        "STANDARD ",
        "GLACIER",
        "DEEP_ARCHIVE",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER_IR",
        "EXPRESS_ONEZONE",
        "RATIS/THREE",
    ],
)
def test_invalid_storage_class(value: str) -> None:
    for fn in (parse_storage_class, replication_of):
        err = _error(fn, value)
        assert (err.code, err.status, err.message) == (
            "InvalidStorageClass",
            400,
            "The storage class you specified is not valid",
        )
        assert err.extra == {"StorageClassRequested": value}


def test_storage_classes_round_trip() -> None:
    assert set(STORAGE_CLASSES) == {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA"}
    for c in STORAGE_CLASSES:
        assert storage_class_of(replication_of(c)) == c
