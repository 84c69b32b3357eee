"""Request routing: raw request line + Host -> ``S3Request``.  Pure.

Works on the raw URI bytes, never on Twisted's decoded ``path``/``args``
(which merge nothing but drop valueless sub-resources like ``?uploads`` and
split on ``;``).  Path-style ``/bucket/key`` and virtual-host style
``bucket.<domain>/key`` both produce the same ``S3Request``.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

import attrs

from .errors import S3Error


@attrs.frozen
class S3Request:
    method: str
    bucket: str | None
    key: str | None
    # Decoded query pairs in the order sent.
    query: tuple[tuple[str, str], ...]
    style: str  # "path" or "virtual"

    @property
    def level(self) -> str:
        if self.bucket is None:
            return "service"
        return "bucket" if self.key is None else "object"

    def arg(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.query)


def _decode(raw: bytes, plus: bool = False) -> str:
    if plus:
        raw = raw.replace(b"+", b" ")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise S3Error("InvalidURI", "The URI is not valid UTF-8.") from None


def split_host(host: str) -> str:
    """Host header without its port, lower-cased (IPv6 brackets kept off)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def bucket_from_host(host: str | None, domains: Sequence[str]) -> str | None:
    """The bucket named by a virtual-host style Host header, if any.

    The longest configured domain the host ends with wins; a host equal to
    a domain (or matching none) is path style.
    """
    if not host or not domains:
        return None
    name = split_host(host)
    for domain in sorted(domains, key=len, reverse=True):
        if name == domain:
            return None
        if name.endswith("." + domain):
            return name[: -len(domain) - 1]
    return None


def parse_query(raw: bytes) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw.split(b"&"):
        if not item:
            continue
        name, _, value = item.partition(b"=")
        pairs.append((_decode(name, plus=True), _decode(value, plus=True)))
    return tuple(pairs)


def parse_request(
    method: str, host: str | None, raw_uri: bytes, domains: Sequence[str]
) -> S3Request:
    raw_path, _, raw_query = raw_uri.partition(b"?")
    if raw_path.startswith((b"http://", b"https://")):
        # Absolute-form request target: keep only the path.
        after = raw_path.split(b"//", 1)[1]
        at = after.find(b"/")
        raw_path = after[at:] if at >= 0 else b"/"
    if not raw_path.startswith(b"/"):
        raise S3Error("InvalidURI")
    query = parse_query(raw_query)
    vhost_bucket = bucket_from_host(host, domains)
    if vhost_bucket is not None:
        key = _decode(raw_path[1:]) if raw_path[1:] else None
        return S3Request(method, vhost_bucket, key, query, "virtual")
    rest = raw_path[1:]
    if not rest:
        return S3Request(method, None, None, query, "path")
    bucket_raw, slash, key_raw = rest.partition(b"/")
    bucket = _decode(bucket_raw)
    key_or_none = _decode(key_raw) if slash and key_raw else None
    return S3Request(method, bucket, key_or_none, query, "path")
