"""A bucket policy's JSON: PutBucketPolicy bodies validated as S3 does
(MalformedPolicy with its messages), into the model of policy.py.  Pure.

What S3 refuses and we do too: not a JSON object; an unknown or repeated
field; no Statement, Effect, Principal, Action or Resource (or their Not
forms); an action that is not an S3 one; a resource that is not this
bucket's or its objects' ARN; an action whose resource level no resource of
its statement has ("Action does not apply to any resource(s) in
statement"); an unknown condition operator or key.  Whether a named
principal exists is the handler's question (it needs the store).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import S3Error
from .policy import ANYONE, OPERATORS, Condition, Policy, Statement
from .policy_actions import ALL_ACTIONS, BUCKET_ACTIONS, OBJECT_ACTIONS, bucket_arn
from .wildcard import matches

MAX_POLICY_BYTES = 20 * 1024
VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = {"Version", "Id", "Statement"}
_STATEMENT = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
# Condition keys a bucket policy may test (lower-cased); tag keys go by
# prefix.  The request supplies those it has (see authz.py).
CONDITION_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:securetransport",
        "aws:referer",
        "aws:useragent",
        "aws:currenttime",
        "aws:epochtime",
        "aws:userid",
        "aws:username",
        "aws:principaltype",
        "aws:principalaccount",
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
        "s3:x-amz-acl",
        "s3:x-amz-content-sha256",
        "s3:x-amz-storage-class",
        "s3:x-amz-copy-source",
        "s3:x-amz-metadata-directive",
        "s3:signatureversion",
        "s3:authtype",
        "s3:signatureage",
        "s3:requestobjecttagkeys",
    }
)
TAG_KEY_PREFIXES = ("s3:existingobjecttag/", "s3:requestobjecttag/")


def malformed(message: str) -> S3Error:
    return S3Error("MalformedPolicy", message)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise malformed("This policy contains invalid Json")
        out[k] = v
    return out


def parse_policy(body: bytes, bucket: str | None) -> Policy:
    """``body`` as a policy of ``bucket`` (None: one validated when it was
    put, read back from the store)."""
    if len(body) > MAX_POLICY_BYTES:
        raise malformed("Policies cannot exceed 20 KB")
    text = body.decode("utf-8", errors="replace")
    if not text.lstrip().startswith("{"):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise malformed("This policy contains invalid Json") from None
    if not isinstance(doc, dict):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    _only_known(doc, _TOP)
    version = doc.get("Version")
    if version is not None and version not in VERSIONS:
        raise malformed("The policy must contain a valid version string")
    if "Statement" not in doc:
        raise malformed("Missing required field Statement")
    raw = doc["Statement"]
    statements = raw if isinstance(raw, list) else [raw]
    if not statements:
        raise malformed("Could not parse the policy: Statement is empty!")
    return Policy(tuple(_statement(s, bucket) for s in statements), text)


def _only_known(fields: dict[str, Any], known: set[str]) -> None:
    for name in fields:
        if name not in known:
            raise malformed(f"Unknown field {name}")


def decode_policy(text: str) -> Policy:
    """The stored form: a policy validated when it was put."""
    return parse_policy(text.encode("utf-8"), None)


def _strings(value: Any, field: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise malformed(f"Policy has an invalid {field}")
    return tuple(values)


def _statement(raw: Any, bucket: str | None) -> Statement:
    if not isinstance(raw, dict):
        raise malformed("This policy contains invalid Json")
    _only_known(raw, _STATEMENT)
    effect = raw.get("Effect")
    if effect is None:
        raise malformed("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise malformed(f"Invalid effect: {effect}")
    principal_field = _one_of(raw, "Principal", "NotPrincipal")
    action_field = _one_of(raw, "Action", "NotAction")
    resource_field = _one_of(raw, "Resource", "NotResource")
    principals = _principals(raw[principal_field])
    actions = _actions(raw[action_field])
    resources = _resources(raw[resource_field], bucket)
    if bucket is not None and action_field == "Action" and resource_field == "Resource":
        _check_applies(actions, resources, bucket)
    conditions = _conditions(raw.get("Condition", {}))
    sid = raw.get("Sid", "")
    if not isinstance(sid, str):
        raise malformed("Statement IDs (SID) must be strings")
    return Statement(
        effect,
        principals,
        tuple(a.lower() for a in actions),
        resources,
        conditions,
        not_principal=principal_field == "NotPrincipal",
        not_action=action_field == "NotAction",
        not_resource=resource_field == "NotResource",
        sid=sid,
    )


def _one_of(raw: dict[str, Any], name: str, negated: str) -> str:
    if (name in raw) == (negated in raw):
        if name in raw:
            raise malformed(f"Statement cannot have both {name} and {negated}")
        raise malformed(f"Missing required field {name}")
    return name if name in raw else negated


def principal_id(value: str) -> str:
    """An AWS principal as ozs3 names users: ``arn:aws:iam::ID:root`` or
    ``arn:aws:iam::ID:user/...`` are user ID (the access key); anything else
    is taken as the ID itself."""
    if value.startswith("arn:aws:iam::"):
        parts = value.split(":")
        if len(parts) >= 6 and parts[4]:
            return parts[4]
        raise malformed("Invalid principal in policy")
    return value


def _principals(value: Any) -> tuple[str, ...]:
    if value == ANYONE:
        return (ANYONE,)
    if not isinstance(value, dict) or not value:
        raise malformed("Invalid principal in policy")
    found: list[str] = []
    for kind, names in value.items():
        if kind not in ("AWS", "CanonicalUser"):
            raise malformed("Invalid principal in policy")
        values = names if isinstance(names, list) else [names]
        if not values or not all(isinstance(n, str) and n for n in values):
            raise malformed("Invalid principal in policy")
        found.extend(ANYONE if n == ANYONE else principal_id(n) for n in values)
    return tuple(found)


def _actions(value: Any) -> tuple[str, ...]:
    actions = _strings(value, "action")
    for action in actions:
        if action == "*":
            continue
        if not action.lower().startswith("s3:") or not any(
            matches(action, known, case_sensitive=False, question=True)
            for known in ALL_ACTIONS
        ):
            raise malformed("Policy has invalid action")
    return actions


def _resources(value: Any, bucket: str | None) -> tuple[str, ...]:
    resources = _strings(value, "resource")
    if bucket is None:
        return resources
    for resource in resources:
        if resource == "*":
            continue
        if not resource.startswith("arn:aws:s3:::"):
            raise malformed("Policy has invalid resource")
        name = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        # The bucket part must be able to name this bucket.
        if not name or not (matches(name, bucket, question=True) or name.endswith("*")):
            raise malformed("Policy has invalid resource")
    return resources


def _check_applies(
    actions: tuple[str, ...], resources: tuple[str, ...], bucket: str
) -> None:
    def covers_bucket(resource: str) -> bool:
        return matches(resource, bucket_arn(bucket), question=True)

    def covers_objects(resource: str) -> bool:
        return resource == "*" or "/" in resource or resource.endswith("*")

    bucket_level = any(covers_bucket(r) for r in resources)
    object_level = any(covers_objects(r) for r in resources)
    for action in actions:
        named = {
            known
            for known in ALL_ACTIONS
            if action == "*"
            or matches(action, known, case_sensitive=False, question=True)
        }
        if not (
            (bucket_level and named & BUCKET_ACTIONS)
            or (object_level and named & OBJECT_ACTIONS)
        ):
            raise malformed("Action does not apply to any resource(s) in statement")


def _conditions(value: Any) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise malformed("This policy contains invalid Json")
    out: list[Condition] = []
    for operator, tests in value.items():
        base = operator.removesuffix("IfExists")
        if base not in OPERATORS or (base == "Null" and base != operator):
            raise malformed(f"Invalid Condition type : {operator}")
        if not isinstance(tests, dict) or not tests:
            raise malformed("This policy contains invalid Json")
        for key, values in tests.items():
            lowered = key.lower()
            prefix = next((p for p in TAG_KEY_PREFIXES if lowered.startswith(p)), None)
            if prefix is not None and len(key) > len(prefix):
                # The tag's own key keeps its case (tags are case-sensitive).
                lowered = prefix + key[len(prefix) :]
            elif lowered not in CONDITION_KEYS:
                raise malformed("Policy has an invalid condition key")
            raw = values if isinstance(values, list) else [values]
            if not raw or not all(isinstance(v, (str, bool, int)) for v in raw):
                raise malformed("Invalid Condition value")
            strings = tuple(
                ("true" if v else "false") if isinstance(v, bool) else str(v)
                for v in raw
            )
            out.append(Condition(base, lowered, strings, base != operator))
    return tuple(out)
