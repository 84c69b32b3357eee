"""Browser form uploads (POST Object), pure: the form's fields as the
headers of the PutObject they stand for, the policy document checked as S3
checks it, the POST signatures (SigV4 and SigV2), and the answer S3 gives.

S3's rules (its "Browser-based uploads using POST" and "Creating a POST
policy"): the fields before the file say everything (fields after it are
ignored); ``key`` may contain ``${filename}``; a policy, if sent, is base64
JSON with ``expiration`` and ``conditions``, every condition must hold and
every field but policy, the signature fields, file and ``x-ignore-*`` must
be named by a condition; it is signed with SigV4 (``x-amz-algorithm``,
``-credential``, ``-date``, ``-signature``) or SigV2 (``AWSAccessKeyId``,
``signature``).  Field names are case-insensitive; values are not.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import attrs

from .errors import S3Error
from .sigv4 import signing_key
from .sigv4_parse import Credential
from .tagging import parse_tagging_xml, tagging_header

# Form fields S3 turns into the object's headers (name -> header).
_AS_HEADERS = {
    "acl": "x-amz-acl",
    "cache-control": "cache-control",
    "content-type": "content-type",
    "content-disposition": "content-disposition",
    "content-encoding": "content-encoding",
    "content-language": "content-language",
    "expires": "expires",
    "x-amz-storage-class": "x-amz-storage-class",
    "x-amz-website-redirect-location": "x-amz-website-redirect-location",
}
# Fields no policy condition needs to name.
_EXEMPT = {"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"}
# The most field bytes before the file (S3's limit on what precedes it).
MAX_PRE_DATA = 20 * 1024
MAX_FIELDS = 1000


@attrs.frozen
class PostAuth:
    """Who signed the form, and the bytes to check the signature of."""

    access_key: str
    version: str  # "v4" or "v2"
    signature: str
    policy: str
    credential: Credential | None = None


def field_headers(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    """The PutObject headers the form's fields stand for (lower-cased)."""
    headers = []
    for name, value in fields.items():
        if name in _AS_HEADERS:
            headers.append((_AS_HEADERS[name], value))
        elif name.startswith(
            ("x-amz-meta-", "x-amz-server-side-encryption", "x-amz-checksum-")
        ) or name in (
            "x-amz-object-lock-mode",
            "x-amz-object-lock-retain-until-date",
            "x-amz-object-lock-legal-hold",
        ):
            headers.append((name, value))
        elif name == "tagging":
            tags = parse_tagging_xml(value.encode("utf-8"))
            headers.append(("x-amz-tagging", tagging_header(tags)))
    return headers


def missing_field(name: str, **extra: str) -> S3Error:
    """S3's refusal of a form without field ``name`` (before its file)."""
    return S3Error(
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is "
        "specified, please check the order of the fields.",
        extra={"ArgumentName": name, **extra},
    )


def no_file() -> S3Error:
    return S3Error(
        "InvalidArgument",
        "POST requires exactly one file upload per request.",
        extra={"ArgumentName": "file", "ArgumentValue": "0"},
    )


def object_key(fields: Mapping[str, str], filename: str) -> str:
    key = fields.get("key")
    if key is None:
        raise missing_field("key", ArgumentValue="")
    key = key.replace("${filename}", filename)
    if not key:
        raise S3Error("InvalidArgument", "User key must have a length greater than 0.")
    return key


def post_auth(fields: Mapping[str, str]) -> PostAuth | None:
    """The signature the form carries; None for an unsigned one."""
    policy = fields.get("policy")
    if "x-amz-signature" in fields or "x-amz-algorithm" in fields:
        missing = [
            n for n in ("x-amz-algorithm", "x-amz-credential", "x-amz-date",
                        "x-amz-signature", "policy") if n not in fields
        ]  # fmt: skip
        if missing:
            raise missing_field(missing[0])
        if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
            raise S3Error("InvalidArgument", "Unsupported algorithm.",
                          extra={"ArgumentName": "x-amz-algorithm"})  # fmt: skip
        parts = fields["x-amz-credential"].rsplit("/", 4)
        if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
            raise S3Error(
                "InvalidArgument", "Invalid credential in the POST form.",
                extra={"ArgumentName": "x-amz-credential"},
            )  # fmt: skip
        credential = Credential(*parts[:4])
        return PostAuth(credential.access_key, "v4", fields["x-amz-signature"],
                        fields["policy"], credential)  # fmt: skip
    if "signature" in fields or "awsaccesskeyid" in fields:
        for name in ("awsaccesskeyid", "signature", "policy"):
            if name not in fields:
                raise missing_field(name)
        return PostAuth(fields["awsaccesskeyid"], "v2", fields["signature"],
                        fields["policy"])  # fmt: skip
    if policy is not None:
        raise missing_field("AWSAccessKeyId")
    return None


def verify_post_signature(auth: PostAuth, secret: str) -> None:
    if auth.version == "v4":
        assert auth.credential is not None
        c = auth.credential
        key = signing_key(secret, c.date, c.region, c.service)
        expected = hmac.new(key, auth.policy.encode(), hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, auth.signature.lower())
    else:
        mac = hmac.new(secret.encode(), auth.policy.encode(), hashlib.sha1).digest()
        ok = hmac.compare_digest(base64.b64encode(mac).decode(), auth.signature)
    if not ok:
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature "
            "you provided. Check your key and signing method.",
        )


def _invalid_policy(why: str) -> S3Error:
    return S3Error("InvalidPolicyDocument", f"Invalid Policy: {why}")


def _denied(why: str) -> S3Error:
    return S3Error("AccessDenied", f"Invalid according to Policy: {why}")


def _expiration(text: Any) -> float:
    if not isinstance(text, str):
        raise _invalid_policy("Invalid 'expiration' value.")
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_policy(f"Invalid 'expiration' value: '{text}'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def check_policy(
    policy_b64: str, fields: Mapping[str, str], bucket: str, now: float
) -> tuple[int, int] | None:
    """AccessDenied unless the policy allows this form; returns its
    content-length-range (min, max), if it has one."""
    try:
        doc = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(doc, dict):
        raise _invalid_policy("Invalid JSON.")
    if "expiration" not in doc:
        raise _invalid_policy("Policy missing expiration.")
    if "conditions" not in doc or not isinstance(doc["conditions"], list):
        raise _invalid_policy("Policy missing conditions.")
    if _expiration(doc["expiration"]) < now:
        raise _denied("Policy expired.")
    values = {**fields, "bucket": bucket}
    named = {"bucket"}
    length_range = None
    for condition in doc["conditions"]:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise _invalid_policy(
                    "Invalid Simple-Condition: Simple-Conditions must have "
                    "exactly one property specified."
                )
            [(name, value)] = condition.items()
            condition = ["eq", f"${name}", value]
        if not isinstance(condition, list) or not condition:
            raise _invalid_policy("Invalid condition.")
        op = str(condition[0]).lower()
        if op == "content-length-range":
            try:
                low, high = int(condition[1]), int(condition[2])
            except (IndexError, TypeError, ValueError):
                raise _invalid_policy("Invalid content-length-range.") from None
            length_range = (low, high)
            continue
        if op not in ("eq", "starts-with") or len(condition) != 3:
            raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
        target, expected = condition[1], condition[2]
        if not isinstance(target, str) or not target.startswith("$"):
            raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
        if not isinstance(expected, str):
            expected = str(expected)
        name = target[1:].lower()
        named.add(name)
        actual = values.get(name, "")
        held = actual == expected if op == "eq" else actual.startswith(expected)
        if not held:
            raise _denied(f"Policy Condition failed: {json.dumps(condition)}")
    extra = [
        n
        for n in fields
        if n not in named and n not in _EXEMPT and not n.startswith("x-ignore-")
    ]
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")
    return length_range


def success(
    fields: Mapping[str, str], location: str, bucket: str, key: str, etag: str
) -> tuple[int, dict[str, str], bytes]:
    """S3's answer to a stored form upload: a 303 to
    ``success_action_redirect`` (or ``redirect``), else
    ``success_action_status`` 200 or 201 (with PostResponse XML), else
    204."""
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        parts = urlsplit(redirect)
        if parts.scheme in ("http", "https") and parts.netloc:
            query = urlencode({"bucket": bucket, "key": key, "etag": f'"{etag}"'})
            joined = f"{parts.query}&{query}" if parts.query else query
            target = urlunsplit(parts._replace(query=joined))
            return 303, {"location": target}, b""
    status = fields.get("success_action_status", "")
    if status == "200":
        return 200, {"etag": f'"{etag}"', "location": location}, b""
    if status == "201":
        from lxml import etree

        root = etree.Element("PostResponse")
        for name, value in (("Location", location), ("Bucket", bucket),
                            ("Key", key), ("ETag", f'"{etag}"')):  # fmt: skip
            etree.SubElement(root, name).text = value
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root)
        headers = {"etag": f'"{etag}"', "location": location,
                   "content-type": "application/xml"}  # fmt: skip
        return 201, headers, body
    return 204, {"etag": f'"{etag}"', "location": location}, b""


def location_of(host: str, bucket: str, key: str, style: str) -> str:
    path = quote(key, safe="/")
    if style == "virtual":
        return f"http://{host}/{path}"
    return f"http://{host}/{bucket}/{path}"
