"""Bucket policies: the model, and how a request is judged by one.  Pure.

AWS's evaluation, reduced to one bucket policy: every statement whose
Principal, Action, Resource and Condition all match the request applies;
an applicable Deny decides (explicit deny), else an applicable Allow, else
nothing is said (implicit deny: the owner and the ACL decide).  Conditions
are ANDed across operators and keys, ORed across a key's values; a key the
request lacks fails a positive operator and satisfies a negated one
(``StringNotEquals`` ...), ``...IfExists`` is satisfied by absence, ``Null``
tests presence.  The JSON form and its validation are in policy_json.py;
which action an S3 operation is, in policy_actions.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import attrs

from .wildcard import any_of, matches

ALLOW, DENY = "Allow", "Deny"
ANYONE = "*"


@attrs.frozen
class Condition:
    operator: str  # without IfExists, e.g. "StringLike"
    key: str  # lower-cased
    values: tuple[str, ...]
    if_exists: bool = False


@attrs.frozen
class Statement:
    effect: str
    # User ids (access keys), or ANYONE; with ``not_principal``, everyone
    # but them.
    principals: tuple[str, ...]
    actions: tuple[str, ...]  # lower-cased patterns, e.g. "s3:get*"
    resources: tuple[str, ...]  # ARN patterns
    conditions: tuple[Condition, ...] = ()
    not_principal: bool = False
    not_action: bool = False
    not_resource: bool = False
    sid: str = ""


@attrs.frozen
class Policy:
    statements: tuple[Statement, ...]
    text: str = ""  # as it was put: GetBucketPolicy returns it unchanged

    # A condition on s3:ExistingObjectTag/<key>: judging an object request
    # needs the object's tags (worked out once: a policy judges many).
    needs_object_tags: bool = attrs.field(init=False, eq=False, repr=False)

    @needs_object_tags.default
    def _needs_object_tags(self) -> bool:
        return any(
            c.key.startswith("s3:existingobjecttag/")
            for s in self.statements
            for c in s.conditions
        )

    # GetBucketPolicyStatus' IsPublic, and what BlockPublicPolicy and
    # RestrictPublicBuckets act on: some Allow reaches anyone (Principal
    # "*", or any NotPrincipal) without a condition that pins who by a fixed
    # value (AWS's rule: a source address range, a user id, ...).  A
    # condition on anything else (a Referer, a wildcard) leaves it public.
    is_public: bool = attrs.field(init=False, eq=False, repr=False)

    @is_public.default
    def _is_public(self) -> bool:
        return any(
            s.effect == ALLOW
            and (s.not_principal or ANYONE in s.principals)
            and not any(_pins_who(c) for c in s.conditions)
            for s in self.statements
        )


# Condition keys whose fixed values name who may ask (AWS's list for
# "public" evaluation, as far as these buckets have them).
_WHO_KEYS = frozenset(
    {"aws:sourceip", "aws:userid", "aws:username", "aws:principalaccount",
     "aws:principalarn", "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner",
     "aws:sourcevpc", "aws:sourcevpce", "aws:principalorgid"}
)  # fmt: skip


def _pins_who(c: Condition) -> bool:
    if c.key not in _WHO_KEYS or c.if_exists:
        return False
    if c.operator == "IpAddress":
        return all(
            (net := _network(v)) is not None and net.prefixlen > 0 for v in c.values
        )
    if c.operator in ("StringEquals", "StringEqualsIgnoreCase", "ArnEquals"):
        return True
    if c.operator in ("StringLike", "ArnLike"):
        return not any("*" in v or "?" in v for v in c.values)
    return False


def denials(policy: Policy) -> Policy:
    """Its Deny statements alone (what still binds when its grants do
    not count)."""
    return Policy(tuple(s for s in policy.statements if s.effect == DENY), policy.text)


@attrs.frozen
class Request:
    """What a policy judges: who (None: anonymous), which action on which
    resource ARN, and the condition keys (lower-cased) the request has."""

    principal: str | None
    action: str  # e.g. "s3:GetObject"
    resource: str  # e.g. "arn:aws:s3:::bucket/key"
    context: Mapping[str, str | Sequence[str]] = attrs.field(factory=dict)


def evaluate(policy: Policy, request: Request, deny_only: bool = False) -> str | None:
    """DENY, ALLOW, or None when no statement applies.  ``deny_only``: the
    caller is allowed anyway (the owner), only a Deny can change that."""
    allowed = False
    for statement in policy.statements:
        if deny_only and statement.effect != DENY:
            continue
        if not applies(statement, request):
            continue
        if statement.effect == DENY:
            return DENY
        allowed = True
    return ALLOW if allowed else None


def applies(s: Statement, r: Request) -> bool:
    return (
        _principal_matches(s, r.principal)
        and _any(s.actions, r.action, s.not_action, case_sensitive=False)
        and _any(s.resources, r.resource, s.not_resource, case_sensitive=True)
        and all(condition_holds(c, r.context) for c in s.conditions)
    )


def _principal_matches(s: Statement, principal: str | None) -> bool:
    found = ANYONE in s.principals or (
        principal is not None and principal in s.principals
    )
    return found != s.not_principal


def _any(
    patterns: Sequence[str], value: str, negate: bool, case_sensitive: bool
) -> bool:
    regex = any_of(tuple(patterns), case_sensitive, question=True)
    return (regex.fullmatch(value) is not None) != negate


def _values(context: Mapping[str, str | Sequence[str]], key: str) -> list[str] | None:
    value = context.get(key)
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def condition_holds(c: Condition, context: Mapping[str, str | Sequence[str]]) -> bool:
    present = _values(context, c.key)
    if c.operator == "Null":
        # "true": the key must be absent; "false": present.
        return any((present is None) == (v.lower() == "true") for v in c.values)
    test, negated = OPERATORS[c.operator]
    if present is None:
        return c.if_exists or negated
    found = any(test(v, p) for v in present for p in c.values)
    # e.g. StringNotEquals: none of the request's values equals any given.
    return found != negated


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _numeric(compare: str) -> Callable[[str, str], bool]:
    def test(value: str, pattern: str) -> bool:
        a, b = _number(value), _number(pattern)
        return a is not None and b is not None and _COMPARE[compare](a, b)

    return test


@lru_cache(maxsize=1024)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _ip(value: str, pattern: str) -> bool:
    address, network = _address(value), _network(pattern)
    return address is not None and network is not None and address in network


def _like(value: str, pattern: str) -> bool:
    return matches(pattern, value, case_sensitive=True, question=True)


def _equals(value: str, pattern: str) -> bool:
    return value == pattern


def _equals_ignore_case(value: str, pattern: str) -> bool:
    return value.lower() == pattern.lower()


def _null(value: str, pattern: str) -> bool:
    raise AssertionError("Null is judged by presence alone")


# Every operator accepted: its test of one request value against one policy
# value, and whether it is negated (holds when no value matches, and when
# the request lacks the key).
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_equals, False),
    "StringNotEquals": (_equals, True),
    "StringEqualsIgnoreCase": (_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_equals_ignore_case, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "NumericEquals": (_numeric("eq"), False),
    "NumericNotEquals": (_numeric("eq"), True),
    "NumericLessThan": (_numeric("lt"), False),
    "NumericLessThanEquals": (_numeric("le"), False),
    "NumericGreaterThan": (_numeric("gt"), False),
    "NumericGreaterThanEquals": (_numeric("ge"), False),
    "Bool": (_equals_ignore_case, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_like, False),
    "ArnNotEquals": (_like, True),
    "ArnLike": (_like, False),
    "ArnNotLike": (_like, True),
    "Null": (_null, False),
}
