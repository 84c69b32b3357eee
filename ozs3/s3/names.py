"""Bucket and key naming rules.  Pure."""

from __future__ import annotations

import re

from .errors import S3Error

MAX_KEY_BYTES = 1024

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# Characters XML 1.0 cannot carry: such a key could never be listed.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_valid_bucket_name(name: str) -> bool:
    """S3's general-purpose bucket naming rules."""
    return bool(
        _BUCKET_RE.fullmatch(name)
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not _IPV4_RE.fullmatch(name)
        and not name.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
        and not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3"))
    )


def check_bucket_name(name: str) -> None:
    if not is_valid_bucket_name(name):
        raise S3Error("InvalidBucketName", resource=name, extra={"BucketName": name})


def check_key(key: str) -> None:
    """Keys are stored by their bytes (never used as file names); refuse only
    what S3 refuses or XML listings could not carry."""
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise S3Error(
            "KeyTooLongError",
            extra={"Size": str(len(key.encode())), "MaxSizeAllowed": "1024"},
        )
    if _XML_UNSAFE.search(key):
        raise S3Error(
            "InvalidArgument",
            "Object key contains characters that XML 1.0 cannot represent.",
            extra={"ArgumentName": "key"},
        )
