"""Unit tests for ozs3.s3.xml: hardened request parsing and response builders."""

from __future__ import annotations

import datetime
import time
from urllib.parse import unquote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ozs3.s3.errors import S3Error
from ozs3.s3.headers import iso8601
from ozs3.s3.names import check_key
from ozs3.s3.xml import (
    NS,
    delete_result_xml,
    error_xml,
    list_objects_v1_xml,
    list_objects_v2_xml,
    location_xml,
    text,
    xml_safe,
)
from ozs3.s3.xml_parse import MAX_DELETE_KEYS, parse_create_bucket, parse_delete
from ozs3.storage.model import KeyListing, ListedKey

Q = f"{{{NS}}}"


def delete_body(keys, quiet=None, ns=True) -> bytes:
    root = etree.Element("Delete", nsmap={None: NS} if ns else None)
    if quiet is not None:
        etree.SubElement(root, "Quiet").text = quiet
    for k in keys:
        etree.SubElement(etree.SubElement(root, "Object"), "Key").text = k
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _malformed(body: bytes) -> None:
    with pytest.raises(S3Error) as info:
        parse_delete(body)
    assert info.value.code == "MalformedXML"
    assert info.value.status == 400


# ---------------------------------------------------------------- parse_delete


@pytest.mark.parametrize("ns", [True, False])
def test_parse_delete_with_and_without_namespace(ns):
    """Delete documents parse with or without the S3 xmlns."""
    assert parse_delete(delete_body(["a", "b/c"], ns=ns)) == (False, ["a", "b/c"])


@pytest.mark.parametrize(
    ("quiet", "expected"),
    [("true", True), ("True", True), (" true ", True), ("false", False), ("1", False)],
)
def test_parse_delete_quiet(quiet, expected):
    """<Quiet>true</Quiet> (case-insensitive) turns on quiet mode."""
    assert parse_delete(delete_body(["k"], quiet=quiet)) == (expected, ["k"])


def test_parse_delete_version_id_ignored():
    """Extra Object children such as VersionId do not disturb the key."""
    body = (
        b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object>'
        b"<Key>k1</Key><VersionId>v</VersionId></Object>"
        b"<Object><Key>k2</Key></Object></Delete>"
    )
    assert parse_delete(body) == (False, ["k1", "k2"])


def test_parse_delete_cdata_entities_comments():
    """Character refs, CDATA and comments inside Key yield the literal key."""
    body = (
        b"<Delete><Object><Key>a&amp;b&#13;<![CDATA[<c>]]>d<!--x-->e</Key>"
        b"</Object></Delete>"
    )
    assert parse_delete(body) == (False, ["a&b\r<c>de"])


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=50).filter(
            lambda k: _checks(k)
        ),
        min_size=1,
        max_size=20,
    ),
    ns=st.booleans(),
    quiet=st.booleans(),
)
def test_parse_delete_round_trips_keys(keys, ns, quiet):
    """Any listable keys survive serialisation and parse_delete in order."""
    body = delete_body(keys, quiet="true" if quiet else "false", ns=ns)
    assert parse_delete(body) == (quiet, keys)


def _checks(key: str) -> bool:
    try:
        check_key(key)
    except S3Error:
        return False
    return True


def test_parse_delete_max_keys_accepted():
    """Exactly 1000 keys is allowed."""
    keys = [f"k{i}" for i in range(MAX_DELETE_KEYS)]
    assert parse_delete(delete_body(keys)) == (False, keys)


def test_parse_delete_too_many_keys_malformed():
    """More than 1000 keys is MalformedXML."""
    _malformed(delete_body([f"k{i}" for i in range(MAX_DELETE_KEYS + 1)]))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<Delete>",
        b"<Delete><Object><Key>a</Key></Object>",
        b"<Delete><Object><Key>a</Object></Key></Delete>",
        b"not xml at all",
        b"<Delete><Object><Key>&undefined;</Key></Object></Delete>",
        b"<Delete></Delete>",
        b"<Delete><Quiet>true</Quiet></Delete>",
        b"<Delete><Object></Object></Delete>",
        b"<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        b"<Other><Object><Key>a</Key></Object></Other>",
        b"<Delete><Object><Key>a</Key></Object></Delete><Delete/>",
        b"\xff\xfe<Delete/>",
    ],
)
def test_parse_delete_malformed(body):
    """Not well-formed, empty, wrong root or missing keys -> MalformedXML."""
    _malformed(body)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY k "key">]>'
        b"<Delete><Object><Key>&k;</Key></Object></Delete>",
        b'<!DOCTYPE Delete SYSTEM "http://example.invalid/x.dtd">'
        b"<Delete><Object><Key>a</Key></Object></Delete>",
        b'<!DOCTYPE Delete [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<Delete><Object><Key>&xxe;</Key></Object></Delete>",
        b"<!DOCTYPE Delete><Delete><Object><Key>a</Key></Object></Delete>",
    ],
)
def test_parse_delete_doctype_refused(body):
    """Any DTD, internal entity or external entity is MalformedXML."""
    _malformed(body)


def test_parse_delete_entity_bomb_refused_quickly():
    """A billion-laughs body is refused as MalformedXML without expanding."""
    ents = ['<!ENTITY e0 "lol">'] + [
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)
    ]
    body = (
        f"<!DOCTYPE Delete [{''.join(ents)}]>"
        "<Delete><Object><Key>&e9;</Key></Object></Delete>"
    ).encode()
    start = time.monotonic()
    _malformed(body)
    assert time.monotonic() - start < 2


def test_parse_create_bucket_location():
    """CreateBucketConfiguration yields its LocationConstraint, or None."""
    body = (
        b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<LocationConstraint>eu-west-1</LocationConstraint>"
        b"</CreateBucketConfiguration>"
    )
    assert parse_create_bucket(body) == "eu-west-1"
    assert parse_create_bucket(b"") is None
    assert parse_create_bucket(b"<CreateBucketConfiguration/>") is None
    with pytest.raises(S3Error):
        parse_create_bucket(b"<Delete/>")


# ---------------------------------------------------------------- error_xml


@settings(max_examples=100, deadline=None)
@given(
    code=st.sampled_from(["NoSuchKey", "AccessDenied", "InvalidRange"]),
    message=st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"])),
    resource=st.none()
    | st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"])),
    request_id=st.text("0123456789ABCDEF", min_size=1, max_size=16),
    extra=st.dictionaries(
        st.sampled_from(["Key", "BucketName", "ActualObjectSize", "Content-MD5"]),
        st.text("abc<>&\"' 123"),
        max_size=3,
    ),
)
def test_error_xml_contains_fields(code, message, resource, request_id, extra):
    """The error document carries Code, Message, extras, Resource, RequestId."""
    body = error_xml(code, message, resource, request_id, extra)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("Code") == code
    assert (root.findtext("Message") or "") == message
    assert root.findtext("RequestId") == request_id
    if resource is None:
        assert root.find("Resource") is None
    else:
        assert (root.findtext("Resource") or "") == resource
    for name, value in extra.items():
        assert (root.findtext(name) or "") == value


def test_error_xml_control_characters_in_resource_rendered():
    """An error naming a resource with control characters still renders."""
    body = error_xml(
        "InvalidBucketName", "bad", "/\x01x", "RID", {"BucketName": "\x01x"}
    )
    root = etree.fromstring(body)
    assert root.findtext("Code") == "InvalidBucketName"


# ---------------------------------------------------------------- listings


def _key(name: str, size: int = 3, owner: str = "alice") -> ListedKey:
    return ListedKey(name, size, "0123456789abcdef0123456789abcdef", 1.5, "", owner)


any_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
specials = st.text(
    st.sampled_from(list("+% /&?=#~\u00e9\u65e5\U0001f600ab")), min_size=1
)
url_keys = st.one_of(any_text, specials)


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(url_keys, max_size=10),
    prefixes=st.lists(url_keys, max_size=5),
    prefix=st.text(st.characters(codec="utf-8"), max_size=10),
    delimiter=st.sampled_from(["", "/", "+", "%", " "]),
    start_after=st.none() | url_keys,
    truncated=st.booleans(),
)
def test_list_objects_v2_url_encoding_round_trips(
    keys, prefixes, prefix, delimiter, start_after, truncated
):
    """With EncodingType=url every key/prefix unquote_plus-decodes exactly."""
    listing = KeyListing(tuple(_key(k) for k in keys), tuple(prefixes), truncated, None)
    body = list_objects_v2_xml(
        "bkt", listing, prefix, delimiter, 1000, True, None, None, start_after, False
    )
    root = etree.fromstring(body)
    assert root.findtext(Q + "EncodingType") == "url"
    got_keys = [unquote_plus(e.text) for e in root.iterfind(f"{Q}Contents/{Q}Key")]
    got_prefixes = [
        unquote_plus(e.text) for e in root.iterfind(f"{Q}CommonPrefixes/{Q}Prefix")
    ]
    assert got_keys == keys
    assert got_prefixes == prefixes
    assert unquote_plus(root.findtext(Q + "Prefix") or "") == prefix
    if delimiter:
        assert unquote_plus(root.findtext(Q + "Delimiter")) == delimiter
    else:
        assert root.find(Q + "Delimiter") is None
    if start_after is None:
        assert root.find(Q + "StartAfter") is None
    else:
        assert unquote_plus(root.findtext(Q + "StartAfter")) == start_after
    assert root.findtext(Q + "KeyCount") == str(len(keys) + len(prefixes))
    assert root.findtext(Q + "IsTruncated") == ("true" if truncated else "false")


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(any_text.filter(_checks), max_size=10))
def test_list_objects_v2_plain_keys_round_trip(keys):
    """Without url encoding any key check_key accepts is listed verbatim."""
    listing = KeyListing(tuple(_key(k) for k in keys), (), False, None)
    body = list_objects_v2_xml(
        "bkt", listing, "", "", 1000, False, None, None, None, None
    )
    root = etree.fromstring(body)
    assert root.find(Q + "EncodingType") is None
    assert [e.text for e in root.iterfind(f"{Q}Contents/{Q}Key")] == keys


def test_list_objects_v2_fields():
    """v2 listing carries tokens, ETag, Size, LastModified and (fetch-owner)
    each key's own Owner."""
    listing = KeyListing((_key("a", 7),), ("p/",), True, "p/")
    body = list_objects_v2_xml(
        "bkt", listing, "", "/", 2, False, "tok1", "tok2", "s", True
    )
    root = etree.fromstring(body)
    assert root.tag == Q + "ListBucketResult"
    assert root.findtext(Q + "Name") == "bkt"
    assert root.findtext(Q + "MaxKeys") == "2"
    assert root.findtext(Q + "KeyCount") == "2"
    assert root.findtext(Q + "ContinuationToken") == "tok1"
    assert root.findtext(Q + "NextContinuationToken") == "tok2"
    assert root.findtext(Q + "StartAfter") == "s"
    assert root.findtext(Q + "IsTruncated") == "true"
    c = root.find(Q + "Contents")
    assert c.findtext(Q + "ETag") == '"0123456789abcdef0123456789abcdef"'
    assert c.findtext(Q + "Size") == "7"
    assert c.findtext(Q + "LastModified") == "1970-01-01T00:00:01.500Z"
    assert c.findtext(f"{Q}Owner/{Q}ID") == "alice"
    assert c.findtext(Q + "StorageClass") == "STANDARD"


def test_list_objects_v2_no_owner_without_fetch_owner():
    """fetch_owner=False leaves Owner out of Contents."""
    listing = KeyListing((_key("a"),), (), False, None)
    body = list_objects_v2_xml("b", listing, "", "", 1, False, None, None, None, False)
    assert etree.fromstring(body).find(f"{Q}Contents/{Q}Owner") is None


@pytest.mark.parametrize(
    ("delimiter", "truncated", "has_next"),
    [("/", True, True), ("", True, False), ("/", False, False)],
)
def test_list_objects_v1_next_marker_only_with_delimiter(
    delimiter, truncated, has_next
):
    """v1 NextMarker appears only for truncated, delimited listings."""
    listing = KeyListing((_key("a+b"),), (), truncated, "a+b")
    body = list_objects_v1_xml("b", listing, "", delimiter, "m k", 1, True)
    root = etree.fromstring(body)
    assert (root.find(Q + "NextMarker") is not None) is has_next
    if has_next:
        assert unquote_plus(root.findtext(Q + "NextMarker")) == "a+b"
    assert unquote_plus(root.findtext(Q + "Marker")) == "m k"
    assert unquote_plus(root.findtext(f"{Q}Contents/{Q}Key")) == "a+b"


def test_location_xml_region_and_default():
    """LocationConstraint is empty for the default region."""
    assert etree.fromstring(location_xml("")).text is None
    assert etree.fromstring(location_xml("eu-west-1")).text == "eu-west-1"


@pytest.mark.parametrize("quiet", [True, False])
def test_delete_result_xml_quiet_omits_deleted(quiet):
    """Quiet mode lists only errors; otherwise deleted keys too."""
    body = delete_result_xml(["a", "b"], [("c", "AccessDenied", "no")], quiet)
    root = etree.fromstring(body)
    deleted = [e.text for e in root.iterfind(f"{Q}Deleted/{Q}Key")]
    assert deleted == ([] if quiet else ["a", "b"])
    err = root.find(Q + "Error")
    assert (err.findtext(Q + "Key"), err.findtext(Q + "Code")) == ("c", "AccessDenied")


def test_a_key_without_an_etag_is_listed_without_one():
    """Keys written by `ozone sh` carry no ETag: listings show none (as Ozone's
    s3g), never an empty '""'."""
    listing = KeyListing(
        (_key("a", 7), ListedKey("plain", 3, "", 0.0, "")), (), False, None
    )
    for body in (
        list_objects_v2_xml("b", listing, "", "", 1000, False, None, None, None, False),
        list_objects_v1_xml("b", listing, "", "", "", 1000, False),
    ):
        root = etree.fromstring(body)
        contents = root.findall(Q + "Contents")
        assert contents[0].findtext(Q + "ETag")
        assert contents[1].find(Q + "ETag") is None


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=30)
    | st.text(st.sampled_from(list("&<>\r\n\t\"'\x00\x1f a")), max_size=30)
)
def test_listing_text_is_written_as_lxml_writes_it(value):
    """The one-pass listing writer escapes character data exactly as the
    element tree did (so pages stay byte-identical): CR, &, <, > and the
    characters XML cannot carry."""
    el = etree.Element("K")
    el.text = xml_safe(value)
    assert etree.tostring(el, encoding="unicode") == f"<K>{text(value)}</K>"


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=0, max_value=4e9, allow_nan=False)
    | st.integers(0, 4_000_000_000).map(lambda s: s + 0.9999995)
)
def test_iso8601_is_datetimes_rendering(ts):
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC)
    expected = dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    assert iso8601(ts) == expected
