"""A request's SigV4 signature (an Authorization header or a presigned
query), parsed into a ``SigV4Auth`` the way S3 parses it, with S3's errors
for a malformed one.  Pure; sigv4.py verifies it."""

from __future__ import annotations

import datetime
import re

import attrs

from .errors import S3Error
from .signed_request import (
    V2_QUERY_MARKERS,
    V4_QUERY_MARKERS,
    WS,
    HttpRequest,
    amz_timestamp,
    conflict_error,
    http_timestamp,
    query_items,
    text,
)

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES = 7 * 24 * 3600  # X-Amz-Expires may be at most a week

_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)

_DATE8 = re.compile(r"[0-9]{8}")
_HEADER_FIELD = re.compile(r"[\s,]*([A-Za-z]+)[ \t]*=[ \t]*([^\s,]*)")
_SEPARATORS = re.compile(r"[\s,]*")

HEADER_MALFORMED = "AuthorizationHeaderMalformed"
QUERY_MALFORMED = "AuthorizationQueryParametersError"
_CREDENTIAL_FORM = (
    'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/'
    'aws4_request".'
)
NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"


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
    if not value or any(not n or n.strip(WS) != n for n in names):
        raise S3Error(error, prefix + "the SignedHeaders are mal-formed.")
    return names


def _header_amz_date(req: HttpRequest) -> str:
    value = req.header("x-amz-date")
    if value is not None:
        value = value.strip(WS)
        if amz_timestamp(value) is None:
            raise S3Error("AccessDenied", NO_DATE)
        return value
    date = req.header("date")
    when = None if date is None else http_timestamp(date)
    if when is None:
        raise S3Error("AccessDenied", NO_DATE)
    # The string to sign carries the time in ISO 8601 basic form whichever
    # header supplied it (botocore signs a Date header exactly so).
    try:
        when_utc = datetime.datetime.fromtimestamp(int(when), datetime.UTC)
    except (ValueError, OverflowError, OSError):
        raise S3Error("AccessDenied", NO_DATE) from None
    return when_utc.strftime("%Y%m%dT%H%M%SZ")


def _parse_header(req: HttpRequest, authorization: str) -> SigV4Auth:
    prefix = "The authorization header is malformed; "
    rest = authorization[len(ALGORITHM) :]
    fields: dict[str, str] = {}
    pos = 0
    if rest[:1] not in (" ", "\t"):
        raise S3Error(HEADER_MALFORMED, prefix + "no fields after the algorithm.")
    while (m := _HEADER_FIELD.match(rest, pos)) is not None:
        name, value = m.group(1), m.group(2)
        if name not in ("Credential", "SignedHeaders", "Signature") or name in fields:
            raise S3Error(
                HEADER_MALFORMED,
                f'{prefix}the authorization component "{name}" is malformed.',
            )
        fields[name] = value
        pos = m.end()
    tail = _SEPARATORS.match(rest, pos)
    if tail is None or tail.end() != len(rest) or len(fields) != 3:
        raise S3Error(
            HEADER_MALFORMED,
            prefix + "it must hold Credential=, SignedHeaders= and Signature=.",
        )
    if not fields["Signature"]:
        raise S3Error(HEADER_MALFORMED, prefix + "the Signature is empty.")
    return SigV4Auth(
        credential=_credential(fields["Credential"], HEADER_MALFORMED, prefix),
        signed_headers=_signed_headers(
            fields["SignedHeaders"], HEADER_MALFORMED, prefix
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
                raise S3Error(QUERY_MALFORMED, f"{name} is given more than once.")
            params[name] = text(raw_value)
    if any(p not in params for p in _PRESIGN_PARAMS):
        raise S3Error(
            QUERY_MALFORMED,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
            "and X-Amz-Expires parameters.",
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise S3Error(QUERY_MALFORMED, f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    if amz_timestamp(params["X-Amz-Date"]) is None:
        raise S3Error(
            QUERY_MALFORMED,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        )
    expires = params["X-Amz-Expires"]
    if not re.fullmatch(r"-?[0-9]{1,20}", expires):
        raise S3Error(QUERY_MALFORMED, "X-Amz-Expires should be a number")
    seconds = int(expires)
    if seconds < 0:
        raise S3Error(QUERY_MALFORMED, "X-Amz-Expires must be non-negative")
    if seconds == 0:
        raise S3Error(QUERY_MALFORMED, "X-Amz-Expires must be at least 1 second")
    if seconds > MAX_EXPIRES:
        raise S3Error(
            QUERY_MALFORMED,
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )
    if not params["X-Amz-Signature"]:
        raise S3Error(QUERY_MALFORMED, "X-Amz-Signature is empty.")
    prefix = "Error parsing the X-Amz-Credential parameter; "
    return SigV4Auth(
        credential=_credential(params["X-Amz-Credential"], QUERY_MALFORMED, prefix),
        signed_headers=_signed_headers(
            params["X-Amz-SignedHeaders"],
            QUERY_MALFORMED,
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
    # Every request comes here: without a query, or with one Authorization
    # header, no generator runs (~6 us of a ~85 us check on this VM).
    names = {name for name, _ in query_items(req.raw_query)} if req.raw_query else ()
    query_v4 = bool(names) and any(m in names for m in V4_QUERY_MARKERS)
    header_v4 = False
    for a in auths:
        if a.lstrip(WS).startswith(ALGORITHM):
            header_v4 = True
            break
    if not (query_v4 or header_v4):
        return None
    if auths and (query_v4 or any(m in names for m in V2_QUERY_MARKERS)):
        raise conflict_error(auths[0])
    if header_v4:
        if len(auths) > 1:
            raise S3Error(HEADER_MALFORMED, "More than one Authorization header.")
        return _parse_header(req, auths[0].strip(WS))
    return _parse_query(query_items(req.raw_query))
