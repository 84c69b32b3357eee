"""SigV2 (HmacV1) verification against botocore's own signers and AWS's examples."""

from __future__ import annotations

import base64
import calendar
import dataclasses
import email.utils
import functools
import hashlib
import hmac
import random
import string
from unittest import mock

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth, _host_from_url
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.signed_request import HttpRequest, query_items, text
from ozs3.s3.sigv2 import (
    SUBRESOURCES,
    SigV2Auth,
    parse_sigv2,
    string_to_sign_v2,
    verify_sigv2,
)

AUTH_CODES = {
    "AccessDenied",
    "InvalidArgument",
    "RequestTimeTooSkewed",
    "SignatureDoesNotMatch",
}
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"


@dataclasses.dataclass(frozen=True)
class Signed:
    req: HttpRequest
    now: float
    secret: str
    prefix: str  # resource_prefix: "/bucket" for virtual-host requests


def wire(prepared: AWSPreparedRequest, drop_amz_headers: bool = False) -> HttpRequest:
    rest = prepared.url.split("://", 1)[1]
    path, _, query = rest[rest.index("/") :].partition("?")
    headers = [(k.lower(), str(v).strip(" \t")) for k, v in prepared.headers.items()]
    if drop_amz_headers:  # a presigned URL used as a bare URL
        headers = [(k, v) for k, v in headers if not k.startswith("x-amz-")]
    if not any(k == "host" for k, _ in headers):
        headers.insert(0, ("host", _host_from_url(prepared.url)))
    return HttpRequest(
        prepared.method, path.encode("ascii"), query.encode("ascii"), tuple(headers)
    )


def sign(
    *,
    method: str,
    host: str,
    bucket: str,
    key: str | None,
    sub: str | None,
    params: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
    access_key: str,
    secret: str,
    when: int,
    presign: bool,
    virtual: bool = False,
    expires: int = 3600,
    drop_amz_headers: bool = False,
    auth_path: str | None = None,
) -> Signed:
    """Sign as botocore does (HmacV1Auth / HmacV1QueryAuth), path-style or
    virtual-host style (botocore's auth_path then names the bucket).
    ``auth_path``: the resource path signed, if not the URL's."""
    path = "/" + percent_encode(key, safe="/~") if key is not None else ""
    if virtual:
        url = f"http://{bucket}.{host}{path or '/'}"
        auth_path = f"/{bucket}{path or '/'}"
        prefix = f"/{bucket}"
    else:
        url = f"http://{host}/{bucket}{path}"
        prefix = ""
    query = [sub] if sub else []
    if params:
        query.append(percent_encode_sequence(params))
    if query:
        url += "?" + "&".join(query)
    request = AWSRequest(
        method=method, url=url, data=body, headers=dict(headers), auth_path=auth_path
    )
    creds = Credentials(access_key, secret)
    signer = HmacV1QueryAuth(creds, expires=expires) if presign else HmacV1Auth(creds)
    with (
        mock.patch("botocore.auth.time") as clock,
        mock.patch(
            "botocore.auth.formatdate",
            lambda usegmt=False: email.utils.formatdate(when, usegmt=usegmt),
        ),
    ):
        clock.time.return_value = when
        signer.add_auth(request)
    return Signed(
        wire(request.prepare(), drop_amz_headers), float(when), secret, prefix
    )


def outcome(
    s: Signed,
    req: HttpRequest | None = None,
    secret: str | None = None,
    now: float | None = None,
) -> str | None:
    req = s.req if req is None else req
    try:
        auth = parse_sigv2(req)
        if auth is None:
            return "anonymous"
        verify_sigv2(
            req,
            auth,
            s.secret if secret is None else secret,
            s.now if now is None else now,
            resource_prefix=s.prefix,
        )
    except S3Error as e:
        return e.code
    return None


# -- strategies ----------------------------------------------------------------

KEY_CHARS = string.ascii_letters + string.digits + "/ +%~*'()!$&=?#;:@,-_.éü日本"
VALUE_CHARS = string.ascii_letters + string.digits + " /+%~*'()!$&=?#;:@,-_.éü日"
HEADER_CHARS = (
    string.ascii_letters + string.digits + " \t/+%~*'()!$&=?#;:@,-_.\"<>[]{}éü"
)

buckets = st.from_regex(r"[a-z0-9][a-z0-9-]{1,10}[a-z0-9]", fullmatch=True)
keys = st.one_of(
    st.none(),
    st.text(KEY_CHARS, min_size=1, max_size=24),
    st.sampled_from(["a//b", "dir/", "/lead", "a b+c%d", "ü/日本/", "~*'"]),
)
subs = st.sampled_from(
    [None, "uploads", "acl", "tagging", "delete", "versioning", "location", "versions"]
)
params = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "prefix",
                "delimiter",
                "marker",
                "max-keys",
                "uploadId",
                "partNumber",
                "versionId",
                "response-content-type",
                "response-content-disposition",
                "response-expires",
            ]
        ),
        st.text(VALUE_CHARS, max_size=12),
    ),
    max_size=4,
    unique_by=lambda kv: kv[0],
)
hosts = st.sampled_from(["localhost:9878", "s3.example.com", "s3.local:8080"])
access_keys = st.one_of(
    st.text(string.ascii_letters + string.digits + "/@._-+=:", min_size=1, max_size=30),
    st.just("testuser/scm@EXAMPLE.COM"),
)
secrets = st.text(string.printable.strip() + " ", min_size=1, max_size=40)
times = st.integers(
    calendar.timegm((2015, 1, 1, 0, 0, 0)), calendar.timegm((2037, 12, 31, 0, 0, 0))
)


@st.composite
def signed_requests(draw: st.DrawFn, presign: bool | None = None) -> Signed:
    method = draw(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]))
    body = draw(st.binary(max_size=64)) if method in ("PUT", "POST") else b""
    headers: dict[str, str] = {}
    for name in draw(
        st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3, unique=True)
    ):
        headers[f"x-amz-meta-{name}"] = draw(
            st.text(HEADER_CHARS, min_size=1, max_size=16)
        )
    if draw(st.booleans()):
        headers["Content-Type"] = draw(
            st.sampled_from(["text/plain", "application/x-download", "a/b; c=d"])
        )
    if draw(st.booleans()):
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    if draw(st.booleans()):
        headers["x-amz-acl"] = "public-read"
    if presign is None:
        presign = draw(st.booleans())
    return sign(
        method=method,
        host=draw(hosts),
        bucket=draw(buckets),
        key=draw(keys),
        sub=draw(subs),
        params=draw(params),
        headers=headers,
        body=body,
        access_key=draw(access_keys),
        secret=draw(secrets),
        when=draw(times),
        presign=presign,
        virtual=draw(st.booleans()),
        expires=draw(st.integers(1, 604800)),
        drop_amz_headers=presign and draw(st.booleans()),
    )


# -- every botocore-signed request verifies -------------------------------------


@settings(max_examples=150)
@given(signed_requests())
def test_botocore_signed_requests_verify(s: Signed) -> None:
    assert outcome(s) is None


@settings(max_examples=60)
@given(signed_requests(), secrets.map(lambda s: "held#" + s))
def test_wrong_secret_fails(s: Signed, other: str) -> None:
    if other == s.secret:
        return
    auth = parse_sigv2(s.req)
    assert auth is not None
    with pytest.raises(S3Error) as err:
        verify_sigv2(s.req, auth, other, s.now, resource_prefix=s.prefix)
    e = err.value
    assert e.code == "SignatureDoesNotMatch"
    assert e.status == 403
    assert e.extra["AWSAccessKeyId"] == auth.access_key
    assert e.extra["SignatureProvided"] == auth.signature
    assert e.extra["StringToSign"] == string_to_sign_v2(s.req, auth, s.prefix)
    assert (
        bytes.fromhex(e.extra["StringToSignBytes"].replace(" ", ""))
        == e.extra["StringToSign"].encode()
    )
    # The secret the server holds never appears in what it answers.
    assert other not in str(e)
    assert all(other not in v for v in e.extra.values())


# -- any single-byte mutation of what V2 signs fails --------------------------------

POOL = string.ascii_letters + string.digits + "%/+=&?~*' .-_:,"


def _replace(s: str, i: int, rnd: random.Random) -> str:
    return s[:i] + rnd.choice([c for c in POOL if c != s[i]]) + s[i + 1 :]


def _signed_query_spans(req: HttpRequest, auth: SigV2Auth) -> list[range]:
    """Byte ranges of the query segments V2 signs: sub-resources, Signature,
    Expires, and (presigned, no such header) x-amz-* parameters."""
    spans, pos = [], 0
    header_names = {n for n, _ in req.headers}
    for segment in req.raw_query.split(b"&"):
        [(name, _)] = query_items(segment) or [(b"", None)]
        n = text(name)
        amz = (
            auth.presigned
            and n.lower().startswith("x-amz-")
            and n.lower() not in header_names
        )
        if n in SUBRESOURCES or n in ("Signature", "Expires") or amz:
            spans.append(range(pos, pos + len(segment)))
        pos += len(segment) + 1
    return spans


def _same_query(a: bytes, b: bytes) -> bool:
    def norm(raw: bytes) -> list[tuple[bytes, bytes | None]]:
        items = query_items(raw)
        # x-amz-* parameters stand for headers: names fold case, values are stripped
        return [
            (n.lower(), (v or b"").strip(b" \t\r\n\v\f"))
            if n.lower().startswith(b"x-amz-")
            else (n, v)
            for n, v in items
        ]

    return norm(a) == norm(b)


def mutations(s: Signed, rnd: random.Random) -> list[HttpRequest]:
    req = s.req
    auth = parse_sigv2(req)
    assert auth is not None
    out = []
    for i in range(len(req.method)):
        out.append(
            HttpRequest(
                _replace(req.method, i, rnd), req.raw_path, req.raw_query, req.headers
            )
        )
    path = req.raw_path.decode("ascii")
    for i in range(len(path)):  # V2 signs the path as sent: every byte counts
        out.append(
            HttpRequest(
                req.method, _replace(path, i, rnd).encode(), req.raw_query, req.headers
            )
        )
    query = req.raw_query.decode("ascii")
    for span in _signed_query_spans(req, auth):
        for i in span:
            q = _replace(query, i, rnd)
            if _same_query(q.encode(), req.raw_query):
                continue  # e.g. %2f for %2F, or X-Amz-Meta-A for x-amz-meta-a
            out.append(HttpRequest(req.method, req.raw_path, q.encode(), req.headers))
    for h, (name, value) in enumerate(req.headers):
        # (HmacV1QueryAuth leaves a Date header behind, which nobody signs.)
        signed_date = name == "date" and not auth.presigned
        if (
            name in ("content-md5", "content-type")
            or signed_date
            or name.startswith("x-amz-")
        ):
            for i in range(len(value)):
                headers = (
                    *req.headers[:h],
                    (name, _replace(value, i, rnd)),
                    *req.headers[h + 1 :],
                )
                out.append(
                    HttpRequest(req.method, req.raw_path, req.raw_query, headers)
                )
    return out


@settings(max_examples=40)
@given(signed_requests(), st.randoms(use_true_random=False))
def test_any_single_byte_mutation_fails(s: Signed, rnd: random.Random) -> None:
    assert outcome(s) is None
    for mutated in mutations(s, rnd):
        code = outcome(s, mutated)
        assert code in AUTH_CODES | {"anonymous"}, (mutated, code)


# -- times ------------------------------------------------------------------------

WHEN = calendar.timegm((2024, 6, 1, 12, 0, 0))


def _simple(presign: bool, expires: int = 3600, key: str = "AK") -> Signed:
    return sign(
        method="GET",
        host="localhost:9878",
        bucket="bkt",
        key="a b",
        sub=None,
        params=[],
        headers={},
        body=b"",
        access_key=key,
        secret="secret",
        when=WHEN,
        presign=presign,
        expires=expires,
    )


def test_presigned_url_expires() -> None:
    s = _simple(True, expires=60)
    assert outcome(s, now=WHEN + 60) is None
    assert outcome(s, now=WHEN - 86400) is None  # Expires is all V2 checks
    auth = parse_sigv2(s.req)
    assert auth is not None and auth.expires == WHEN + 60
    with pytest.raises(S3Error) as err:
        verify_sigv2(s.req, auth, "secret", WHEN + 61)
    assert err.value.code == "AccessDenied"
    assert "expired" in err.value.message
    assert err.value.extra == {
        "Expires": "2024-06-01T12:01:00Z",
        "ServerTime": "2024-06-01T12:01:01Z",
    }


def test_header_auth_skew() -> None:
    s = _simple(False)
    assert outcome(s, now=WHEN + 900) is None
    assert outcome(s, now=WHEN - 900) is None
    auth = parse_sigv2(s.req)
    assert auth is not None
    for now in (WHEN + 901, WHEN - 901):
        with pytest.raises(S3Error) as err:
            verify_sigv2(s.req, auth, "secret", now)
        assert err.value.code == "RequestTimeTooSkewed"
        assert err.value.extra["RequestTime"] == "Sat, 01 Jun 2024 12:00:00 GMT"
        assert err.value.extra["MaxAllowedSkewMilliseconds"] == "900000"


def test_header_auth_needs_a_date() -> None:
    s = _simple(False)
    headers = tuple((n, v) for n, v in s.req.headers if n != "date")
    assert (
        outcome(s, HttpRequest("GET", s.req.raw_path, b"", headers)) == "AccessDenied"
    )
    bad = tuple((n, "yesterday" if n == "date" else v) for n, v in s.req.headers)
    assert outcome(s, HttpRequest("GET", s.req.raw_path, b"", bad)) == "AccessDenied"


def _v2_sign(secret: str, sts: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()
    ).decode()


def test_x_amz_date_empties_the_date_line() -> None:
    amz_date = "Sat, 01 Jun 2024 12:00:00 GMT"
    sts = f"PUT\n\ntext/plain\n\nx-amz-date:{amz_date}\nx-amz-meta-a:b\n/bkt/k"
    headers = (
        ("host", "h"),
        ("date", "Thu, 01 Jan 2015 00:00:00 GMT"),
        ("x-amz-date", amz_date),
        ("content-type", "text/plain"),
        ("x-amz-meta-a", " b "),
        ("authorization", f"AWS AK:{_v2_sign('secret', sts)}"),
    )
    req = HttpRequest("PUT", b"/bkt/k", b"", headers)
    auth = parse_sigv2(req)
    assert auth is not None
    assert string_to_sign_v2(req, auth) == sts
    verify_sigv2(req, auth, "secret", WHEN)  # x-amz-date, not Date, is checked for skew


# -- parsing ------------------------------------------------------------------------


def test_parse_header_and_query() -> None:
    auth = parse_sigv2(
        HttpRequest(
            "GET",
            b"/",
            b"",
            (("authorization", "AWS testuser/scm@EXAMPLE.COM:c2ln+/="),),
        )
    )
    assert auth == SigV2Auth("testuser/scm@EXAMPLE.COM", "c2ln+/=", False, None)
    query = b"AWSAccessKeyId=testuser%2Fscm%40EXAMPLE.COM&Signature=a%2Bb%2F%3D&Expires=1700000000"
    auth = parse_sigv2(HttpRequest("GET", b"/", query, ()))
    assert auth == SigV2Auth("testuser/scm@EXAMPLE.COM", "a+b/=", True, 1700000000)
    # "+" is a plus, not a space: a raw "+" in the signature survives
    auth = parse_sigv2(
        HttpRequest("GET", b"/", b"AWSAccessKeyId=a&Signature=a+b&Expires=1", ())
    )
    assert auth is not None and auth.signature == "a+b"


def test_parse_none_without_sigv2() -> None:
    assert parse_sigv2(HttpRequest("GET", b"/", b"prefix=a", (("host", "h"),))) is None
    v4 = "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab"
    assert parse_sigv2(HttpRequest("GET", b"/", b"", (("authorization", v4),))) is None


@pytest.mark.parametrize("authorization", ["AWS ", "AWS AK", "AWS :sig", "AWS AK:"])
def test_parse_malformed_header(authorization: str) -> None:
    with pytest.raises(S3Error) as err:
        parse_sigv2(HttpRequest("GET", b"/", b"", (("authorization", authorization),)))
    assert err.value.code == "InvalidArgument"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (b"AWSAccessKeyId=a&Signature=b", "requires"),
        (b"AWSAccessKeyId=a&Expires=1", "requires"),
        (b"Signature=b&Expires=1", "requires"),
        (b"AWSAccessKeyId=a&Signature=b&Expires=soon", "seconds since epoch"),
        (b"AWSAccessKeyId=a&Signature=b&Expires=-1", "seconds since epoch"),
    ],
)
def test_parse_bad_query(query: bytes, message: str) -> None:
    with pytest.raises(S3Error) as err:
        parse_sigv2(HttpRequest("GET", b"/", query, ()))
    assert err.value.code == "AccessDenied"
    assert message in err.value.message


def test_both_mechanisms_is_invalid_argument() -> None:
    query = b"AWSAccessKeyId=a&Signature=b&Expires=1"
    with pytest.raises(S3Error) as err:
        parse_sigv2(HttpRequest("GET", b"/", query, (("authorization", "AWS a:b"),)))
    assert err.value.code == "InvalidArgument"


def test_subresources_sorted_decoded_and_others_ignored() -> None:
    auth = SigV2Auth("AK", "sig", False, None)
    req = HttpRequest(
        "GET",
        b"/bkt/a%20b",
        b"uploadId=x%2By&prefix=p&partNumber=2&acl&versionId=",
        (
            ("date", "D"),
            ("x-amz-meta-b", "2"),
            ("x-amz-meta-a", "1"),
            ("x-amz-meta-b", " 3 "),
        ),
    )
    assert string_to_sign_v2(req, auth) == (
        "GET\n\n\nD\nx-amz-meta-a:1\nx-amz-meta-b:2,3\n"
        "/bkt/a%20b?acl&partNumber=2&uploadId=x+y&versionId="
    )
    assert string_to_sign_v2(req, auth, "/vhost").endswith(
        "\n/vhost/bkt/a%20b?acl&partNumber=2&uploadId=x+y&versionId="
    )


# -- AWS documentation vectors -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "prefix", "signature"),
    [
        (
            "GET",
            b"/photos/puppy.jpg",
            b"",
            {
                "host": "johnsmith.s3.amazonaws.com",
                "date": "Tue, 27 Mar 2007 19:36:42 +0000",
            },
            "/johnsmith",
            "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        ),
        (
            "PUT",
            b"/photos/puppy.jpg",
            b"",
            {
                "content-type": "image/jpeg",
                "content-length": "94328",
                "host": "johnsmith.s3.amazonaws.com",
                "date": "Tue, 27 Mar 2007 21:15:45 +0000",
            },
            "/johnsmith",
            "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
        ),
        (
            "GET",
            b"/",
            b"prefix=photos&max-keys=50&marker=puppy",
            {
                "user-agent": "Mozilla/5.0",
                "host": "johnsmith.s3.amazonaws.com",
                "date": "Tue, 27 Mar 2007 19:42:41 +0000",
            },
            "/johnsmith",
            "htDYFYduRNen8P9ZfE/s9SuKy0U=",
        ),
        (
            "GET",
            b"/",
            b"acl",
            {
                "host": "johnsmith.s3.amazonaws.com",
                "date": "Tue, 27 Mar 2007 19:44:46 +0000",
            },
            "/johnsmith",
            "c2WLPFtWHVgbEmeEG93a4cG37dM=",
        ),
        # The documentation's x-amz-date example signs its value on the Date line.
        (
            "DELETE",
            b"/johnsmith/photos/puppy.jpg",
            b"",
            {
                "user-agent": "dotnet",
                "host": "s3.amazonaws.com",
                "date": "Tue, 27 Mar 2007 21:20:27 +0000",
                "x-amz-date": "Tue, 27 Mar 2007 21:20:26 +0000",
            },
            "",
            "lx3byBScXR6KzyMaifNkardMwNk=",
        ),
    ],
)
def test_aws_examples(
    method: str,
    path: bytes,
    query: bytes,
    headers: dict[str, str],
    prefix: str,
    signature: str,
) -> None:
    pairs = (*headers.items(), ("authorization", f"AWS {EXAMPLE_KEY}:{signature}"))
    req = HttpRequest(method, path, query, pairs)
    auth = parse_sigv2(req)
    assert auth is not None
    when = email.utils.parsedate_to_datetime(
        headers.get("x-amz-date") or headers["date"]
    ).timestamp()
    verify_sigv2(req, auth, EXAMPLE_SECRET, when, resource_prefix=prefix)


def test_aws_upload_example_with_repeated_meta_headers() -> None:
    headers = (
        ("user-agent", "curl/7.15.5"),
        ("host", "static.johnsmith.net:8080"),
        ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
        ("x-amz-acl", "public-read"),
        ("content-type", "application/x-download"),
        ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
        ("x-amz-meta-reviewedby", "joe@johnsmith.net"),
        ("x-amz-meta-reviewedby", "jane@johnsmith.net"),
        ("x-amz-meta-filechecksum", "0x02661779"),
        ("x-amz-meta-checksumalgorithm", "crc32"),
        ("content-disposition", "attachment; filename=database.dat"),
        ("content-encoding", "gzip"),
        ("content-length", "5913339"),
        ("authorization", f"AWS {EXAMPLE_KEY}:ilyl83RwaSoYIEdixDQcA4OnAnc="),
    )
    req = HttpRequest("PUT", b"/db-backup.dat.gz", b"", headers)
    auth = parse_sigv2(req)
    assert auth is not None
    assert string_to_sign_v2(req, auth, "/static.johnsmith.net") == (
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n"
        "x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n"
        "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz"
    )
    verify_sigv2(
        req,
        auth,
        EXAMPLE_SECRET,
        calendar.timegm((2007, 3, 27, 21, 6, 8)),
        resource_prefix="/static.johnsmith.net",
    )


def test_aws_presigned_example() -> None:
    query = b"AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
    req = HttpRequest(
        "GET", b"/photos/puppy.jpg", query, (("host", "johnsmith.s3.amazonaws.com"),)
    )
    auth = parse_sigv2(req)
    assert auth is not None
    assert (
        string_to_sign_v2(req, auth, "/johnsmith")
        == "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"
    )
    verify_sigv2(req, auth, EXAMPLE_SECRET, 1175139620, resource_prefix="/johnsmith")


@settings(max_examples=60, deadline=None)
@given(
    bucket=buckets,
    sub=subs,
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    presign=st.booleans(),
    slash=st.booleans(),
)
def test_bucket_level_path_style_signs_either_spelling(
    bucket: str, sub: str | None, method: str, presign: bool, slash: bool
) -> None:
    """botocore (boto3, aws CLI v1) requests /bucket and signs /bucket/ for
    every bucket-level operation; others sign /bucket.  Both verify; a
    signature for another bucket does not."""
    when = calendar.timegm((2026, 3, 1, 12, 0, 0))
    signer = functools.partial(
        sign, method=method, host="localhost:9878", bucket=bucket, key=None,
        sub=sub, params=[], headers={}, body=b"", access_key="AK",
        secret="s3cr3t", when=when, presign=presign,
    )  # fmt: skip
    assert outcome(signer(auth_path=f"/{bucket}/" if slash else None)) is None
    other = signer(auth_path=f"/{bucket}x/")
    assert outcome(other) == "SignatureDoesNotMatch"
