"""AWS Signature Version 4 for S3, verified the way S3 verifies it.  Pure.

The signature is parsed in sigv4_parse.py; this module builds the canonical
request and string to sign, checks them, and signs streaming chunks and
trailers.

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

import functools
import hashlib
import hmac
import re
from urllib.parse import quote_from_bytes, unquote_to_bytes

import attrs

from .errors import S3Error
from .signed_request import (
    WS,
    HttpRequest,
    amz_timestamp,
    hex_bytes,
    iso8601,
    query_items,
)
from .sigv4_parse import (
    ALGORITHM,
    HEADER_MALFORMED,
    NO_DATE,
    QUERY_MALFORMED,
    SigV4Auth,
)

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_INNER_WS = re.compile(r"[ \t]+")


@attrs.frozen
class SigningContext:
    """What chunk and trailer signatures of a streaming body chain from."""

    key: bytes = attrs.field(repr=False)
    amz_date: str
    scope: str
    seed_signature: str


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
    value = value.strip(WS)
    if "  " not in value and "\t" not in value:
        return value  # nothing to collapse (nearly every value)
    return _INNER_WS.sub(" ", value)


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
    return hmac.digest(key, msg.encode("utf-8"), "sha256")


@functools.lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Derived once per (secret, day, region, service) and remembered: four
    HMACs per request otherwise.  Keyed by the secret itself, so a changed
    secret derives anew; a revoked one is refused before this (its lookup
    finds nothing)."""
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(key, region), service), "aws4_request")


# -- verification ---------------------------------------------------------------


def _check_times(auth: SigV4Auth, now: float, max_skew: float) -> None:
    when = amz_timestamp(auth.amz_date)
    if when is None:
        if auth.presigned:
            raise S3Error(QUERY_MALFORMED, "X-Amz-Date is not a valid date.")
        raise S3Error("AccessDenied", NO_DATE)
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
            QUERY_MALFORMED,
            "Error parsing the X-Amz-Credential parameter; ",
        )
    else:
        error, prefix = HEADER_MALFORMED, "The authorization header is malformed; "
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
    # hmac.digest: OpenSSL's one-shot HMAC, ~4x faster than hmac.new here.
    expected = hmac.digest(key, to_sign.encode("utf-8"), "sha256").hex()
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
    return hmac.digest(ctx.key, to_sign.encode("utf-8"), "sha256").hex()


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
    return hmac.digest(ctx.key, to_sign.encode("utf-8"), "sha256").hex()
