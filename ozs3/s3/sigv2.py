"""AWS Signature Version 2 (HmacV1) for S3: ``Authorization: AWS key:sig``
and presigned ``?AWSAccessKeyId=..&Signature=..&Expires=..``.  Pure.

The string to sign is what botocore's HmacV1Auth / HmacV1QueryAuth build::

    METHOD \\n Content-MD5 \\n Content-Type \\n Date-or-Expires \\n
    x-amz-name:value \\n ...          (lower-cased, sorted, values stripped,
                                      repeats joined with ",")
    /bucket/key-as-sent?sub=resources (sorted by name, values decoded)

The resource is the path *as sent* (still percent-encoded), behind
``resource_prefix`` ("/bucket" for virtual-host requests, as botocore's
``auth_path``).  A path-style bucket-level request names its bucket as
``/bucket/`` whether or not the path ends in "/": botocore (boto3, aws CLI
v1) sends ``/bucket`` and signs ``/bucket/``, and S3 takes either.  The
Date line is empty when an x-amz-date header is present (S3's rule; botocore
never sends x-amz-date with SigV2).  For presigned URLs
the x-amz-* query parameters HmacV1QueryAuth copies into the URL (and S3
honours, x-amz-security-token first of all) count as x-amz-* headers when no
such header came with the request.
"""

from __future__ import annotations

import base64
import hmac

import attrs

from .errors import S3Error
from .signed_request import (
    V2_QUERY_MARKERS,
    V4_QUERY_MARKERS,
    HttpRequest,
    amz_timestamp,
    conflict_error,
    hex_bytes,
    http_timestamp,
    iso8601,
    query_items,
    text,
)

# botocore's HmacV1Auth.QSAOfInterest, a superset of the list in S3's SigV2
# documentation: the query parameters that are part of the signed resource.
SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "defaultObjectAcl",
        "delete",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "partNumber",
        "policy",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    }
)

_WS = " \t\r\n\v\f"
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"


@attrs.frozen
class SigV2Auth:
    access_key: str
    signature: str  # base64, as sent
    presigned: bool
    expires: int | None  # the Expires query parameter, presigned only


def parse_sigv2(req: HttpRequest) -> SigV2Auth | None:
    """The SigV2 signature a request carries, or None if it carries none."""
    auths = req.header_values("authorization")
    items = query_items(req.raw_query)
    names = {name for name, _ in items}
    query_v2 = any(m in names for m in V2_QUERY_MARKERS)
    header_v2 = any(a.lstrip(_WS).startswith("AWS ") for a in auths)
    if not (query_v2 or header_v2):
        return None
    if auths and (query_v2 or any(m in names for m in V4_QUERY_MARKERS)):
        raise conflict_error(auths[0])
    if header_v2:
        value = auths[0].strip(_WS)
        key, sep, signature = value[4:].strip(_WS).rpartition(":")
        if len(auths) > 1 or not sep or not key or not signature:
            raise S3Error(
                "InvalidArgument",
                "AWS authorization header is invalid.  Expected "
                "AwsAccessKeyId:signature",
                extra={"ArgumentName": "Authorization", "ArgumentValue": value},
            )
        return SigV2Auth(key, signature, presigned=False, expires=None)
    params: dict[str, str] = {}
    for raw_name, raw_value in items:
        params.setdefault(text(raw_name), text(raw_value))
    if not all(params.get(p) for p in ("AWSAccessKeyId", "Signature", "Expires")):
        raise S3Error(
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and "
            "AWSAccessKeyId parameters",
        )
    expires = params["Expires"]
    if not expires.isascii() or not expires.isdigit() or len(expires) > 20:
        raise S3Error(
            "AccessDenied", f"Invalid date (should be seconds since epoch): {expires}"
        )
    return SigV2Auth(params["AWSAccessKeyId"], params["Signature"], True, int(expires))


def _joined(values: list[str]) -> str:
    return ",".join(v.strip(_WS) for v in values)


def string_to_sign_v2(
    req: HttpRequest, auth: SigV2Auth, resource_prefix: str = ""
) -> str:
    return _string_to_sign(req, auth, resource_prefix, legacy_date=False)


def resource_paths(raw_path: bytes, resource_prefix: str) -> list[str]:
    """The spellings of the signed resource's path S3 accepts, canonical
    first: ``/bucket`` (path style, no key) is also ``/bucket/``."""
    path = resource_prefix + raw_path.decode("utf-8", "surrogateescape")
    if not resource_prefix and path.count("/") == 1 and len(path) > 1:
        return [path + "/", path]
    return [path]


def _string_to_sign(
    req: HttpRequest,
    auth: SigV2Auth,
    resource_prefix: str,
    legacy_date: bool,
    path: str | None = None,
) -> str:
    items = query_items(req.raw_query)
    amz: dict[str, list[str]] = {}
    for name, value in req.headers:
        if name.startswith("x-amz-"):
            amz.setdefault(name, []).append(value)
    if auth.presigned:
        from_query: dict[str, list[str]] = {}
        for raw_name, raw_value in items:
            name = text(raw_name).lower()
            if name.startswith("x-amz-") and name not in amz:
                from_query.setdefault(name, []).append(text(raw_value))
        amz.update(from_query)
        date = next((text(v) for n, v in items if n == b"Expires"), str(auth.expires))
    elif "x-amz-date" in amz:
        # S3's rule (and boto2's, s3cmd's, the Java SDK's): x-amz-date is
        # signed among the x-amz-* headers and the Date line is empty.  The
        # "legacy" form is the AWS documentation's DELETE example, which puts
        # the x-amz-date value on the Date line instead.
        date = _joined(amz.pop("x-amz-date")) if legacy_date else ""
    else:
        date = _joined(req.header_values("date"))
    subresources = sorted(
        ((text(n), v) for n, v in items if text(n) in SUBRESOURCES),
        key=lambda nv: nv[0],
    )
    if path is None:
        path = resource_paths(req.raw_path, resource_prefix)[0]
    resource = path
    if subresources:
        resource += "?" + "&".join(
            name if value is None else f"{name}={text(value)}"
            for name, value in subresources
        )
    lines = [
        req.method,
        _joined(req.header_values("content-md5")),
        _joined(req.header_values("content-type")),
        date,
    ]
    lines += [f"{name}:{_joined(amz[name])}" for name in sorted(amz)]
    lines.append(resource)
    return "\n".join(lines)


def _check_time(req: HttpRequest, auth: SigV2Auth, now: float, skew: float) -> None:
    if auth.presigned:
        expires = auth.expires or 0
        if now > expires:
            raise S3Error(
                "AccessDenied",
                "Request has expired",
                extra={"Expires": iso8601(expires), "ServerTime": iso8601(now)},
            )
        return
    sent = req.header("x-amz-date")
    if sent is None:
        sent = req.header("date")
    when = None
    if sent is not None:
        when = http_timestamp(sent)
        if when is None:
            when = amz_timestamp(sent.strip(_WS))
    if sent is None or when is None:
        raise S3Error("AccessDenied", _NO_DATE)
    if abs(now - when) > skew:
        raise S3Error(
            "RequestTimeTooSkewed",
            extra={
                "RequestTime": sent,
                "ServerTime": iso8601(now),
                "MaxAllowedSkewMilliseconds": str(int(skew * 1000)),
            },
        )


def _matches(secret: str, data: bytes, provided: bytes) -> bool:
    mac = hmac.digest(secret.encode("utf-8"), data, "sha1")
    return hmac.compare_digest(base64.b64encode(mac), provided)


def verify_sigv2(
    req: HttpRequest,
    auth: SigV2Auth,
    secret: str,
    now: float,
    max_skew: float = 900.0,
    resource_prefix: str = "",
) -> None:
    """Check ``auth`` against ``req`` with the secret of its access key; raise
    S3Error if it fails."""
    _check_time(req, auth, now, max_skew)
    provided = auth.signature.encode("utf-8", "replace")
    data = string_to_sign_v2(req, auth, resource_prefix).encode(
        "utf-8", "surrogateescape"
    )
    dates = [False]
    if not auth.presigned and req.header("x-amz-date") is not None:
        dates.append(True)
    for path in resource_paths(req.raw_path, resource_prefix):
        for legacy in dates:
            text = _string_to_sign(req, auth, resource_prefix, legacy, path)
            if _matches(secret, text.encode("utf-8", "surrogateescape"), provided):
                return
    raise S3Error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you "
        "provided. Check your key and signing method.",
        extra={
            "AWSAccessKeyId": auth.access_key,
            "StringToSign": data.decode("utf-8", "replace"),
            "SignatureProvided": auth.signature,
            "StringToSignBytes": hex_bytes(data),
        },
    )
