"""SigV4 verification against botocore's own signers, and the AWS vectors."""

from __future__ import annotations

import base64
import calendar
import datetime
import hashlib
import random
import string
from unittest import mock
from urllib.parse import unquote_to_bytes

import attrs
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, _host_from_url
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.s3.errors import S3Error
from ozs3.s3.signed_request import HttpRequest, query_items
from ozs3.s3.sigv4 import (
    EMPTY_SHA256,
    SigningContext,
    canonical_request,
    chunk_signature,
    signing_key,
    string_to_sign,
    trailer_signature,
    verify_sigv4,
)
from ozs3.s3.sigv4_parse import SigV4Auth, parse_sigv4

AUTH_CODES = {
    "AccessDenied",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "InvalidArgument",
    "InvalidRequest",
    "RequestTimeTooSkewed",
    "SignatureDoesNotMatch",
}
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"
T2013 = calendar.timegm((2013, 5, 24, 0, 0, 0))


# -- turning botocore's requests into what arrives on the wire -------------------


def wire(prepared: AWSPreparedRequest) -> HttpRequest:
    """The request as a server sees it: path and query exactly as in the URL,
    header names lower-cased, Host added as http.client adds it."""
    rest = prepared.url.split("://", 1)[1]
    path, _, query = rest[rest.index("/") :].partition("?")
    headers = [(k.lower(), str(v).strip(" \t")) for k, v in prepared.headers.items()]
    if not any(k == "host" for k, _ in headers):
        headers.insert(0, ("host", _host_from_url(prepared.url)))
    return HttpRequest(
        prepared.method, path.encode("ascii"), query.encode("ascii"), tuple(headers)
    )


def s3_url(
    host: str,
    bucket: str,
    key: str | None,
    sub: str | None,
    params: list[tuple[str, str]],
) -> str:
    """The URL botocore's serializer builds (path-style)."""
    url = f"http://{host}/{percent_encode(bucket)}"
    if key is not None:
        url += "/" + percent_encode(key, safe="/~")
    query = [sub] if sub else []
    if params:
        query.append(percent_encode_sequence(params))
    return url + ("?" + "&".join(query) if query else "")


def sign(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    access_key: str,
    secret: str,
    region: str,
    when: datetime.datetime,
    presign: bool,
    expires: int = 3600,
) -> HttpRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    creds = Credentials(access_key, secret)
    signer = (
        S3SigV4QueryAuth(creds, "s3", region, expires=expires)
        if presign
        else S3SigV4Auth(creds, "s3", region)
    )
    naive = when.astimezone(datetime.UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
        signer.add_auth(request)
    return wire(request.prepare())


def outcome(req: HttpRequest, secret: str, now: float) -> str | None:
    """None when the request verifies, else the error code (or "anonymous")."""
    try:
        auth = parse_sigv4(req)
        if auth is None:
            return "anonymous"
        verify_sigv4(req, auth, secret, now)
    except S3Error as e:
        return e.code
    return None


def verified(req: HttpRequest, secret: str, now: float) -> SigningContext:
    auth = parse_sigv4(req)
    assert auth is not None
    return verify_sigv4(req, auth, secret, now)


# -- strategies ----------------------------------------------------------------

KEY_CHARS = string.ascii_letters + string.digits + "/ +%~*'()!$&=?#;:@,-_.éü日本\u00a0"
VALUE_CHARS = string.ascii_letters + string.digits + " /+%~*'()!$&=?#;:@,-_.éü日"
HEADER_CHARS = (
    string.ascii_letters + string.digits + " \t/+%~*'()!$&=?#;:@,-_.\"<>[]{}éü"
)
ACCESS_KEY_CHARS = string.ascii_letters + string.digits + "/@._-+="

buckets = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,10}[a-z0-9]", fullmatch=True)
keys = st.one_of(
    st.none(),
    st.text(KEY_CHARS, min_size=1, max_size=24),
    st.sampled_from(["a//b", "dir/", "/lead", "a b+c%d", "ü/日本/", "~*'", "x/../y"]),
)
subresources = st.sampled_from(
    [None, "uploads", "acl", "tagging", "delete", "versioning"]
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
                "list-type",
                "continuation-token",
                "response-content-type",
            ]
        ),
        st.text(VALUE_CHARS, max_size=12),
    ),
    max_size=4,
    unique_by=lambda kv: kv[0],
)
hosts = st.sampled_from(
    ["localhost:9878", "s3.example.com", "127.0.0.1:9000", "[::1]:9878", "s3.local:80"]
)
regions = st.sampled_from(["us-east-1", "US", "eu-west-3", "ozone", "ap-southeast-2"])
access_keys = st.one_of(
    st.text(ACCESS_KEY_CHARS, min_size=1, max_size=30).filter(lambda s: s.strip("/")),
    st.just("testuser/scm@EXAMPLE.COM"),
)
secrets = st.text(string.printable.strip() + " ", min_size=1, max_size=40)
times = st.integers(
    min_value=calendar.timegm((2015, 1, 1, 0, 0, 0)),
    max_value=calendar.timegm((2037, 12, 31, 23, 59, 59)),
).map(lambda t: datetime.datetime.fromtimestamp(t, datetime.UTC))


@st.composite
def header_sets(draw: st.DrawFn, body: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name in draw(
        st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3, unique=True)
    ):
        headers[f"x-amz-meta-{name}"] = draw(
            st.text(HEADER_CHARS, min_size=1, max_size=16)
        )
    if draw(st.booleans()):
        headers["Content-Type"] = draw(
            st.sampled_from(
                ["text/plain", "application/octet-stream", "text/html; charset=utf-8"]
            )
        )
    if draw(st.booleans()):
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    if draw(st.booleans()):
        headers["x-amz-storage-class"] = "REDUCED_REDUNDANCY"
    return headers


@st.composite
def signed_requests(
    draw: st.DrawFn, presign: bool | None = None
) -> tuple[HttpRequest, float, str]:
    method = draw(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]))
    if presign is None:
        presign = draw(st.booleans())
    # A presigned URL carries no payload hash (botocore would move a body
    # into the query string).
    body = (
        draw(st.binary(max_size=64))
        if method in ("PUT", "POST") and not presign
        else b""
    )
    headers = draw(header_sets(body))
    if not presign and draw(st.integers(0, 4)) == 0:
        headers["Date"] = "placeholder"  # botocore then signs a Date header
    when = draw(times)
    secret = draw(secrets)
    req = sign(
        method=method,
        url=s3_url(
            draw(hosts), draw(buckets), draw(keys), draw(subresources), draw(params)
        ),
        headers=headers,
        body=body,
        access_key=draw(access_keys),
        secret=secret,
        region=draw(regions),
        when=when,
        presign=presign,
        expires=draw(st.integers(1, 604800)),
    )
    return req, when.timestamp(), secret


# -- every botocore-signed request verifies -------------------------------------


@settings(max_examples=150)
@given(signed_requests())
def test_botocore_signed_requests_verify(
    signed: tuple[HttpRequest, float, str],
) -> None:
    req, now, secret = signed
    ctx = verified(req, secret, now)
    auth = parse_sigv4(req)
    assert auth is not None
    assert ctx.seed_signature == auth.signature
    assert ctx.scope == auth.credential.scope
    assert ctx.amz_date == auth.amz_date


@settings(max_examples=60)
@given(signed_requests(), secrets.map(lambda s: "held#" + s))
def test_wrong_secret_fails_without_leaking_it(
    signed: tuple[HttpRequest, float, str], other: str
) -> None:
    req, now, secret = signed
    if other == secret:
        return
    with pytest.raises(S3Error) as err:
        verified(req, other, now)
    e = err.value
    assert e.code == "SignatureDoesNotMatch"
    assert e.status == 403
    auth = parse_sigv4(req)
    assert auth is not None
    assert e.extra["AWSAccessKeyId"] == auth.credential.access_key
    assert e.extra["SignatureProvided"] == auth.signature
    sts = e.extra["StringToSign"]
    assert sts.startswith("AWS4-HMAC-SHA256\n" + auth.amz_date + "\n")
    assert bytes.fromhex(e.extra["StringToSignBytes"].replace(" ", "")) == sts.encode()
    canonical = e.extra["CanonicalRequest"]
    assert (
        bytes.fromhex(e.extra["CanonicalRequestBytes"].replace(" ", ""))
        == canonical.encode()
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == sts.rsplit("\n", 1)[1]
    # The secret the server holds never appears in what it answers.
    assert other not in str(e)
    assert all(other not in v for v in e.extra.values())


# -- any single-byte mutation fails ---------------------------------------------

PATH_POOL = string.ascii_letters + string.digits + "%/+=&?~*' .-_"
HEADER_POOL = string.ascii_letters + string.digits + " %/+=;:,.-_"


def _replace(s: str, i: int, rnd: random.Random, pool: str) -> str:
    choices = [c for c in pool if c != s[i]]
    return s[:i] + rnd.choice(choices) + s[i + 1 :]


def _params(raw: bytes) -> list[tuple[bytes, bytes]]:
    """What a query means to S3: decoded pairs, "a" the same as "a=", empty
    segments ("&&") nothing."""
    return [(n, v or b"") for n, v in query_items(raw)]


def mutations(req: HttpRequest, rnd: random.Random) -> list[HttpRequest]:
    out = []
    for i in range(len(req.method)):
        m = _replace(req.method, i, rnd, string.ascii_letters)
        out.append(HttpRequest(m, req.raw_path, req.raw_query, req.headers))
    path = req.raw_path.decode("ascii")
    for i in range(len(path)):
        p = _replace(path, i, rnd, PATH_POOL)
        if unquote_to_bytes(p) != unquote_to_bytes(path):  # %2F vs %2f is the same path
            out.append(HttpRequest(req.method, p.encode(), req.raw_query, req.headers))
    query = req.raw_query.decode("ascii")
    for i in range(len(query)):
        q = _replace(query, i, rnd, PATH_POOL)
        if _params(q.encode()) != _params(req.raw_query):
            out.append(HttpRequest(req.method, req.raw_path, q.encode(), req.headers))
    auth = parse_sigv4(req)
    assert auth is not None
    for h, (name, value) in enumerate(req.headers):
        if name not in auth.signed_headers:
            continue
        for i in range(len(value)):
            v = _replace(value, i, rnd, HEADER_POOL)
            if value[i] in " \t" and v[i] in " \t":
                continue  # a space for a tab: the same header to S3
            headers = (*req.headers[:h], (name, v), *req.headers[h + 1 :])
            out.append(HttpRequest(req.method, req.raw_path, req.raw_query, headers))
    return out


@settings(max_examples=40)
@given(signed_requests(), st.randoms(use_true_random=False))
def test_any_single_byte_mutation_fails(
    signed: tuple[HttpRequest, float, str], rnd: random.Random
) -> None:
    req, now, secret = signed
    assert outcome(req, secret, now) is None
    auth = parse_sigv4(req)
    assert auth is not None
    if not auth.presigned:
        assert {"x-amz-date", "x-amz-content-sha256"} & set(auth.signed_headers)
    for mutated in mutations(req, rnd):
        code = outcome(mutated, secret, now)
        assert code in AUTH_CODES | {"anonymous"}, (mutated, code)


WHEN = datetime.datetime(2024, 6, 1, 12, 0, 0, tzinfo=datetime.UTC)
NOW = WHEN.timestamp()


def _simple(
    presign: bool,
    expires: int = 3600,
    region: str = "us-east-1",
    key: str = "AK",
    method: str = "GET",
    body: bytes = b"",
) -> HttpRequest:
    return sign(
        method=method,
        url="http://localhost:9878/bkt/a%20b",
        headers={},
        body=body,
        access_key=key,
        secret="secret",
        region=region,
        when=WHEN,
        presign=presign,
        expires=expires,
    )


def test_payload_hash_mutation_fails() -> None:
    req = _simple(False, method="PUT", body=b"hello")
    sha = hashlib.sha256(b"hello").hexdigest()
    assert dict(req.headers)["x-amz-content-sha256"] == sha
    for i in range(64):
        bad = sha[:i] + ("0" if sha[i] != "0" else "1") + sha[i + 1 :]
        headers = tuple(
            (n, bad if n == "x-amz-content-sha256" else v) for n, v in req.headers
        )
        mutated = attrs.evolve(req, headers=headers)
        assert outcome(mutated, "secret", NOW) == "SignatureDoesNotMatch"


# -- times ----------------------------------------------------------------------


def test_skew_beyond_fifteen_minutes_is_too_skewed() -> None:
    req = _simple(False)
    verified(req, "secret", NOW + 900)
    verified(req, "secret", NOW - 900)
    for now in (NOW + 901, NOW - 901):
        with pytest.raises(S3Error) as err:
            verified(req, "secret", now)
        assert err.value.code == "RequestTimeTooSkewed"
        assert err.value.status == 403
        assert err.value.extra["RequestTime"] == "20240601T120000Z"
        assert err.value.extra["MaxAllowedSkewMilliseconds"] == "900000"
        assert err.value.extra["ServerTime"].endswith("Z")


def test_presigned_url_expires() -> None:
    req = _simple(True, expires=60)
    verified(req, "secret", NOW + 60)
    verified(req, "secret", NOW + 30)
    with pytest.raises(S3Error) as err:
        verified(req, "secret", NOW + 61)
    assert err.value.code == "AccessDenied"
    assert "expired" in err.value.message
    assert err.value.extra["X-Amz-Expires"] == "60"
    assert err.value.extra["Expires"] == "2024-06-01T12:01:00Z"
    assert err.value.extra["ServerTime"] == "2024-06-01T12:01:01Z"


def test_presigned_url_old_but_unexpired_is_not_skewed() -> None:
    req = _simple(True, expires=604800)
    verified(req, "secret", NOW + 6 * 86400)


def test_presigned_url_from_the_future_is_not_yet_valid() -> None:
    req = _simple(True)
    verified(req, "secret", NOW - 900)
    with pytest.raises(S3Error) as err:
        verified(req, "secret", NOW - 901)
    assert err.value.code == "AccessDenied"
    assert err.value.message == "Request is not yet valid"


@pytest.mark.parametrize("expires", ["0", "604801", "-5", "soon", ""])
def test_presigned_expires_out_of_range(expires: str) -> None:
    req = _simple(True)
    query = req.raw_query.replace(
        b"X-Amz-Expires=3600", b"X-Amz-Expires=" + expires.encode()
    )
    with pytest.raises(S3Error) as err:
        parse_sigv4(HttpRequest("GET", req.raw_path, query, req.headers))
    assert err.value.code == "AuthorizationQueryParametersError"
    assert err.value.status == 400


def test_signature_uses_region_of_the_scope() -> None:
    req = _simple(False, region="US")
    auth = parse_sigv4(req)
    assert auth is not None and auth.credential.region == "US"
    assert verified(req, "secret", NOW).scope == "20240601/US/s3/aws4_request"


def test_credential_date_must_match_request_date() -> None:
    for presign, code in (
        (False, "AuthorizationHeaderMalformed"),
        (True, "AuthorizationQueryParametersError"),
    ):
        req = _simple(presign)
        auth = parse_sigv4(req)
        assert auth is not None
        other = attrs.evolve(
            auth, credential=attrs.evolve(auth.credential, date="20240602")
        )
        with pytest.raises(S3Error) as err:
            verify_sigv4(req, other, "secret", NOW)
        assert err.value.code == code


# -- parsing ----------------------------------------------------------------------


def _header_req(authorization: str, **extra: str) -> HttpRequest:
    headers = {
        "host": "localhost",
        "x-amz-date": "20240601T120000Z",
        "x-amz-content-sha256": EMPTY_SHA256,
        "authorization": authorization,
        **extra,
    }
    return HttpRequest("GET", b"/", b"", tuple(headers.items()))


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 Credential=testuser/scm@EXAMPLE.COM/20240601/US/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        "AWS4-HMAC-SHA256 Credential=testuser/scm@EXAMPLE.COM/20240601/US/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=abc",
        "AWS4-HMAC-SHA256  Credential=testuser/scm@EXAMPLE.COM/20240601/US/s3/aws4_request ,  SignedHeaders=host;x-amz-date ,Signature=abc ",
        "AWS4-HMAC-SHA256 Credential = testuser/scm@EXAMPLE.COM/20240601/US/s3/aws4_request SignedHeaders=Host;X-Amz-Date Signature=abc",
    ],
)
def test_parse_header_variants(authorization: str) -> None:
    auth = parse_sigv4(_header_req(authorization))
    assert auth is not None
    assert auth.credential.access_key == "testuser/scm@EXAMPLE.COM"
    assert auth.credential.date == "20240601"
    assert auth.credential.region == "US"
    assert auth.credential.service == "s3"
    assert auth.signed_headers == ("host", "x-amz-date")
    assert auth.signature == "abc"
    assert auth.amz_date == "20240601T120000Z"
    assert not auth.presigned and auth.expires is None


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=",
        "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AK/2024061/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AK/20240601//s3/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host;;x, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab, Extra=1",
        "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab junk",
        "AWS4-HMAC-SHA256X Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
    ],
)
def test_parse_malformed_header(authorization: str) -> None:
    with pytest.raises(S3Error) as err:
        parse_sigv4(_header_req(authorization))
    assert err.value.code == "AuthorizationHeaderMalformed"
    assert err.value.status == 400


def test_parse_none_without_sigv4() -> None:
    assert parse_sigv4(HttpRequest("GET", b"/", b"prefix=a", (("host", "h"),))) is None
    assert parse_sigv4(_header_req("AWS AK:c2ln")) is None
    v2_query = b"AWSAccessKeyId=AK&Signature=x&Expires=1"
    assert parse_sigv4(HttpRequest("GET", b"/", v2_query, (("host", "h"),))) is None


def test_header_auth_needs_a_date() -> None:
    auth = "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab"
    req = HttpRequest("GET", b"/", b"", (("host", "h"), ("authorization", auth)))
    with pytest.raises(S3Error) as err:
        parse_sigv4(req)
    assert err.value.code == "AccessDenied"
    assert "Date or x-amz-date" in err.value.message
    with pytest.raises(S3Error) as err:
        parse_sigv4(_header_req(auth, **{"x-amz-date": "2024-06-01T12:00:00Z"}))
    assert err.value.code == "AccessDenied"
    dated = HttpRequest(
        "GET",
        b"/",
        b"",
        (
            ("host", "h"),
            ("date", "Sat, 01 Jun 2024 12:00:00 GMT"),
            ("authorization", auth),
        ),
    )
    parsed = parse_sigv4(dated)
    assert parsed is not None and parsed.amz_date == "20240601T120000Z"


def test_both_mechanisms_is_invalid_argument() -> None:
    req = _simple(True)
    both = HttpRequest(
        "GET",
        req.raw_path,
        req.raw_query,
        (*req.headers, ("authorization", "AWS AK:sig")),
    )
    with pytest.raises(S3Error) as err:
        parse_sigv4(both)
    assert err.value.code == "InvalidArgument"


def test_presigned_parse() -> None:
    req = _simple(True, key="testuser/scm@EXAMPLE.COM")
    auth = parse_sigv4(req)
    assert auth is not None
    assert auth.presigned and auth.expires == 3600
    assert auth.credential.access_key == "testuser/scm@EXAMPLE.COM"
    assert auth.signed_headers == ("host",)
    for name in (
        b"X-Amz-Algorithm",
        b"X-Amz-Date",
        b"X-Amz-SignedHeaders",
        b"X-Amz-Expires",
    ):
        query = b"&".join(
            p for p in req.raw_query.split(b"&") if not p.startswith(name + b"=")
        )
        with pytest.raises(S3Error) as err:
            parse_sigv4(HttpRequest("GET", req.raw_path, query, req.headers))
        assert err.value.code == "AuthorizationQueryParametersError"
    bad_alg = req.raw_query.replace(b"AWS4-HMAC-SHA256", b"AWS4-HMAC-SHA512")
    with pytest.raises(S3Error) as err:
        parse_sigv4(HttpRequest("GET", req.raw_path, bad_alg, req.headers))
    assert err.value.code == "AuthorizationQueryParametersError"


# -- header rules ------------------------------------------------------------------


def test_host_and_x_amz_headers_must_be_signed() -> None:
    req = _simple(False)
    auth = parse_sigv4(req)
    assert auth is not None
    smuggled = HttpRequest(
        req.method,
        req.raw_path,
        req.raw_query,
        (*req.headers, ("x-amz-copy-source", "/other/key")),
    )
    with pytest.raises(S3Error) as err:
        verify_sigv4(smuggled, auth, "secret", NOW)
    assert err.value.code == "AccessDenied"
    assert err.value.extra["HeadersNotSigned"] == "x-amz-copy-source"
    presigned = _simple(True)
    pauth = parse_sigv4(presigned)
    assert pauth is not None
    smuggled = HttpRequest(
        "GET",
        presigned.raw_path,
        presigned.raw_query,
        (*presigned.headers, ("x-amz-meta-a", "b")),
    )
    with pytest.raises(S3Error) as err:
        verify_sigv4(smuggled, pauth, "secret", NOW)
    assert err.value.extra["HeadersNotSigned"] == "x-amz-meta-a"
    no_host = attrs.evolve(auth, signed_headers=auth.signed_headers[1:])
    assert "host" not in no_host.signed_headers
    with pytest.raises(S3Error) as err:
        verify_sigv4(req, no_host, "secret", NOW)
    assert err.value.code == "AccessDenied"
    assert err.value.extra["HeadersNotSigned"] == "host"


@settings(max_examples=50, deadline=None)
@given(
    value=st.one_of(
        st.binary(min_size=32, max_size=32).map(
            lambda b: hashlib.sha256(b).hexdigest()
        ),
        st.sampled_from(["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]),
    ),
    method=st.sampled_from(["GET", "PUT"]),
)
def test_presigned_url_accepts_unsigned_content_sha256(value: str, method: str) -> None:
    """A presigned URL with an x-amz-content-sha256 header it did not sign
    (Ozone's acceptance suite sends one with curl) verifies: the URL's
    signature covers UNSIGNED-PAYLOAD; the gateway checks the body against
    the header.  Any other unsigned x-amz-* header still fails."""
    presigned = _simple(True, method=method)
    auth = parse_sigv4(presigned)
    assert auth is not None and "x-amz-content-sha256" not in auth.signed_headers
    with_sha = attrs.evolve(
        presigned, headers=(*presigned.headers, ("x-amz-content-sha256", value))
    )
    verify_sigv4(with_sha, auth, "secret", NOW)
    also = attrs.evolve(with_sha, headers=(*with_sha.headers, ("x-amz-meta-a", "b")))
    with pytest.raises(S3Error) as err:
        verify_sigv4(also, auth, "secret", NOW)
    assert err.value.extra["HeadersNotSigned"] == "x-amz-meta-a"
    # Header auth still must sign it.
    req = _simple(False, method=method)
    hauth = parse_sigv4(req)
    assert hauth is not None
    unsigned = attrs.evolve(
        hauth,
        signed_headers=tuple(
            h for h in hauth.signed_headers if h != "x-amz-content-sha256"
        ),
    )
    with pytest.raises(S3Error) as err:
        verify_sigv4(req, unsigned, "secret", NOW)
    assert err.value.extra["HeadersNotSigned"] == "x-amz-content-sha256"


def test_signed_header_must_be_present() -> None:
    req = _simple(False)
    auth = parse_sigv4(req)
    assert auth is not None
    headers = tuple((n, v) for n, v in req.headers if n != "host")
    with pytest.raises(S3Error) as err:
        verify_sigv4(
            HttpRequest("GET", req.raw_path, req.raw_query, headers),
            auth,
            "secret",
            NOW,
        )
    assert err.value.code == "AccessDenied"


def test_header_auth_requires_content_sha256() -> None:
    req = _simple(False)
    auth = parse_sigv4(req)
    assert auth is not None
    signed = tuple(h for h in auth.signed_headers if h != "x-amz-content-sha256")
    auth = attrs.evolve(auth, signed_headers=signed)
    headers = tuple((n, v) for n, v in req.headers if n != "x-amz-content-sha256")
    with pytest.raises(S3Error) as err:
        verify_sigv4(
            HttpRequest("GET", req.raw_path, req.raw_query, headers),
            auth,
            "secret",
            NOW,
        )
    assert err.value.code == "InvalidRequest"
    assert "x-amz-content-sha256" in err.value.message


def test_canonical_headers_trim_and_join_repeats() -> None:
    auth = SigV4Auth(
        parse_sigv4(_simple(False)).credential,  # type: ignore[union-attr]
        ("host", "x-amz-meta-a"),
        "sig",
        "20240601T120000Z",
        False,
        None,
    )
    req = HttpRequest(
        "PUT",
        b"/b/%7Ea%2fb%2B c",
        b"b=2&a&a=1&%41=%7e",
        (
            ("host", "h:8080"),
            ("x-amz-meta-a", "  one   two\t\tthree "),
            ("x-amz-meta-a", "four"),
        ),
    )
    assert canonical_request(req, auth, "UNSIGNED-PAYLOAD") == (
        "PUT\n/b/~a/b%2B%20c\nA=~&a=&a=1&b=2\n"
        "host:h:8080\nx-amz-meta-a:one two three,four\n\n"
        "host;x-amz-meta-a\nUNSIGNED-PAYLOAD"
    )


# -- AWS documentation vectors -------------------------------------------------------


def test_aws_get_object_example() -> None:
    req = _header_req(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        host="examplebucket.s3.amazonaws.com",
        range="bytes=0-9",
        **{"x-amz-date": "20130524T000000Z"},
    )
    req = HttpRequest("GET", b"/test.txt", b"", req.headers)
    auth = parse_sigv4(req)
    assert auth is not None
    assert string_to_sign(auth, canonical_request(req, auth, EMPTY_SHA256)) == (
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    )
    verify_sigv4(req, auth, EXAMPLE_SECRET, T2013)


def test_aws_presigned_example() -> None:
    query = (
        b"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
        b"us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
        b"&X-Amz-SignedHeaders=host"
        b"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    req = HttpRequest(
        "GET", b"/test.txt", query, (("host", "examplebucket.s3.amazonaws.com"),)
    )
    verified(req, EXAMPLE_SECRET, T2013 + 86400)


def test_aws_streaming_seed_and_chunk_chain() -> None:
    headers = (
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        ),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    )
    ctx = verified(
        HttpRequest("PUT", b"/examplebucket/chunkObject.txt", b"", headers),
        EXAMPLE_SECRET,
        T2013,
    )
    assert (
        ctx.seed_signature
        == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    )
    assert ctx.key == signing_key(EXAMPLE_SECRET, "20130524", "us-east-1", "s3")
    previous = ctx.seed_signature
    expected = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]
    for chunk, want in zip([b"a" * 65536, b"a" * 1024, b""], expected, strict=True):
        previous = chunk_signature(ctx, previous, hashlib.sha256(chunk).hexdigest())
        assert previous == want


def test_aws_streaming_trailer_example() -> None:
    key = signing_key(EXAMPLE_SECRET, "20130524", "us-east-1", "s3")
    ctx = SigningContext(
        key,
        "20130524T000000Z",
        "20130524/us-east-1/s3/aws4_request",
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
    )
    previous = ctx.seed_signature
    for chunk in (b"a" * 65536, b"a" * 1024, b""):
        previous = chunk_signature(ctx, previous, hashlib.sha256(chunk).hexdigest())
    assert (
        previous == "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"
    )
    assert trailer_signature(ctx, previous, b"x-amz-checksum-crc32c:sOO8/Q==\n") == (
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
    )


@given(st.lists(st.tuples(st.sampled_from(["host", "x-amz-date", "a", "b"]),
                          st.text(max_size=4)), max_size=8))  # fmt: skip
def test_request_headers_read_as_a_plain_scan_would(pairs) -> None:
    """HttpRequest's name -> values table (made once) answers as reading the
    header lines in order does: every value of a repeated header, in order."""
    req = HttpRequest("GET", b"/", b"", tuple(pairs))
    for name in ("host", "x-amz-date", "a", "b", "c"):
        values = [v for n, v in pairs if n == name]
        assert req.header_values(name) == values
        assert req.header(name) == (values[0] if values else None)
    req.header_values("a").append("x")  # a copy: the request is unchanged
    assert req.header_values("a") == [v for n, v in pairs if n == "a"]
