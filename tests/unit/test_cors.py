"""CORS rules (ozs3.s3.cors, cors_xml): wildcard matching against a
reference, S3's rule order, the headers, the XML both ways and S3's
refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozs3.s3.cors import (
    VARY,
    CorsRule,
    decode,
    encode,
    find_rule,
    matches,
    requested_headers,
    response_headers,
)
from ozs3.s3.cors_xml import cors_xml, parse_cors
from ozs3.s3.errors import S3Error

TEXT = st.text(st.characters(codec="ascii", exclude_characters="*"), max_size=8)


@given(prefix=TEXT, suffix=TEXT, value=st.text(max_size=20))
def test_one_wildcard_matches_what_starts_and_ends_right(
    prefix: str, suffix: str, value: str
) -> None:
    expected = (
        len(value) >= len(prefix) + len(suffix)
        and value.startswith(prefix)
        and value.endswith(suffix)
    )
    assert matches(f"{prefix}*{suffix}", value) == expected
    assert matches(prefix, value) == (prefix == value)


def test_headers_match_case_insensitively_origins_do_not() -> None:
    assert matches("x-amz-*", "X-Amz-Date", case_sensitive=False)
    assert not matches("http://A.example", "http://a.example")
    assert matches("*", "")
    assert requested_headers(" Content-Type ,X-Amz-Date,, ") == [
        "content-type",
        "x-amz-date",
    ]


RULES = (
    CorsRule(("http://a.example",), ("GET",), ("x-amz-*",), ("ETag",), 30, "a"),
    CorsRule(("http://*.example",), ("GET", "PUT"), ("*",)),
    CorsRule(("*",), ("HEAD",)),
)


@pytest.mark.parametrize(
    ("origin", "method", "headers", "rule"),
    [
        ("http://a.example", "GET", [], 0),
        ("http://a.example", "GET", ["x-amz-date"], 0),
        # A header the first rule does not allow: the next rule that does.
        ("http://a.example", "GET", ["content-type"], 1),
        ("http://b.example", "PUT", ["content-type", "x-y"], 1),
        ("http://b.example", "DELETE", [], None),
        ("https://anything", "HEAD", [], 2),
        ("https://anything", "HEAD", ["x"], None),
        ("http://example", "GET", [], None),
    ],
)
def test_the_first_rule_that_allows_everything_asked_applies(
    origin: str, method: str, headers: list[str], rule: int | None
) -> None:
    found = find_rule(RULES, origin, method, headers)
    assert found == (None if rule is None else RULES[rule])


def test_response_headers() -> None:
    h = response_headers(RULES[0], "http://a.example", ["x-amz-date"])
    assert h == {
        "access-control-allow-origin": "http://a.example",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET",
        "access-control-allow-headers": "x-amz-date",
        "access-control-expose-headers": "ETag",
        "access-control-max-age": "30",
        "vary": VARY,
    }
    # A rule for any origin answers "*", without credentials.
    h = response_headers(RULES[2], "https://x")
    assert h["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in h


NAMES = st.text(
    st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=6
)
RULE = st.builds(
    CorsRule,
    st.lists(NAMES.map(lambda s: f"https://{s}"), min_size=1, max_size=3).map(tuple),
    st.lists(
        st.sampled_from(["GET", "PUT", "HEAD", "POST", "DELETE"]),
        min_size=1,
        max_size=5,
        unique=True,
    ).map(tuple),
    st.lists(NAMES, max_size=3).map(tuple),
    st.lists(NAMES, max_size=3).map(tuple),
    st.none() | st.integers(0, 2**31 - 1),
    st.just("") | NAMES,
)


@given(rules=st.lists(RULE, min_size=1, max_size=5).map(tuple))
def test_rules_survive_the_xml_and_the_stored_form(rules: tuple[CorsRule, ...]) -> None:
    assert parse_cors(cors_xml(rules)) == rules
    assert decode(encode(rules)) == rules


def body(*rules: str) -> bytes:
    return (
        b'<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        + "".join(f"<CORSRule>{r}</CORSRule>" for r in rules).encode()
        + b"</CORSConfiguration>"
    )


OK = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"


@pytest.mark.parametrize(
    ("xml", "code", "message"),
    [
        (body(), "MalformedXML", "needs a CORSRule"),
        (body("<AllowedMethod>GET</AllowedMethod>"), "MalformedXML", ""),
        (body(OK + "<Bogus/>"), "MalformedXML", "unexpected element"),
        (body(OK + "<MaxAgeSeconds>x</MaxAgeSeconds>"), "MalformedXML", ""),
        (
            body(
                "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"
            ),
            "InvalidRequest",
            "Unsupported method is PATCH",
        ),
        (
            body(OK.replace(">*<", ">http://*.*.example<")),
            "InvalidRequest",
            'AllowedOrigin "http://*.*.example" can not have more than one wildcard.',
        ),
        (
            body(OK + "<AllowedHeader>x-*-*</AllowedHeader>"),
            "InvalidRequest",
            "more than one wildcard",
        ),
        (
            body(OK + "<ExposeHeader>*</ExposeHeader>"),
            "InvalidRequest",
            "do not support wildcard for ExposeHeader",
        ),
        (body(*[OK] * 101), "InvalidRequest", "should not exceed allowed limit of 100"),
        (body(OK + f"<ID>{'i' * 256}</ID>"), "InvalidArgument", "ID length"),
    ],
)
def test_s3s_refusals(xml: bytes, code: str, message: str) -> None:
    with pytest.raises(S3Error) as e:
        parse_cors(xml)
    assert e.value.code == code
    assert message in e.value.message


def test_a_configuration_without_the_namespace_and_with_padding_is_read() -> None:
    xml = (
        b"<CORSConfiguration><CORSRule><AllowedOrigin> http://x </AllowedOrigin>"
        b"<AllowedMethod>PUT</AllowedMethod><MaxAgeSeconds>3000</MaxAgeSeconds>"
        b"</CORSRule></CORSConfiguration>"
    )
    assert parse_cors(xml) == (CorsRule(("http://x",), ("PUT",), (), (), 3000),)
