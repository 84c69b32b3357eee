"""Unit tests for ozs3.s3.lifecycle and ozs3.s3.lifecycle_xml: bucket
lifecycle configuration parsing (AWS's errors), its XML and stored forms,
and its evaluation (matching, expiry rounding, earliest rule)."""

from __future__ import annotations

import base64
import calendar
import json
import time
import uuid
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ozs3.s3.errors import CODES, S3Error
from ozs3.s3.lifecycle import (
    DAY,
    Filter,
    LifecycleConfiguration,
    Rule,
    abort_due,
    abort_for,
    check,
    decode,
    encode,
    expiration_for,
    expiration_header,
    expiry_of,
    new_rule_id,
    next_day_boundary,
)
from ozs3.s3.lifecycle_xml import lifecycle_xml, parse_lifecycle
from ozs3.s3.xml import NS

Q = f"{{{NS}}}"
DAYS_1 = "<Expiration><Days>1</Days></Expiration>"
EMPTY = Filter("empty")


def utc(text: str) -> int:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM[:SS]`` UTC."""
    fmt = "%Y-%m-%dT%H:%M:%S" if text.count(":") == 2 else "%Y-%m-%dT%H:%M"
    return calendar.timegm(time.strptime(text, fmt))


def doc(*rules: str, ns: bool = True) -> bytes:
    xmlns = f' xmlns="{NS}"' if ns else ""
    inner = "".join(rules)
    return f"<LifecycleConfiguration{xmlns}>{inner}</LifecycleConfiguration>".encode()


def rule(
    *parts: str,
    id: str | None = "r",
    status: str | None = "Enabled",
    filter: str | None = "<Filter/>",
    action: str | None = DAYS_1,
) -> str:
    out = "<Rule>"
    if id is not None:
        out += f"<ID>{id}</ID>"
    if filter is not None:
        out += filter
    if status is not None:
        out += f"<Status>{status}</Status>"
    if action is not None:
        out += action
    return out + "".join(parts) + "</Rule>"


def error_of(body: bytes) -> S3Error:
    with pytest.raises(S3Error) as info:
        parse_lifecycle(body)
    return info.value


# --- valid documents -------------------------------------------------------


def test_v2_rule_with_everything():
    body = doc(
        rule(
            "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7"
            "</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
            id="logs",
            filter="<Filter><Prefix>logs/</Prefix></Filter>",
            action="<Expiration><Days>30</Days></Expiration>",
        ),
        rule(
            id="tagged",
            status="Disabled",
            filter="<Filter><And><Prefix>a/</Prefix>"
            "<Tag><Key>k1</Key><Value>v1</Value></Tag>"
            "<Tag><Key>k2</Key><Value></Value></Tag>"
            "<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>"
            "<ObjectSizeLessThan> 20 </ObjectSizeLessThan></And></Filter>",
            action="<Expiration><Date>2024-01-01T00:00:00.000Z</Date></Expiration>",
        ),
    )
    config = parse_lifecycle(body)
    assert config == LifecycleConfiguration(
        (
            Rule("logs", True, Filter("prefix", prefix="logs/"), 30, None, 7),
            Rule(
                "tagged",
                False,
                Filter("and", "a/", (("k1", "v1"), ("k2", "")), 10, 20),
                None,
                utc("2024-01-01T00:00"),
                None,
            ),
        )
    )
    assert config.enabled_rules == config.rules[:1]
    check(config)


def test_v1_prefix_without_namespace_is_kept_in_its_form():
    body = doc(rule(filter="<Prefix>old/</Prefix>"), ns=False)
    config = parse_lifecycle(body)
    assert config.rules[0].filter == Filter("legacy", prefix="old/")
    out = etree.fromstring(lifecycle_xml(config))
    el = out.find(f"{Q}Rule")
    assert [etree.QName(c).localname for c in el] == [
        "ID",
        "Prefix",
        "Status",
        "Expiration",
    ]
    assert el.findtext(f"{Q}Prefix") == "old/"
    assert el.find(f"{Q}Filter") is None


@pytest.mark.parametrize(
    ("filter_xml", "expected"),
    [
        ("<Filter/>", Filter("empty")),
        ("<Filter></Filter>", Filter("empty")),
        ("<Filter><Prefix/></Filter>", Filter("prefix", prefix="")),
        ("<Prefix/>", Filter("legacy", prefix="")),
        (
            "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>",
            Filter("tag", tags=(("k", "v"),)),
        ),
        (
            "<Filter><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan></Filter>",
            Filter("greater", greater_than=0),
        ),
        (
            "<Filter><ObjectSizeLessThan>9223372036854775807</ObjectSizeLessThan></Filter>",
            Filter("less", less_than=2**63 - 1),
        ),
        ("<Filter><And><Prefix>p</Prefix></And></Filter>", Filter("and", prefix="p")),
    ],
)
def test_filter_forms(filter_xml, expected):
    assert parse_lifecycle(doc(rule(filter=filter_xml))).rules[0].filter == expected


@pytest.mark.parametrize(
    "date",
    [
        "2024-03-01T00:00:00.000Z",
        "2024-03-01T00:00:00Z",
        "2024-03-01T00:00Z",
        "2024-03-01",
        "2024-03-01T00:00:00",
        "2024-03-01T01:30:00+01:30",
        "2024-02-29T19:00:00-05:00",
        " 2024-03-01T00:00:00.000000000Z\n",
    ],
)
def test_date_forms_at_midnight_utc(date):
    body = doc(rule(action=f"<Expiration><Date>{date}</Date></Expiration>"))
    assert parse_lifecycle(body).rules[0].expiration_date == utc("2024-03-01T00:00")


def test_rule_ids_are_generated_when_missing_or_empty():
    ids = iter(["taken", "taken", "gen-1", "gen-2"])
    body = doc(rule(id=None), rule(id="taken"), rule(id=""))
    config = parse_lifecycle(body, new_id=lambda: next(ids))
    assert [r.id for r in config.rules] == ["gen-1", "taken", "gen-2"]
    # The default generator: 48 characters, base64 of a UUID's text, as S3.
    config = parse_lifecycle(doc(rule(id=None), rule(id=None)))
    first, second = (r.id for r in config.rules)
    assert first != second and len(first) == 48
    uuid.UUID(base64.b64decode(first).decode())
    assert len({new_rule_id() for _ in range(100)}) == 100


def test_id_of_255_characters_and_1000_rules_are_accepted():
    assert parse_lifecycle(doc(rule(id="x" * 255))).rules[0].id == "x" * 255
    body = doc(*(rule(id=str(i)) for i in range(1000)))
    assert len(parse_lifecycle(body).rules) == 1000


# --- errors ----------------------------------------------------------------

MALFORMED = [
    b"",
    b"<LifecycleConfiguration",
    doc(),
    b"<Lifecycle><Rule/></Lifecycle>",
    doc(rule(), "<Foo/>"),
    doc(rule(status=None)),
    doc(rule(status="enabled")),
    doc(rule(status=" Enabled")),
    doc(rule(status="")),
    doc(rule(filter=None)),
    doc(rule(filter="<Prefix>a</Prefix><Filter/>")),
    doc(rule(filter="<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>")),
    doc(rule(filter="<Filter><Prefix>a</Prefix><Prefix>b</Prefix></Filter>")),
    doc(rule(filter="<Filter><Bogus/></Filter>")),
    doc(rule(filter="<Filter><And/></Filter>")),
    doc(rule(filter="<Filter><And><Bogus/></And></Filter>")),
    doc(rule(filter="<Filter><And><Prefix>a</Prefix><Prefix>b</Prefix></And></Filter>")),
    doc(rule(filter="<Filter><Tag><Key>k</Key></Tag></Filter>")),
    doc(rule(filter="<Filter><Tag><Value>v</Value></Tag></Filter>")),
    doc(rule(filter="<Filter><Tag><Key>k</Key><Key>j</Key><Value/></Tag></Filter>")),
    doc(rule(filter="<Filter><ObjectSizeGreaterThan>ten</ObjectSizeGreaterThan></Filter>")),
    doc(rule(filter="<Filter><ObjectSizeLessThan>99999999999999999999</ObjectSizeLessThan></Filter>")),
    doc(rule(filter="<Filter><ObjectSizeLessThan>9223372036854775808</ObjectSizeLessThan></Filter>")),
    doc(rule("<Bogus/>")),
    doc(rule("<ID>again</ID>")),
    doc(rule("<Status>Enabled</Status>")),
    doc(rule(DAYS_1)),
    doc(rule(id="<x/>")),
    doc(rule(action="<Expiration/>")),
    doc(rule(action="<Expiration><Days>1</Days><Date>2024-01-01</Date></Expiration>")),
    doc(rule(action="<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>")),
    doc(rule(action="<Expiration><Days>abc</Days></Expiration>")),
    doc(rule(action="<Expiration><Days>1.5</Days></Expiration>")),
    doc(rule(action="<Expiration><Days>\u0663</Days></Expiration>")),
    doc(rule(action="<Expiration><Days>1_0</Days></Expiration>")),
    doc(rule(action="<Expiration><Days></Days></Expiration>")),
    doc(rule(action="<Expiration><Days>2147483648</Days></Expiration>")),
    doc(rule(action="<Expiration><Date>tomorrow</Date></Expiration>")),
    doc(rule(action="<Expiration><Date>2024-02-30T00:00:00Z</Date></Expiration>")),
    doc(rule(action="<Expiration><Date>2024-01-01T24:00:00Z</Date></Expiration>")),
    doc(rule(action="<Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>")),
    doc(rule(action="<AbortIncompleteMultipartUpload/>")),
    doc(rule(action="<AbortIncompleteMultipartUpload><Days>1</Days></AbortIncompleteMultipartUpload>")),
    # A schema error in a later rule wins over a semantic one in an earlier.
    doc(rule(id="x" * 256), rule(status="Off")),
    doc(rule(action=None), rule(filter=None)),
]  # fmt: skip


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed(body):
    err = error_of(body)
    assert err.code == "MalformedXML"
    assert err.message.startswith(CODES["MalformedXML"].message)


def test_dtd_is_refused():
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "a">]>' + doc(rule())
    assert error_of(body).code == "MalformedXML"


def _abort(days: str = "1") -> str:
    return (
        f"<AbortIncompleteMultipartUpload><DaysAfterInitiation>{days}"
        "</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
    )


TAG_FILTER = "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
SIZE_FILTER = "<Filter><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>"
NOT_MIDNIGHT = "'Date' must be at midnight GMT"
DAYS_MSG = "'Days' for Expiration action must be a positive integer"
ABORT_MSG = (
    "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be "
    "a positive integer"
)
TAGS_MSG = "AbortIncompleteMultipartUpload cannot be specified with Tags."
SIZE_MSG = "AbortIncompleteMultipartUpload cannot be specified with Object Size."


def _and(*parts: str) -> str:
    return "<Filter><And>" + "".join(parts) + "</And></Filter>"


def _date(text: str) -> str:
    return f"<Expiration><Date>{text}</Date></Expiration>"


ERRORS = [
    (doc(rule(id="x" * 256)), "InvalidArgument", "ID length should not exceed allowed limit of 255"),
    (doc(rule(id="a"), rule(id="b"), rule(id="a")), "InvalidArgument",
     "Rule ID must be unique. Found same ID for more than one rule"),
    (doc(*(rule(id=str(i)) for i in range(1001))), "InvalidArgument",
     "The number of lifecycle rules should not exceed allowed limit of 1000 rules"),
    (doc(rule(action="<Expiration><Days>0</Days></Expiration>")), "InvalidArgument", DAYS_MSG),
    (doc(rule(action="<Expiration><Days>-3</Days></Expiration>")), "InvalidArgument", DAYS_MSG),
    (doc(rule(action=_date("2024-01-01T10:00:00Z"))), "InvalidArgument", NOT_MIDNIGHT),
    (doc(rule(action=_date("2024-01-01T00:00:00.5Z"))), "InvalidArgument", NOT_MIDNIGHT),
    (doc(rule(action=_date("2024-01-01T00:00:00+01:00"))), "InvalidArgument", NOT_MIDNIGHT),
    (doc(rule(action=_abort("0"))), "InvalidArgument", ABORT_MSG),
    (doc(rule(filter=_and("<ObjectSizeGreaterThan>5</ObjectSizeGreaterThan>",
                          "<ObjectSizeLessThan>5</ObjectSizeLessThan>"))),
     "InvalidArgument", "ObjectSizeGreaterThan must be less than ObjectSizeLessThan"),
    (doc(rule(filter="<Filter><ObjectSizeGreaterThan>-1</ObjectSizeGreaterThan></Filter>")),
     "InvalidArgument", "'ObjectSizeGreaterThan' must be a non-negative integer"),
    (doc(rule(action=None)), "InvalidRequest", "At least one action needs to be specified in a rule"),
    (doc(rule(filter=TAG_FILTER, action=_abort())), "InvalidRequest", TAGS_MSG),
    (doc(rule(DAYS_1, filter=_and("<Prefix>p</Prefix>", "<Tag><Key>k</Key><Value>v</Value></Tag>"),
              action=_abort())), "InvalidRequest", TAGS_MSG),
    (doc(rule(filter=SIZE_FILTER, action=_abort())), "InvalidRequest", SIZE_MSG),
    (doc(rule(filter=_and("<ObjectSizeGreaterThan>1</ObjectSizeGreaterThan>"), action=_abort())),
     "InvalidRequest", SIZE_MSG),
    (doc(rule(filter=_and("<Tag><Key>k</Key><Value>1</Value></Tag>",
                          "<Tag><Key>k</Key><Value>2</Value></Tag>"))),
     "InvalidRequest", "Duplicate Tag Keys are not allowed."),
    # The first semantic error in document order.
    (doc(rule(id="x" * 256), rule(action=None)), "InvalidArgument",
     "ID length should not exceed allowed limit of 255"),
    (doc(rule(action=None), rule(id="x" * 256)), "InvalidRequest",
     "At least one action needs to be specified in a rule"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "code", "message"), ERRORS)
def test_errors(body, code, message):
    err = error_of(body)
    assert (err.code, err.message) == (code, message)
    assert err.status == 400


NOT_IMPLEMENTED = [
    ("<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>",
     "Transition"),
    ("<NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays>"
     "<StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>",
     "NoncurrentVersionTransition"),
    ("<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
     "</NoncurrentVersionExpiration>", "NoncurrentVersionExpiration"),
    ("<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>",
     "ExpiredObjectDeleteMarker"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "element"), NOT_IMPLEMENTED)
def test_not_implemented(action, element):
    # Alone, or beside an action that is implemented.
    for body in (
        doc(rule(action=action)),
        doc(rule(_abort(), action=action), ns=False),
    ):
        err = error_of(body)
        assert err.code == "NotImplemented" and err.status == 501
        assert err.message.startswith(f"{element} is not implemented")


def test_not_implemented_also_with_an_abort_action():
    err = error_of(doc(rule(_abort(), action=NOT_IMPLEMENTED[0][0])))
    assert err.code == "NotImplemented"


# --- strategies ------------------------------------------------------------

# Text XML 1.0 carries unchanged.
xml_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"))
xml_text = st.text(xml_chars, max_size=12)
sizes = st.integers(0, 2**63 - 1)
tags = st.tuples(xml_text, xml_text)


@st.composite
def and_filters(draw, text=xml_text, tag=tags, size=sizes) -> Filter:
    prefix = draw(st.none() | text)
    tag_list = draw(st.lists(tag, max_size=4, unique_by=lambda t: t[0]))
    gt, lt = draw(st.none() | size), draw(st.none() | size)
    if gt is not None and lt is not None:
        gt, lt = min(gt, lt), max(gt, lt)
        if gt == lt:
            lt = None
    if prefix is None and not tag_list and gt is None and lt is None:
        prefix = ""
    return Filter("and", prefix, tuple(tag_list), gt, lt)


def filters(text=xml_text, tag=tags, size=sizes):
    return st.one_of(
        text.map(lambda p: Filter("legacy", prefix=p)),
        st.just(Filter("empty")),
        text.map(lambda p: Filter("prefix", prefix=p)),
        tag.map(lambda t: Filter("tag", tags=(t,))),
        size.map(lambda n: Filter("greater", greater_than=n)),
        size.map(lambda n: Filter("less", less_than=n)),
        and_filters(text, tag, size),
    )


# Midnights from 1970 to 9999.
dates = st.integers(0, 2932896).map(lambda d: d * 86400)
positive_days = st.integers(1, 2**31 - 1)


rule_ids = st.text(xml_chars, min_size=1, max_size=40)


@st.composite
def rules(draw, ids=rule_ids, flt=None) -> Rule:
    f = draw(flt if flt is not None else filters())
    kind = draw(st.sampled_from(["none", "days", "date"]))
    days = draw(positive_days) if kind == "days" else None
    date = draw(dates) if kind == "date" else None
    abort = None
    if not (f.has_tags or f.has_size) and draw(st.booleans()):
        abort = draw(positive_days)
    if days is None and date is None and abort is None:
        days = draw(positive_days)
    return Rule(draw(ids), draw(st.booleans()), f, days, date, abort)


configs = st.lists(rules(), min_size=1, max_size=5, unique_by=lambda r: r.id).map(
    lambda rs: LifecycleConfiguration(tuple(rs))
)


# --- round trips -----------------------------------------------------------


@settings(max_examples=300)
@given(configs)
def test_xml_round_trip(config):
    check(config)
    body = lifecycle_xml(config)
    assert parse_lifecycle(body) == config
    # Clients may send it back without the namespace.
    bare = body.replace(f' xmlns="{NS}"'.encode(), b"")
    assert b"xmlns" not in bare
    assert parse_lifecycle(bare) == config


@settings(max_examples=300)
@given(configs)
def test_stored_form_round_trip(config):
    text = encode(config)
    assert decode(text) == config
    assert encode(decode(text)) == text
    json.loads(text)


def test_xml_body():
    config = LifecycleConfiguration(
        (
            Rule("a", True, Filter("empty"), None, utc("2012-12-23T00:00"), None),
            Rule("b", False, Filter("and", None, (("k", "v"),), 1, None), 3),
            Rule("c", True, Filter("legacy", prefix="x/"), None, None, 2),
        )
    )
    assert lifecycle_xml(config) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Rule><ID>a</ID><Filter/><Status>Enabled</Status>"
        b"<Expiration><Date>2012-12-23T00:00:00.000Z</Date></Expiration></Rule>"
        b"<Rule><ID>b</ID><Filter><And><Tag><Key>k</Key><Value>v</Value></Tag>"
        b"<ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></And></Filter>"
        b"<Status>Disabled</Status><Expiration><Days>3</Days></Expiration></Rule>"
        b"<Rule><ID>c</ID><Prefix>x/</Prefix><Status>Enabled</Status>"
        b"<AbortIncompleteMultipartUpload><DaysAfterInitiation>2"
        b"</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
        b"</LifecycleConfiguration>"
    )


def _stored(**changes) -> str:
    r = {
        "id": "r",
        "enabled": True,
        "filter": {"form": "empty", "prefix": None, "tags": [], "gt": None, "lt": None},
        "days": 1,
        "date": None,
        "abort": None,
    }
    flt = changes.pop("filter", {})
    r.update(changes)
    r["filter"].update(flt)
    return json.dumps({"v": 1, "rules": [r]})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "{}",
        '{"v": 2, "rules": []}',
        '{"v": 1, "rules": []}',
        '{"v": 1, "rules": {}}',
        _stored(days=0),
        _stored(days=True),
        _stored(days=1.5),
        _stored(days="1"),
        _stored(days=None),
        _stored(date=86400, days=1),
        _stored(days=None, date=3600),
        _stored(enabled=1),
        _stored(id=""),
        _stored(id="x" * 256),
        _stored(id=7),
        _stored(abort=1, filter={"form": "tag", "tags": [["k", "v"]]}),
        _stored(filter={"form": "bogus"}),
        _stored(filter={"form": "prefix"}),
        _stored(filter={"form": "empty", "prefix": "p"}),
        _stored(filter={"form": "tag", "tags": [["a", "1"], ["b", "2"]]}),
        _stored(filter={"form": "tag", "tags": [["a", "1", "2"]]}),
        _stored(filter={"form": "and"}),
        _stored(filter={"form": "and", "tags": [["a", "1"], ["a", "2"]]}),
        _stored(filter={"form": "and", "gt": 5, "lt": 5}),
        _stored(filter={"form": "greater", "gt": -1}),
    ],
)
def test_decode_refuses(text):
    with pytest.raises(ValueError):
        decode(text)


def test_decode_refuses_duplicate_ids():
    good = json.loads(_stored())
    good["rules"].append(good["rules"][0])
    with pytest.raises(ValueError):
        decode(json.dumps(good))
    assert decode(_stored()).rules[0].id == "r"


# --- matching --------------------------------------------------------------


def oracle(f: Filter, key: str, size: int, obj_tags: list[tuple[str, str]]) -> bool:
    if f.prefix is not None and key[: len(f.prefix)] != f.prefix:
        return False
    if f.greater_than is not None and size - f.greater_than < 1:
        return False
    if f.less_than is not None and f.less_than - size < 1:
        return False
    for want_key, want_value in f.tags:
        if not any(k == want_key and v == want_value for k, v in obj_tags):
            return False
    return True


small_text = st.text("ab/", max_size=3)
small_tags = st.tuples(st.sampled_from("kl"), st.sampled_from("vw"))
small_sizes = st.integers(0, 6)


@settings(max_examples=500)
@given(
    rules(flt=filters(small_text, small_tags, small_sizes)),
    small_text,
    small_text,
    small_sizes,
    st.lists(small_tags, max_size=3, unique_by=lambda t: t[0]),
)
def test_matches_brute_force(r, head, tail, size, obj_tags):
    key = (r.filter.prefix or "") + tail if head == "" else head + tail
    assert r.matches(key, size, obj_tags) == oracle(r.filter, key, size, obj_tags)


def test_matches_examples():
    f = Filter("and", "logs/", (("a", "1"), ("b", "2")), 10, 20)
    assert f.matches("logs/x", 15, [("b", "2"), ("c", "3"), ("a", "1")])
    assert not f.matches("logs/x", 15, [("a", "1")])
    assert not f.matches("logs/x", 15, [("a", "1"), ("b", "3")])
    assert not f.matches("log/x", 15, [("a", "1"), ("b", "2")])
    assert not f.matches("logs/x", 10, [("a", "1"), ("b", "2")])
    assert not f.matches("logs/x", 20, [("a", "1"), ("b", "2")])
    assert Filter("empty").matches("anything", 0, [])
    assert Filter("legacy", prefix="").matches("anything", 0, [])
    assert not Filter("tag", tags=(("k", ""),)).matches("x", 0, [])


@pytest.mark.parametrize(
    ("flt", "prefix"),
    [
        (Filter("empty"), ""),
        (Filter("legacy", prefix="a/"), "a/"),
        (Filter("prefix", prefix="b/"), "b/"),
        (Filter("and", prefix="c/", tags=(("k", "v"),)), "c/"),
        (Filter("and", tags=(("k", "v"),)), ""),
        (Filter("tag", tags=(("k", "v"),)), ""),
        (Filter("greater", greater_than=3), ""),
    ],
)
def test_scan_prefix(flt, prefix):
    assert Rule("r", True, flt, 1).prefix == prefix


# --- expiry ----------------------------------------------------------------


def _days(n: int, flt: Filter = EMPTY, id: str = "r", enabled=True) -> Rule:
    return Rule(id, enabled, flt, expiration_days=n)


@pytest.mark.parametrize(
    ("modified", "days", "due"),
    [
        ("2024-01-01T10:00", 1, "2024-01-03T00:00"),
        # AWS's own example: 1/15/2014 10:30 UTC + 3 days -> 1/19/2014 00:00 UTC.
        ("2014-01-15T10:30", 3, "2014-01-19T00:00"),
        ("2024-01-01T23:59:59", 1, "2024-01-03T00:00"),
        # Exactly at midnight: the next midnight after Days, not that instant.
        ("2024-01-01T00:00", 1, "2024-01-03T00:00"),
        ("2023-12-31T12:00", 366, "2025-01-01T00:00"),
    ],
)
def test_expiry_rounds_up_to_the_next_midnight_utc(modified, days, due):
    assert expiry_of(_days(days), utc(modified), DAY) == utc(due)
    assert expiry_of(_days(days), utc(modified) + 0.25, DAY) == utc(due)
    r = Rule("r", True, Filter("empty"), abort_days=days)
    assert abort_due(r, utc(modified)) == utc(due)


@pytest.mark.parametrize(
    ("modified", "days", "due"),
    [(3.5, 1, 6.0), (4.0, 1, 8.0), (0.1, 2, 6.0), (0.0, 1, 4.0), (5.99, 3, 12.0)],
)
def test_expiry_with_two_second_days(modified, days, due):
    assert expiry_of(_days(days), modified, 2.0) == due
    assert (
        abort_due(Rule("r", True, Filter("empty"), abort_days=days), modified, 2) == due
    )


@given(st.sampled_from([2, 3, 86400]), st.integers(0, 2**40), st.integers(1, 10_000))
def test_expiry_property(day, modified, days):
    due = expiry_of(_days(days), float(modified), float(day))
    assert due is not None and due == int(due) and int(due) % day == 0
    assert modified + days * day < due <= modified + days * day + day


def test_expiry_by_date_and_none():
    date = Rule("r", True, Filter("empty"), expiration_date=utc("2030-06-01T00:00"))
    assert (
        expiry_of(date, 0.0, DAY)
        == expiry_of(date, 1e9, 2.0)
        == utc("2030-06-01T00:00")
    )
    abort_only = Rule("r", True, Filter("empty"), abort_days=1)
    assert expiry_of(abort_only, 0.0) is None
    assert abort_due(_days(1), 0.0) is None
    assert next_day_boundary(86400.0) == 2 * 86400.0


def test_expiration_for_takes_the_earliest_matching_enabled_rule():
    t = float(utc("2024-01-01T10:00"))
    config = LifecycleConfiguration(
        (
            _days(30, id="month"),
            _days(7, Filter("prefix", prefix="logs/"), id="week"),
            _days(1, id="off", enabled=False),
            _days(2, Filter("tag", tags=(("tmp", "1"),)), id="tmp"),
            Rule("abort", True, Filter("empty"), abort_days=1),
            Rule(
                "dated",
                True,
                Filter("prefix", prefix="old/"),
                None,
                utc("2024-01-05T00:00"),
            ),
            _days(2, Filter("greater", greater_than=100), id="big"),
        )
    )
    assert expiration_for(config, "x", 0, [], t) == (utc("2024-02-01T00:00"), "month")
    assert expiration_for(config, "logs/a", 0, [], t) == (
        utc("2024-01-09T00:00"),
        "week",
    )
    assert expiration_for(config, "logs/a", 0, [("tmp", "1")], t) == (
        utc("2024-01-04T00:00"),
        "tmp",
    )
    assert expiration_for(config, "old/a", 0, [], t) == (
        utc("2024-01-05T00:00"),
        "dated",
    )
    assert expiration_for(config, "x", 101, [], t)[1] == "big"
    assert expiration_for(config, "x", 100, [], t)[1] == "month"
    # Ties go to the first rule.
    tie = LifecycleConfiguration((_days(3, id="one"), _days(3, id="two")))
    assert expiration_for(tie, "k", 0, [], t)[1] == "one"
    only_abort = LifecycleConfiguration(
        (Rule("a", True, Filter("empty"), abort_days=1),)
    )
    assert expiration_for(only_abort, "k", 0, [], t) is None
    disabled = LifecycleConfiguration((_days(1, enabled=False),))
    assert expiration_for(disabled, "k", 0, [], t) is None


@settings(max_examples=300)
@given(
    st.lists(
        rules(flt=filters(small_text, small_tags, small_sizes)),
        min_size=1,
        max_size=6,
        unique_by=lambda r: r.id,
    ),
    small_text,
    small_sizes,
    st.lists(small_tags, max_size=2, unique_by=lambda t: t[0]),
    st.integers(0, 10**6),
    st.sampled_from([2.0, DAY]),
)
def test_expiration_for_brute_force(rs, key, size, obj_tags, modified, day):
    config = LifecycleConfiguration(tuple(rs))
    candidates = []
    for r in rs:
        if not r.enabled or not oracle(r.filter, key, size, obj_tags):
            continue
        if r.expiration_days is not None:
            due = ((modified + r.expiration_days * day) // day + 1) * day
        elif r.expiration_date is not None:
            due = r.expiration_date
        else:
            continue
        candidates.append((due, r.id))
    want = min(candidates, key=lambda c: c[0]) if candidates else None
    assert expiration_for(config, key, size, obj_tags, float(modified), day) == want


def test_abort_for():
    t = float(utc("2024-01-01T10:00"))
    config = LifecycleConfiguration(
        (
            Rule("all", True, Filter("empty"), abort_days=10),
            Rule("tmp", True, Filter("and", prefix="tmp/"), abort_days=2),
            Rule("off", False, Filter("empty"), abort_days=1),
            _days(1, id="exp"),
        )
    )
    assert abort_for(config, "x", t) == (utc("2024-01-12T00:00"), "all")
    assert abort_for(config, "tmp/x", t) == (utc("2024-01-04T00:00"), "tmp")
    assert abort_for(LifecycleConfiguration((_days(1),)), "x", t) is None


def test_expiration_header():
    ts = utc("2012-12-23T00:00")
    assert expiration_header(ts, "picture-deletion-rule") == (
        'expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"'
    )
    assert expiration_header(ts + 0.5, 'a b/"c"é') == (
        'expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="a%20b%2F%22c%22%C3%A9"'
    )


def test_generated_ids_differ_from_given_ones_with_a_counter():
    c = count()
    config = parse_lifecycle(
        doc(rule(id="0"), rule(id=None)), new_id=lambda: str(next(c))
    )
    assert [r.id for r in config.rules] == ["0", "1"]
