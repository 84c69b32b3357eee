"""AWS Signature Version 4 for S3, verified the way S3 verifies it.  Pure.

The canonical request is built as S3 builds it (and as every client traced in
client-quirks.md 4.1 signs it):

- the canonical URI is the raw path percent-*decoded* and re-encoded with the
  RFC 3986 unreserved set and ``/`` kept: S3 does not double-encode, so
  ``/b/a%20b``, ``/b/a+b`` (a literal plus), ``/b//x/`` and UTF-8 keys all
  come out as botocore signed them;
- the canonical query has every parameter (bar ``X-Amz-Signature`` when
  presigned) decoded with plain percent-decoding (``+`` stays ``+``: botocore
  sends a space as ``%20`` and a plus as ``%2B``), re-encoded, sorted by name
  then value, ``name=`` for valueless ones (``?uploads`` gives ``uploads=``);
- the canonical headers are exactly the SignedHeaders, in the order listed,
  every occurrence joined with ``,``, each value trimmed and its inner runs
  of spaces and tabs collapsed to one space; ``host`` as received, port and
  all.

Header values are text: the caller decodes the header bytes as ISO-8859-1,
which is what botocore and the JS SDK put on the wire for the (UTF-8 encoded,
when signing) text they signed.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from email.utils import mktime_tz, parsedate_tz
from urllib.parse import quote_from_bytes, unquote_to_bytes

import attrs

from .errors import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_EXPIRES = 7 * 24 * 3600  # X-Amz-Expires may be at most a week

# Query parameters that mark a presigned request of either version.
V4_QUERY_MARKERS = (b"X-Amz-Algorithm", b"X-Amz-Credential", b"X-Amz-Signature")
V2_QUERY_MARKERS = (b"AWSAccessKeyId", b"Signature")
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)

_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_DATE8 = re.compile(r"[0-9]{8}")
_HEADER_FIELD = re.compile(r"[\s,]*([A-Za-z]+)[ \t]*=[ \t]*([^\s,]*)")
_SEPARATORS = re.compile(r"[\s,]*")
_INNER_WS = re.compile(r"[ \t]+")
_WS = " \t\r\n\v\f"

_HEADER_MALFORMED = "AuthorizationHeaderMalformed"
_QUERY_MALFORMED = "AuthorizationQueryParametersError"
_CREDENTIAL_FORM = (
    'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/'
    'aws4_request".'
)
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"


@attrs.frozen
class HttpRequest:
    """A request as it arrived, before any decoding."""

    method: str  # "GET"
    raw_path: bytes  # exactly as sent, before "?", e.g. b"/bkt/a%20b"
    raw_query: bytes  # exactly as sent after "?", b"" if none
    # (lower-case name, value as received) for every header line, in order
    headers: tuple[tuple[str, str], ...]

    def header_values(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n == name:
                return v
        return None


@attrs.frozen
class Credential:
    access_key: str
    date: str  # YYYYMMDD
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@attrs.frozen
class SigV4Auth:
    credential: Credential
    signed_headers: tuple[str, ...]  # lower-case, in the order listed
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    presigned: bool
    expires: int | None  # X-Amz-Expires, presigned only


@attrs.frozen
class SigningContext:
    """What chunk and trailer signatures of a streaming body chain from."""

    key: bytes = attrs.field(repr=False)
    amz_date: str
    scope: str
    seed_signature: str


# -- small pure helpers shared with sigv2 ---------------------------------------


def query_items(raw_query: bytes) -> list[tuple[bytes, bytes | None]]:
    """Every ``name[=value]`` of a raw query, in order, percent-decoded (never
    ``+`` as space); the value is None when there is no ``=``."""
    items: list[tuple[bytes, bytes | None]] = []
    for part in raw_query.split(b"&"):
        if not part:
            continue
        name, eq, value = part.partition(b"=")
        items.append((unquote_to_bytes(name), unquote_to_bytes(value) if eq else None))
    return items


def text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


def amz_timestamp(amz_date: str) -> float | None:
    """Seconds since the epoch of a ``YYYYMMDDTHHMMSSZ`` string, None if bad."""
    if not _AMZ_DATE.fullmatch(amz_date):
        return None
    try:
        when = datetime.datetime(
            int(amz_date[0:4]),
            int(amz_date[4:6]),
            int(amz_date[6:8]),
            int(amz_date[9:11]),
            int(amz_date[11:13]),
            int(amz_date[13:15]),
            tzinfo=datetime.UTC,
        )
    except ValueError:
        return None
    return when.timestamp()


def http_timestamp(value: str) -> float | None:
    """Seconds since the epoch of an HTTP (RFC 1123 and kin) date, None if bad."""
    try:
        parsed = parsedate_tz(value.strip())
        return None if parsed is None else float(mktime_tz(parsed))
    except (ValueError, OverflowError, TypeError):
        return None


def iso8601(timestamp: float) -> str:
    when = datetime.datetime.fromtimestamp(int(timestamp), datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def hex_bytes(data: bytes) -> str:
    """The space-separated hex S3 reports StringToSignBytes in."""
    return " ".join(f"{b:02x}" for b in data)


def conflict_error(authorization: str) -> S3Error:
    return S3Error(
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
        "parameter, Signature query string parameter or the Authorization "
        "header should be specified",
        extra={"ArgumentName": "Authorization", "ArgumentValue": authorization},
    )


# -- parsing --------------------------------------------------------------------


def _credential(value: str, error: str, prefix: str) -> Credential:
    # <access key>/<date>/<region>/<service>/aws4_request, split from the right:
    # the access key may itself hold "/" and "@" (testuser/scm@EXAMPLE.COM).
    parts = value.rsplit("/", 4)
    if (
        len(parts) != 5
        or not parts[0]
        or not _DATE8.fullmatch(parts[1])
        or not parts[2]
        or not parts[3]
        or parts[4] != "aws4_request"
    ):
        raise S3Error(error, prefix + _CREDENTIAL_FORM)
    return Credential(parts[0], parts[1], parts[2], parts[3])


def _signed_headers(value: str, error: str, prefix: str) -> tuple[str, ...]:
    names = tuple(n.lower() for n in value.split(";"))
    if not value or any(not n or n.strip(_WS) != n for n in names):
        raise S3Error(error, prefix + "the SignedHeaders are mal-formed.")
    return names


def _header_amz_date(req: HttpRequest) -> str:
    value = req.header("x-amz-date")
    if value is not None:
        value = value.strip(_WS)
        if amz_timestamp(value) is None:
            raise S3Error("AccessDenied", _NO_DATE)
        return value
    date = req.header("date")
    when = None if date is None else http_timestamp(date)
    if when is None:
        raise S3Error("AccessDenied", _NO_DATE)
    # The string to sign carries the time in ISO 8601 basic form whichever
    # header supplied it (botocore signs a Date header exactly so).
    try:
        when_utc = datetime.datetime.fromtimestamp(int(when), datetime.UTC)
    except (ValueError, OverflowError, OSError):
        raise S3Error("AccessDenied", _NO_DATE) from None
    return when_utc.strftime("%Y%m%dT%H%M%SZ")


def _parse_header(req: HttpRequest, authorization: str) -> SigV4Auth:
    prefix = "The authorization header is malformed; "
    rest = authorization[len(ALGORITHM) :]
    fields: dict[str, str] = {}
    pos = 0
    if rest[:1] not in (" ", "\t"):
        raise S3Error(_HEADER_MALFORMED, prefix + "no fields after the algorithm.")
    while (m := _HEADER_FIELD.match(rest, pos)) is not None:
        name, value = m.group(1), m.group(2)
        if name not in ("Credential", "SignedHeaders", "Signature") or name in fields:
            raise S3Error(
                _HEADER_MALFORMED,
                f'{prefix}the authorization component "{name}" is malformed.',
            )
        fields[name] = value
        pos = m.end()
    tail = _SEPARATORS.match(rest, pos)
    if tail is None or tail.end() != len(rest) or len(fields) != 3:
        raise S3Error(
            _HEADER_MALFORMED,
            prefix + "it must hold Credential=, SignedHeaders= and Signature=.",
        )
    if not fields["Signature"]:
        raise S3Error(_HEADER_MALFORMED, prefix + "the Signature is empty.")
    return SigV4Auth(
        credential=_credential(fields["Credential"], _HEADER_MALFORMED, prefix),
        signed_headers=_signed_headers(
            fields["SignedHeaders"], _HEADER_MALFORMED, prefix
        ),
        signature=fields["Signature"],
        amz_date=_header_amz_date(req),
        presigned=False,
        expires=None,
    )


def _parse_query(items: list[tuple[bytes, bytes | None]]) -> SigV4Auth:
    params: dict[str, str] = {}
    for raw_name, raw_value in items:
        name = text(raw_name)
        if name in _PRESIGN_PARAMS:
            if name in params:
                raise S3Error(_QUERY_MALFORMED, f"{name} is given more than once.")
            params[name] = text(raw_value)
    if any(p not in params for p in _PRESIGN_PARAMS):
        raise S3Error(
            _QUERY_MALFORMED,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
            "and X-Amz-Expires parameters.",
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise S3Error(_QUERY_MALFORMED, f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    if amz_timestamp(params["X-Amz-Date"]) is None:
        raise S3Error(
            _QUERY_MALFORMED,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        )
    expires = params["X-Amz-Expires"]
    if not re.fullmatch(r"-?[0-9]{1,20}", expires):
        raise S3Error(_QUERY_MALFORMED, "X-Amz-Expires should be a number")
    seconds = int(expires)
    if seconds < 0:
        raise S3Error(_QUERY_MALFORMED, "X-Amz-Expires must be non-negative")
    if seconds == 0:
        raise S3Error(_QUERY_MALFORMED, "X-Amz-Expires must be at least 1 second")
    if seconds > MAX_EXPIRES:
        raise S3Error(
            _QUERY_MALFORMED,
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )
    if not params["X-Amz-Signature"]:
        raise S3Error(_QUERY_MALFORMED, "X-Amz-Signature is empty.")
    prefix = "Error parsing the X-Amz-Credential parameter; "
    return SigV4Auth(
        credential=_credential(params["X-Amz-Credential"], _QUERY_MALFORMED, prefix),
        signed_headers=_signed_headers(
            params["X-Amz-SignedHeaders"],
            _QUERY_MALFORMED,
            "Error parsing the X-Amz-SignedHeaders parameter; ",
        ),
        signature=params["X-Amz-Signature"],
        amz_date=params["X-Amz-Date"],
        presigned=True,
        expires=seconds,
    )


def parse_sigv4(req: HttpRequest) -> SigV4Auth | None:
    """The SigV4 signature a request carries, or None if it carries none.

    Raises AuthorizationHeaderMalformed / AuthorizationQueryParametersError for
    a malformed one, AccessDenied when header auth has no usable date, and
    InvalidArgument when it carries both an Authorization header and a
    presigned query.
    """
    auths = req.header_values("authorization")
    names = {name for name, _ in query_items(req.raw_query)}
    query_v4 = any(m in names for m in V4_QUERY_MARKERS)
    header_v4 = any(a.lstrip(_WS).startswith(ALGORITHM) for a in auths)
    if not (query_v4 or header_v4):
        return None
    if auths and (query_v4 or any(m in names for m in V2_QUERY_MARKERS)):
        raise conflict_error(auths[0])
    if header_v4:
        if len(auths) > 1:
            raise S3Error(_HEADER_MALFORMED, "More than one Authorization header.")
        return _parse_header(req, auths[0].strip(_WS))
    return _parse_query(query_items(req.raw_query))


# -- the canonical request -------------------------------------------------------


def canonical_uri(raw_path: bytes) -> str:
    return quote_from_bytes(unquote_to_bytes(raw_path), safe="/") or "/"


def canonical_query(raw_query: bytes, presigned: bool) -> str:
    pairs = sorted(
        (quote_from_bytes(name, safe=""), quote_from_bytes(value or b"", safe=""))
        for name, value in query_items(raw_query)
        if not (presigned and name == b"X-Amz-Signature")
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


def _trimall(value: str) -> str:
    return _INNER_WS.sub(" ", value.strip(_WS))


def canonical_request(req: HttpRequest, auth: SigV4Auth, payload_hash: str) -> str:
    lines = [
        req.method,
        canonical_uri(req.raw_path),
        canonical_query(req.raw_query, auth.presigned),
    ]
    for name in auth.signed_headers:
        values = ",".join(_trimall(v) for v in req.header_values(name))
        lines.append(f"{name}:{values}")
    lines += ["", ";".join(auth.signed_headers), payload_hash]
    return "\n".join(lines)


def string_to_sign(auth: SigV4Auth, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{auth.amz_date}\n{auth.credential.scope}\n{digest}"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(key, region), service), "aws4_request")


# -- verification ---------------------------------------------------------------


def _check_times(auth: SigV4Auth, now: float, max_skew: float) -> None:
    when = amz_timestamp(auth.amz_date)
    if when is None:
        if auth.presigned:
            raise S3Error(_QUERY_MALFORMED, "X-Amz-Date is not a valid date.")
        raise S3Error("AccessDenied", _NO_DATE)
    if auth.presigned:
        expires = auth.expires or 0
        if when - now > max_skew:
            raise S3Error(
                "AccessDenied",
                "Request is not yet valid",
                extra={
                    # S3 really reports this one in epoch milliseconds.
                    "X-Amz-Date": str(int(when) * 1000),
                    "Expires": iso8601(when + expires),
                    "ServerTime": iso8601(now),
                },
            )
        if now > when + expires:
            raise S3Error(
                "AccessDenied",
                "Request has expired",
                extra={
                    "X-Amz-Expires": str(expires),
                    "Expires": iso8601(when + expires),
                    "ServerTime": iso8601(now),
                },
            )
    elif abs(now - when) > max_skew:
        raise S3Error(
            "RequestTimeTooSkewed",
            extra={
                "RequestTime": auth.amz_date,
                "ServerTime": iso8601(now),
                "MaxAllowedSkewMilliseconds": str(int(max_skew * 1000)),
            },
        )


def _check_headers(req: HttpRequest, auth: SigV4Auth) -> None:
    signed = set(auth.signed_headers)
    present = {name for name, _ in req.headers}
    # S3 requires host and every x-amz-* header sent to be signed, and answers
    # AccessDenied with HeadersNotSigned when one is not (for presigned URLs
    # too: an unsigned x-amz-copy-source must not ride on a presigned PUT).
    # The one exception is x-amz-content-sha256 on a presigned URL, which was
    # signed without knowing the body: Ozone (and its acceptance suite's curl
    # PUTs) send it there, and the body is then checked against it.
    must_sign = {n for n in present if n.startswith("x-amz-")} | {"host"}
    if auth.presigned:
        must_sign.discard("x-amz-content-sha256")
    unsigned = sorted(must_sign - signed)
    if unsigned:
        raise S3Error(
            "AccessDenied",
            "There were headers present in the request which were not signed",
            extra={"HeadersNotSigned": ", ".join(unsigned)},
        )
    missing = [n for n in auth.signed_headers if n not in present]
    if missing:
        raise S3Error(
            "AccessDenied",
            "There were headers listed in SignedHeaders which are not present "
            "in the request",
            extra={"HeadersNotPresent": ", ".join(missing)},
        )


def _payload_hash(req: HttpRequest, auth: SigV4Auth) -> str:
    values = req.header_values("x-amz-content-sha256")
    if len(values) > 1:
        raise S3Error(
            "InvalidArgument",
            "More than one x-amz-content-sha256 header.",
            extra={"ArgumentName": "x-amz-content-sha256"},
        )
    if auth.presigned and "x-amz-content-sha256" not in auth.signed_headers:
        return UNSIGNED_PAYLOAD  # the URL's signature cannot cover the body
    if values:
        return values[0]
    # What S3 answers (400 InvalidRequest, not MissingSecurityHeader) when
    # header auth comes without the header; curl --aws-sigv4 meets this.
    raise S3Error(
        "InvalidRequest",
        "Missing required header for this request: x-amz-content-sha256",
    )


def verify_sigv4(
    req: HttpRequest,
    auth: SigV4Auth,
    secret: str,
    now: float,
    max_skew: float = 900.0,
) -> SigningContext:
    """Check ``auth`` against ``req`` as S3 does, with the secret of its access
    key; raise S3Error if it fails.  The region is whatever the scope names
    (s3cmd signs with "US"); the service must be s3."""
    cred = auth.credential
    if auth.presigned:
        error, prefix = (
            _QUERY_MALFORMED,
            "Error parsing the X-Amz-Credential parameter; ",
        )
    else:
        error, prefix = _HEADER_MALFORMED, "The authorization header is malformed; "
    if cred.service != "s3":
        raise S3Error(
            error,
            f'{prefix}incorrect service "{cred.service}". This endpoint belongs '
            'to "s3".',
        )
    if cred.date != auth.amz_date[:8]:
        raise S3Error(
            error,
            prefix + "Invalid credential date. Date is not the same as X-Amz-Date.",
        )
    _check_times(auth, now, max_skew)
    _check_headers(req, auth)
    canonical = canonical_request(req, auth, _payload_hash(req, auth))
    to_sign = string_to_sign(auth, canonical)
    key = signing_key(secret, cred.date, cred.region, cred.service)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(
        expected.encode("ascii"), auth.signature.encode("utf-8", "replace")
    ):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you "
            "provided. Check your key and signing method.",
            extra={
                "AWSAccessKeyId": cred.access_key,
                "StringToSign": to_sign,
                "SignatureProvided": auth.signature,
                "StringToSignBytes": hex_bytes(to_sign.encode("utf-8")),
                "CanonicalRequest": canonical,
                "CanonicalRequestBytes": hex_bytes(canonical.encode("utf-8")),
            },
        )
    return SigningContext(key, auth.amz_date, cred.scope, expected)


# -- streaming bodies ------------------------------------------------------------


def chunk_signature(ctx: SigningContext, previous: str, chunk_sha256_hex: str) -> str:
    """The signature of one STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunk (the final
    empty chunk included), chained from ``previous`` (the seed signature for
    the first chunk)."""
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            ctx.amz_date,
            ctx.scope,
            previous,
            EMPTY_SHA256,
            chunk_sha256_hex,
        ]
    )
    return hmac.new(ctx.key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def trailer_signature(ctx: SigningContext, previous: str, trailer_lines: bytes) -> str:
    """The ``x-amz-trailer-signature`` of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-
    TRAILER body; ``previous`` is the signature of the final empty chunk.

    ``trailer_lines`` are the trailing headers as the SDKs sign them (the AWS
    SDKs for Java v2, C++ and JavaScript via aws-c-auth, and the AWS
    documentation's example): every trailer but x-amz-trailer-signature,
    each as ``lower-case-name + ":" + value + "\\n"`` -- LF, not the CRLF
    they travel with -- in the order sent, e.g.
    ``b"x-amz-checksum-crc32c:sOO8/Q==\\n"``.  (botocore itself never signs
    trailers: it sends STREAMING-UNSIGNED-PAYLOAD-TRAILER.)
    """
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-TRAILER",
            ctx.amz_date,
            ctx.scope,
            previous,
            hashlib.sha256(trailer_lines).hexdigest(),
        ]
    )
    return hmac.new(ctx.key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
