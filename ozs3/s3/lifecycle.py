"""S3 bucket lifecycle configuration: the model, its stored form and its
evaluation.  Pure.

Only what buckets without storage classes or versions can do: Expiration
(Days or Date) and AbortIncompleteMultipartUpload, in V1 rules (top-level
``Prefix``) or V2 rules (``Filter``).  Request and response XML are in
lifecycle_xml.py.

Times are float seconds since the epoch.  A day is ``day_seconds`` long
(``DAY`` in production; tests shrink it) and day boundaries are its
multiples since the epoch: midnight UTC when it is ``DAY``.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeVar, cast, get_args
from urllib.parse import quote

import attrs

from .headers import http_date

DAY = 86400.0
MAX_RULES = 1000
MAX_ID_LENGTH = 255

# How a rule's filter was written, kept so that the configuration reads
# back as it was put: "legacy" is the V1 top-level <Prefix>, "empty" is
# <Filter/>, "prefix", "tag", "greater" and "less" a Filter with that one
# child, "and" a Filter holding <And>.
FilterForm = Literal["legacy", "empty", "prefix", "tag", "greater", "less", "and"]
FORMS: tuple[str, ...] = get_args(FilterForm)

_T = TypeVar("_T")


@attrs.frozen
class Filter:
    """Which objects a rule applies to.  Size bounds are strict, as in S3."""

    form: FilterForm = "empty"
    prefix: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    greater_than: int | None = None
    less_than: int | None = None

    def matches(self, key: str, size: int, tags: Iterable[tuple[str, str]]) -> bool:
        if self.prefix is not None and not key.startswith(self.prefix):
            return False
        if self.greater_than is not None and not size > self.greater_than:
            return False
        if self.less_than is not None and not size < self.less_than:
            return False
        if self.tags:
            have = set(tags)
            return all(tag in have for tag in self.tags)
        return True

    @property
    def has_tags(self) -> bool:
        return bool(self.tags)

    @property
    def has_size(self) -> bool:
        return self.greater_than is not None or self.less_than is not None


@attrs.frozen
class Rule:
    id: str
    enabled: bool
    filter: Filter
    expiration_days: int | None = None
    # Epoch seconds of a midnight UTC.
    expiration_date: int | None = None
    abort_days: int | None = None

    @property
    def prefix(self) -> str:
        """The key prefix a scanner needs to cover ("" for every key)."""
        return self.filter.prefix or ""

    @property
    def has_expiration(self) -> bool:
        return self.expiration_days is not None or self.expiration_date is not None

    def matches(self, key: str, size: int, tags: Sequence[tuple[str, str]]) -> bool:
        return self.filter.matches(key, size, tags)


@attrs.frozen
class LifecycleConfiguration:
    rules: tuple[Rule, ...]

    @property
    def enabled_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)


def new_rule_id() -> str:
    """An ID for a rule put without one, in the form S3 generates (48
    characters: base64 of a random UUID's text)."""
    return base64.b64encode(str(uuid.uuid4()).encode("ascii")).decode("ascii")


# --- evaluation ----------------------------------------------------------


def next_day_boundary(ts: float, day_seconds: float = DAY) -> float:
    """The first day boundary strictly after ``ts`` (S3 rounds an object's
    expiry to "the next day midnight UTC")."""
    return (math.floor(ts / day_seconds) + 1) * day_seconds


def expiry_of(rule: Rule, modified: float, day_seconds: float = DAY) -> float | None:
    """When ``rule``'s Expiration is due for an object last modified at
    ``modified``: Days after it, rounded up to the next day boundary; or
    the rule's Date.  None if the rule does not expire objects."""
    if rule.expiration_days is not None:
        return next_day_boundary(
            modified + rule.expiration_days * day_seconds, day_seconds
        )
    if rule.expiration_date is not None:
        return float(rule.expiration_date)
    return None


def abort_due(rule: Rule, initiated: float, day_seconds: float = DAY) -> float | None:
    """When ``rule`` aborts a multipart upload initiated at ``initiated``."""
    if rule.abort_days is None:
        return None
    return next_day_boundary(initiated + rule.abort_days * day_seconds, day_seconds)


def expiration_for(
    config: LifecycleConfiguration,
    key: str,
    size: int,
    tags: Sequence[tuple[str, str]],
    modified: float,
    day_seconds: float = DAY,
) -> tuple[float, str] | None:
    """``(expiry, rule id)`` of the earliest expiry among the enabled rules
    that match the object; the first such rule on a tie."""
    best: tuple[float, str] | None = None
    for rule in config.enabled_rules:
        if not rule.has_expiration or not rule.matches(key, size, tags):
            continue
        due = expiry_of(rule, modified, day_seconds)
        if due is not None and (best is None or due < best[0]):
            best = (due, rule.id)
    return best


def abort_for(
    config: LifecycleConfiguration,
    key: str,
    initiated: float,
    day_seconds: float = DAY,
) -> tuple[float, str] | None:
    """``(abort date, rule id)`` for a multipart upload of ``key``: the
    earliest among the enabled rules with AbortIncompleteMultipartUpload
    whose prefix matches (such rules have no tag or size filter)."""
    best: tuple[float, str] | None = None
    for rule in config.enabled_rules:
        if rule.abort_days is None or not rule.matches(key, 0, ()):
            continue
        due = abort_due(rule, initiated, day_seconds)
        if due is not None and (best is None or due < best[0]):
            best = (due, rule.id)
    return best


def expiration_header(expiry: float, rule_id: str) -> str:
    """The x-amz-expiration header value; S3 URL-encodes the rule ID."""
    return f'expiry-date="{http_date(expiry)}", rule-id="{quote(rule_id, safe="")}"'


# --- stored form -----------------------------------------------------------


def encode(config: LifecycleConfiguration) -> str:
    """A stable JSON text of ``config`` (what the OM stores)."""
    rules = []
    for rule in config.rules:
        f = rule.filter
        rules.append(
            {
                "id": rule.id,
                "enabled": rule.enabled,
                "filter": {
                    "form": f.form,
                    "prefix": f.prefix,
                    "tags": [list(tag) for tag in f.tags],
                    "gt": f.greater_than,
                    "lt": f.less_than,
                },
                "days": rule.expiration_days,
                "date": rule.expiration_date,
                "abort": rule.abort_days,
            }
        )
    return json.dumps({"v": 1, "rules": rules}, sort_keys=True, separators=(",", ":"))


def decode(text: str) -> LifecycleConfiguration:
    """The configuration ``encode`` wrote; ValueError for anything else,
    including a configuration PutBucketLifecycleConfiguration would refuse."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("v") != 1:
            raise ValueError("unknown lifecycle configuration version")
        config = LifecycleConfiguration(tuple(_rule(r) for r in _list(doc["rules"])))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored lifecycle configuration: {exc!r}") from None
    check(config)
    return config


def _rule(r: Any) -> Rule:
    f = r["filter"]
    tags = []
    for tag in _list(f["tags"]):
        key, value = _list(tag)
        tags.append((_str(key), _str(value)))
    form = _str(f["form"])
    if form not in FORMS:
        raise ValueError(f"unknown filter form {form!r}")
    flt = Filter(
        form=cast(FilterForm, form),
        prefix=_opt(f["prefix"], str),
        tags=tuple(tags),
        greater_than=_opt(f["gt"], int),
        less_than=_opt(f["lt"], int),
    )
    enabled = r["enabled"]
    if not isinstance(enabled, bool):
        raise ValueError("enabled must be a boolean")
    return Rule(
        id=_str(r["id"]),
        enabled=enabled,
        filter=flt,
        expiration_days=_opt(r["days"], int),
        expiration_date=_opt(r["date"], int),
        abort_days=_opt(r["abort"], int),
    )


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _opt(value: Any, kind: type[_T]) -> _T | None:
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"expected {kind.__name__} or null")
    return value


def check(config: LifecycleConfiguration) -> None:
    """ValueError unless ``config`` is one parse_lifecycle can return."""
    if not 1 <= len(config.rules) <= MAX_RULES:
        raise ValueError("a configuration has 1 to 1000 rules")
    ids = [rule.id for rule in config.rules]
    if len(set(ids)) != len(ids):
        raise ValueError("rule IDs are not unique")
    for rule in config.rules:
        _check_rule(rule)


def _check_rule(rule: Rule) -> None:
    if not 0 < len(rule.id) <= MAX_ID_LENGTH:
        raise ValueError("a rule ID has 1 to 255 characters")
    _check_filter(rule.filter)
    if rule.expiration_days is not None and rule.expiration_date is not None:
        raise ValueError("an Expiration has Days or Date, not both")
    if not (rule.has_expiration or rule.abort_days is not None):
        raise ValueError("a rule has at least one action")
    for days in (rule.expiration_days, rule.abort_days):
        if days is not None and days <= 0:
            raise ValueError("days must be positive")
    if rule.expiration_date is not None and rule.expiration_date % int(DAY):
        raise ValueError("an expiration date is a midnight UTC")
    if rule.abort_days is not None and (rule.filter.has_tags or rule.filter.has_size):
        raise ValueError("AbortIncompleteMultipartUpload takes no tag or size filter")


def _check_filter(f: Filter) -> None:
    fields = {
        "prefix": f.prefix is not None,
        "tag": bool(f.tags),
        "greater": f.greater_than is not None,
        "less": f.less_than is not None,
    }
    given = {name for name, present in fields.items() if present}
    expected: dict[str, set[str]] = {
        "legacy": {"prefix"},
        "empty": set(),
        "prefix": {"prefix"},
        "tag": {"tag"},
        "greater": {"greater"},
        "less": {"less"},
    }
    if f.form == "and":
        if not given:
            raise ValueError("an And filter has at least one predicate")
    elif given != expected[f.form] or (f.form == "tag" and len(f.tags) != 1):
        raise ValueError(f"a {f.form} filter does not hold {sorted(given)}")
    if len({key for key, _ in f.tags}) != len(f.tags):
        raise ValueError("duplicate tag keys")
    for bound in (f.greater_than, f.less_than):
        if bound is not None and bound < 0:
            raise ValueError("size bounds are non-negative")
    if (
        f.greater_than is not None
        and f.less_than is not None
        and not f.greater_than < f.less_than
    ):
        raise ValueError("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
