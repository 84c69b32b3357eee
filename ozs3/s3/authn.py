"""Who is asking: authentication (may they: authz.py).

Security off (``ozone.security.enabled=false``): signatures are parsed only
to learn the access key, and everyone may do everything.  Security on: every
request must carry a valid SigV4 (header or presigned query) or SigV2
(header or query) signature made with the secret ``ozs3 s3 getsecret``
issued; a bucket belongs to whoever created it, and only they and the users
in ``ozone.administrators`` reach it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import attrs

from .auth import ANONYMOUS, signature_info
from .context import Call
from .errors import S3Error
from .post_form import PostAuth, verify_post_signature
from .signed_request import HttpRequest
from .sigv2 import parse_sigv2, verify_sigv2
from .sigv4 import SigningContext, verify_sigv4
from .sigv4_parse import parse_sigv4

if TYPE_CHECKING:
    from .app import S3Gateway


@attrs.frozen
class Principal:
    access_key: str
    admin: bool
    # For signed aws-chunked bodies: the context their chunk signatures
    # chain from.
    signing: SigningContext | None = None
    # No signature at all: what a bucket policy allows to anyone (Principal
    # "*") is all it may do.
    anonymous: bool = False


def http_request(call: Call) -> HttpRequest:
    return HttpRequest(
        call.s3.method, call.raw_path, call.raw_query, call.headers.pairs
    )


def _is_admin(gw: S3Gateway, access_key: str) -> bool:
    admins = gw.config.administrators
    return "*" in admins or access_key in admins


async def _secret(gw: S3Gateway, access_key: str) -> str:
    secret = await gw.store.get_s3_secret(access_key)
    if secret is None:
        raise S3Error(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            extra={"AWSAccessKeyId": access_key},
        )
    return secret


async def authenticate(gw: S3Gateway, call: Call) -> Principal:
    if not gw.config.security_enabled:
        sig = signature_info(call.headers.get("authorization"), call.s3.query)
        return Principal(sig.access_key, admin=True, anonymous=sig.version == "none")
    req = http_request(call)
    now = time.time()
    v4 = parse_sigv4(req)
    if v4 is not None:
        key = v4.credential.access_key
        context = verify_sigv4(req, v4, await _secret(gw, key), now)
        return Principal(key, _is_admin(gw, key), context)
    v2 = parse_sigv2(req)
    if v2 is not None:
        key = v2.access_key
        prefix = f"/{call.s3.bucket}" if call.s3.style == "virtual" else ""
        verify_sigv2(req, v2, await _secret(gw, key), now, resource_prefix=prefix)
        return Principal(key, _is_admin(gw, key))
    # Unsigned: anonymous, judged by the bucket's policy (authz.py).
    return Principal("-", admin=False, anonymous=True)


async def authenticate_form(gw: S3Gateway, auth: PostAuth | None) -> Principal:
    """A browser form's signer (POST Object signs its policy, not the
    request).  Unsigned: anonymous, judged by the bucket's policy."""
    if not gw.config.security_enabled:
        if auth is None:
            return Principal(ANONYMOUS, admin=True, anonymous=True)
        return Principal(auth.access_key, admin=True)
    if auth is None:
        return Principal("-", admin=False, anonymous=True)
    verify_post_signature(auth, await _secret(gw, auth.access_key))
    return Principal(auth.access_key, _is_admin(gw, auth.access_key))
