"""S3 bucket lifecycle configuration as XML: PutBucketLifecycleConfiguration
bodies, validated as S3 does, and the GetBucketLifecycleConfiguration body.
Pure (lxml only); the model is in lifecycle.py.

A body that does not fit the schema is MalformedXML, raised at once.  The
other errors (InvalidArgument, InvalidRequest, NotImplemented) are kept
until the whole body has been read, so that a malformed body is always
reported as such; the first of them, in document order, is raised.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Collection

import attrs
from lxml import etree

from .errors import S3Error
from .headers import iso8601
from .lifecycle import (
    MAX_ID_LENGTH,
    MAX_RULES,
    Filter,
    LifecycleConfiguration,
    Rule,
    new_rule_id,
)
from .numbers import INT32_MAX, decimal
from .xml import NS, xml_safe
from .xml_parse import parse_document

_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_INT64_MAX = 2**63 - 1

_RULE = frozenset(
    {
        "ID",
        "Status",
        "Prefix",
        "Filter",
        "Expiration",
        "AbortIncompleteMultipartUpload",
        "Transition",
        "NoncurrentVersionTransition",
        "NoncurrentVersionExpiration",
    }
)
_PREDICATES = frozenset(
    {"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan"}
)
_NOT_IMPLEMENTED = {
    "Transition": "storage classes",
    "NoncurrentVersionTransition": "object versions",
    "NoncurrentVersionExpiration": "object versions",
}


def _malformed(detail: str) -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against "
        f"our published schema: {detail}",
    )


class _Errors:
    """The first error other than MalformedXML, kept until the end."""

    def __init__(self) -> None:
        self.first: S3Error | None = None

    def add(self, code: str, message: str) -> None:
        if self.first is None:
            self.first = S3Error(code, message)


def _children(
    el: etree._Element, allowed: Collection[str], repeatable: Collection[str] = ()
) -> dict[str, list[etree._Element]]:
    """``el``'s child elements by local name, in document order; an unknown
    or repeated (unless repeatable) child is MalformedXML."""
    found: dict[str, list[etree._Element]] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name not in allowed:
            raise _malformed(
                f"unexpected element {name} in {etree.QName(el).localname}"
            )
        if name in found and name not in repeatable:
            raise _malformed(f"more than one {name} in {etree.QName(el).localname}")
        found.setdefault(name, []).append(child)
    return found


def _text(el: etree._Element) -> str:
    if any(isinstance(child.tag, str) for child in el):
        raise _malformed(f"{etree.QName(el).localname} holds elements, not text")
    return "".join(el.itertext())


def _integer(el: etree._Element, limit: int) -> int:
    """An xsd integer no larger than ``limit``: may be zero or negative,
    for the caller to refuse with its own message."""
    text = _text(el).strip(" \t\r\n")
    sign = -1 if text[:1] == "-" else 1
    n = decimal(text[1:] if text[:1] in "+-" else text)
    if n is None or n > limit:
        raise _malformed(f"{etree.QName(el).localname} is not an integer")
    return sign * n


_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?",
    re.ASCII,
)


def _date(el: etree._Element, errors: _Errors) -> int:
    """An ISO 8601 Date, which S3 requires to be a midnight UTC: its epoch
    seconds.  A date without a time or zone is taken as midnight UTC."""
    m = _DATE.fullmatch(_text(el).strip(" \t\r\n"))
    if m is None:
        raise _malformed("Date is not an ISO 8601 date")
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        tz = datetime.UTC
        if zone and zone != "Z":
            offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            tz = datetime.timezone(-offset if zone[0] == "-" else offset)
        when = datetime.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            int(second or 0), tzinfo=tz,
        )  # fmt: skip
        ts = when.timestamp()
    except (ValueError, OverflowError):
        raise _malformed("Date is not a valid date") from None
    if ts % 86400 or (fraction and fraction.strip("0")):
        errors.add("InvalidArgument", "'Date' must be at midnight GMT")
    return int(ts)


def _tag(el: etree._Element) -> tuple[str, str]:
    found = _children(el, ("Key", "Value"))
    if "Key" not in found or "Value" not in found:
        raise _malformed("a Tag needs a Key and a Value")
    return _text(found["Key"][0]), _text(found["Value"][0])


def _size(el: etree._Element, errors: _Errors) -> int:
    n = _integer(el, _INT64_MAX)
    if n < 0:
        name = etree.QName(el).localname
        errors.add("InvalidArgument", f"'{name}' must be a non-negative integer")
    return n


def _filter(el: etree._Element, errors: _Errors) -> Filter:
    found = _children(el, _PREDICATES | {"And"})
    if not found:
        return Filter("empty")
    if len(found) > 1:
        raise _malformed("a Filter holds one of Prefix, Tag, ObjectSize*, And")
    ((name, (child,)),) = found.items()
    if name == "Prefix":
        return Filter("prefix", prefix=_text(child))
    if name == "Tag":
        return Filter("tag", tags=(_tag(child),))
    if name == "ObjectSizeGreaterThan":
        return Filter("greater", greater_than=_size(child, errors))
    if name == "ObjectSizeLessThan":
        return Filter("less", less_than=_size(child, errors))
    parts = _children(child, _PREDICATES, repeatable=("Tag",))
    if not parts:
        raise _malformed("an And holds at least one predicate")
    tags = tuple(_tag(tag) for tag in parts.get("Tag", ()))
    if len({key for key, _ in tags}) != len(tags):
        errors.add("InvalidRequest", "Duplicate Tag Keys are not allowed.")
    gt, lt = (
        _size(parts[name][0], errors) if name in parts else None
        for name in ("ObjectSizeGreaterThan", "ObjectSizeLessThan")
    )
    if gt is not None and lt is not None and not gt < lt:
        errors.add(
            "InvalidArgument",
            "ObjectSizeGreaterThan must be less than ObjectSizeLessThan",
        )
    prefix = _text(parts["Prefix"][0]) if "Prefix" in parts else None
    return Filter("and", prefix=prefix, tags=tags, greater_than=gt, less_than=lt)


def _expiration(el: etree._Element, errors: _Errors) -> tuple[int | None, int | None]:
    """``(days, date)`` of an Expiration."""
    found = _children(el, ("Days", "Date", "ExpiredObjectDeleteMarker"))
    if len(found) != 1:
        raise _malformed(
            "an Expiration holds one of Days, Date, ExpiredObjectDeleteMarker"
        )
    ((name, (child,)),) = found.items()
    if name == "Days":
        days = _integer(child, INT32_MAX)
        if days <= 0:
            errors.add(
                "InvalidArgument",
                "'Days' for Expiration action must be a positive integer",
            )
        return days, None
    if name == "Date":
        return None, _date(child, errors)
    if _text(child).strip(" \t\r\n") not in ("true", "false", "1", "0"):
        raise _malformed("ExpiredObjectDeleteMarker is not a boolean")
    errors.add(
        "NotImplemented",
        "ExpiredObjectDeleteMarker is not implemented: these buckets have no "
        "object versions, hence no delete markers.",
    )
    return None, None


def _abort(el: etree._Element, errors: _Errors) -> int:
    found = _children(el, ("DaysAfterInitiation",))
    if not found:
        raise _malformed("AbortIncompleteMultipartUpload needs DaysAfterInitiation")
    days = _integer(found["DaysAfterInitiation"][0], INT32_MAX)
    if days <= 0:
        errors.add(
            "InvalidArgument",
            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be "
            "a positive integer",
        )
    return days


def _rule(el: etree._Element, errors: _Errors) -> tuple[str | None, Rule]:
    """``(the ID given, if any; the rule, with that ID or "")``."""
    found = _children(
        el, _RULE, repeatable=("Transition", "NoncurrentVersionTransition")
    )
    rule_id = _text(found["ID"][0]) if "ID" in found else ""
    if len(rule_id) > MAX_ID_LENGTH:
        errors.add(
            "InvalidArgument", "ID length should not exceed allowed limit of 255"
        )
    if "Status" not in found:
        raise _malformed("a Rule needs a Status")
    status = _text(found["Status"][0])
    if status not in ("Enabled", "Disabled"):
        raise _malformed("Status is Enabled or Disabled")
    if "Prefix" in found and "Filter" in found:
        raise _malformed("a Rule has a Filter or a Prefix, not both")
    if "Prefix" in found:
        flt = Filter("legacy", prefix=_text(found["Prefix"][0]))
    elif "Filter" in found:
        flt = _filter(found["Filter"][0], errors)
    else:
        raise _malformed("a Rule needs a Filter")
    days = date = abort = None
    if "Expiration" in found:
        days, date = _expiration(found["Expiration"][0], errors)
    if "AbortIncompleteMultipartUpload" in found:
        abort = _abort(found["AbortIncompleteMultipartUpload"][0], errors)
    for name, missing in _NOT_IMPLEMENTED.items():
        if name in found:
            errors.add(
                "NotImplemented",
                f"{name} is not implemented: these buckets have no {missing}.",
            )
    if not any(
        name in found
        for name in ("Expiration", "AbortIncompleteMultipartUpload", *_NOT_IMPLEMENTED)
    ):
        errors.add(
            "InvalidRequest", "At least one action needs to be specified in a rule"
        )
    if abort is not None and flt.has_tags:
        errors.add(
            "InvalidRequest",
            "AbortIncompleteMultipartUpload cannot be specified with Tags.",
        )
    elif abort is not None and flt.has_size:
        errors.add(
            "InvalidRequest",
            "AbortIncompleteMultipartUpload cannot be specified with Object Size.",
        )
    rule = Rule(rule_id, status == "Enabled", flt, days, date, abort)
    return (rule_id or None), rule


def parse_lifecycle(
    body: bytes, new_id: Callable[[], str] = new_rule_id
) -> LifecycleConfiguration:
    """A PutBucketLifecycleConfiguration body, validated.  Rules put without
    an ID (or with an empty one) get ``new_id()``."""
    root = parse_document(body, "LifecycleConfiguration")
    elements = _children(root, ("Rule",), repeatable=("Rule",)).get("Rule", [])
    if not elements:
        raise _malformed("a LifecycleConfiguration needs at least one Rule")
    if len(elements) > MAX_RULES:
        raise S3Error(
            "InvalidArgument",
            "The number of lifecycle rules should not exceed allowed limit of "
            f"{MAX_RULES} rules",
        )
    errors = _Errors()
    parsed = [_rule(el, errors) for el in elements]
    given = [rule_id for rule_id, _ in parsed if rule_id is not None]
    if len(set(given)) != len(given):
        errors.add(
            "InvalidArgument",
            "Rule ID must be unique. Found same ID for more than one rule",
        )
    if errors.first is not None:
        raise errors.first
    taken = set(given)
    rules = []
    for rule_id, rule in parsed:
        if rule_id is None:
            rule_id = new_id()
            while rule_id in taken:
                rule_id = new_id()
            taken.add(rule_id)
            rule = attrs.evolve(rule, id=rule_id)
        rules.append(rule)
    return LifecycleConfiguration(tuple(rules))


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = xml_safe(text)
    return el


def _tag_xml(parent: etree._Element, key: str, value: str) -> None:
    tag = _sub(parent, "Tag")
    _sub(tag, "Key", key)
    _sub(tag, "Value", value)


def _filter_xml(parent: etree._Element, f: Filter) -> None:
    if f.form == "legacy":
        _sub(parent, "Prefix", f.prefix or "")
        return
    el = _sub(parent, "Filter")
    if f.form == "and":
        el = _sub(el, "And")
    if f.prefix is not None:
        _sub(el, "Prefix", f.prefix)
    for key, value in f.tags:
        _tag_xml(el, key, value)
    if f.greater_than is not None:
        _sub(el, "ObjectSizeGreaterThan", str(f.greater_than))
    if f.less_than is not None:
        _sub(el, "ObjectSizeLessThan", str(f.less_than))


def lifecycle_xml(config: LifecycleConfiguration) -> bytes:
    """The GetBucketLifecycleConfiguration body: the rules in order, each
    filter in the form it was put in."""
    root = etree.Element("LifecycleConfiguration", nsmap={None: NS})
    for rule in config.rules:
        el = _sub(root, "Rule")
        _sub(el, "ID", rule.id)
        _filter_xml(el, rule.filter)
        _sub(el, "Status", "Enabled" if rule.enabled else "Disabled")
        if rule.expiration_days is not None:
            _sub(_sub(el, "Expiration"), "Days", str(rule.expiration_days))
        elif rule.expiration_date is not None:
            _sub(_sub(el, "Expiration"), "Date", iso8601(rule.expiration_date))
        if rule.abort_days is not None:
            abort = _sub(el, "AbortIncompleteMultipartUpload")
            _sub(abort, "DaysAfterInitiation", str(rule.abort_days))
    return _DECL + etree.tostring(root, encoding="UTF-8")
