"""A bucket's CORS configuration: its rules, how a request is matched
against them, and the Access-Control-* headers S3 answers with.  Pure.

S3's evaluation (its "How does Amazon S3 evaluate the CORS configuration"):
the rules are tried in order; the first whose AllowedOrigin matches the
``Origin`` (one ``*`` wildcard at most), whose AllowedMethod has the method
(for a preflight, ``Access-Control-Request-Method``) and, for a preflight,
whose AllowedHeader entries match every header named in
``Access-Control-Request-Headers`` (case-insensitively, ``*`` wildcards),
applies.  The XML form is in cors_xml.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import attrs

from .wildcard import matches

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
MAX_ID_LENGTH = 255


@attrs.frozen
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    id: str = ""


def requested_headers(value: str | None) -> list[str]:
    """``Access-Control-Request-Headers``: the header names, lower-cased."""
    if not value:
        return []
    return [h.strip().lower() for h in value.split(",") if h.strip()]


def find_rule(
    rules: Sequence[CorsRule], origin: str, method: str, headers: Sequence[str] = ()
) -> CorsRule | None:
    """The first rule that allows ``method`` from ``origin`` with ``headers``
    (the preflight's requested headers; none for an actual request)."""
    for rule in rules:
        if method not in rule.allowed_methods:
            continue
        if not any(matches(o, origin) for o in rule.allowed_origins):
            continue
        if all(
            any(matches(a, h, case_sensitive=False) for a in rule.allowed_headers)
            for h in headers
        ):
            return rule
    return None


# S3's Vary on every answer about a bucket with a CORS configuration.
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def response_headers(
    rule: CorsRule, origin: str, headers: Sequence[str] = ()
) -> dict[str, str]:
    """The Access-Control-* headers for a request ``rule`` allowed (with the
    preflight's ``headers`` echoed in Allow-Headers)."""
    out: dict[str, str] = {}
    if "*" in rule.allowed_origins:
        out["access-control-allow-origin"] = "*"
    else:
        out["access-control-allow-origin"] = origin
        out["access-control-allow-credentials"] = "true"
    out["access-control-allow-methods"] = ", ".join(rule.allowed_methods)
    if headers:
        out["access-control-allow-headers"] = ", ".join(headers)
    if rule.expose_headers:
        out["access-control-expose-headers"] = ", ".join(rule.expose_headers)
    if rule.max_age is not None:
        out["access-control-max-age"] = str(rule.max_age)
    out["vary"] = VARY
    return out


def encode(rules: Sequence[CorsRule]) -> str:
    """The stored form (a bucket setting)."""
    return json.dumps([attrs.asdict(r) for r in rules], separators=(",", ":"))


def decode(text: str) -> tuple[CorsRule, ...]:
    return tuple(
        CorsRule(
            tuple(r["allowed_origins"]),
            tuple(r["allowed_methods"]),
            tuple(r["allowed_headers"]),
            tuple(r["expose_headers"]),
            r["max_age"],
            r["id"],
        )
        for r in json.loads(text)
    )
