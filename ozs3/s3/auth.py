"""Who is asking: the access key named by a request's signature.  Pure.

This issue's scope is security off: signatures are parsed (so the access key
and its owner are known) but not verified.  Forms understood: SigV4 in the
Authorization header or a presigned query, SigV2 in either place.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .errors import S3Error

ANONYMOUS = "anonymous"


@attrs.frozen
class SignatureInfo:
    version: str  # "v4", "v2" or "none"
    access_key: str
    region: str | None = None
    presigned: bool = False


def _v4_credential(credential: str) -> tuple[str, str]:
    # <access key>/<date>/<region>/<service>/aws4_request; the access key
    # itself may contain "/" (Kerberos principals such as user/host@REALM).
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
        raise S3Error(
            "AuthorizationHeaderMalformed",
            f"The credential {credential!r} is not of the form "
            "<access key>/<date>/<region>/<service>/aws4_request.",
        )
    return parts[0], parts[2]


def signature_info(
    authorization: str | None, query: Sequence[tuple[str, str]]
) -> SignatureInfo:
    q = dict(query)
    if authorization is not None and authorization.strip():
        auth = authorization.strip()
        if auth.startswith("AWS4-HMAC-SHA256 "):
            fields = {}
            for item in auth[len("AWS4-HMAC-SHA256 ") :].split(","):
                name, _, value = item.strip().partition("=")
                fields[name] = value
            if "Credential" not in fields:
                raise S3Error(
                    "AuthorizationHeaderMalformed",
                    "The authorization header has no Credential.",
                )
            key, region = _v4_credential(fields["Credential"])
            return SignatureInfo("v4", key, region)
        if auth.startswith("AWS "):
            key, sep, _ = auth[4:].rpartition(":")
            if not sep or not key:
                raise S3Error(
                    "AuthorizationHeaderMalformed",
                    "The SigV2 authorization header is not AWS <key>:<signature>.",
                )
            return SignatureInfo("v2", key)
        raise S3Error(
            "AuthorizationHeaderMalformed",
            "Unsupported authorization type.",
        )
    if "X-Amz-Credential" in q:
        key, region = _v4_credential(q["X-Amz-Credential"])
        return SignatureInfo("v4", key, region, presigned=True)
    if "AWSAccessKeyId" in q:
        return SignatureInfo("v2", q["AWSAccessKeyId"], presigned=True)
    return SignatureInfo("none", ANONYMOUS)
