"""S3 lifecycle carried out (issue 14), against the real gateway: the
bucket lifecycle calls (boto3 and the aws CLI), objects expired and
multipart uploads aborted by the lifecycle service, ``x-amz-expiration``,
the /prom counters and audit lines, a restart and ``--workers``.

The clock is the test's: a lifecycle "day" lasts ``DAY`` seconds
(``ozone.s3g.lifecycle.test.day.length``) and the service, its interval
``INTERVAL``, looks every 0.5 s (its shortest poll).  With Days 1 an object written at ``t`` expires at the
first multiple of ``DAY`` after ``t + DAY``: within 2 to 4 s.  Nothing
sleeps blindly: each wait polls for the state it expects, with a deadline,
and what must stay is checked for a while after what must go has gone.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import http.client
import json
import math
import os
import signal
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import REACTORS, AwsCli, make_client
from tests.support.gateway import GatewayProcess, scrape_prom
from tests.support.storecheck import assert_clean, stored_blocks

DAY = 2.0  # seconds in a lifecycle day, in these tests
INTERVAL = 0.5  # the lifecycle interval, seconds
DATE_FUTURE = datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)
DATE_PAST = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def lifecycle_env(interval: str = f"{INTERVAL}s", day: str = f"{DAY}s") -> dict:
    return {
        "OZONE-SITE.XML_ozone.s3g.lifecycle.interval": interval,
        "OZONE-SITE.XML_ozone.s3g.lifecycle.test.day.length": day,
    }


@pytest.fixture(scope="module", params=REACTORS)
def lgw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    base = tmp_path_factory.mktemp("lifecycle")
    gw = GatewayProcess(
        str(base / "data"), reactor=request.param, env=lifecycle_env()
    ).start()
    yield gw
    code = gw.stop()
    assert code in (0, -signal.SIGTERM), gw.log()[-3000:]
    assert not gw.tracebacks(), gw.log()[-3000:]
    # Every block of what was expired or aborted was freed, nothing else.
    assert_clean(gw.data_dir)


@pytest.fixture(scope="module")
def s3(lgw: GatewayProcess) -> Any:
    return make_client(lgw.endpoint)


@pytest.fixture(scope="module")
def aws(lgw: GatewayProcess, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    return AwsCli(lgw.endpoint, str(tmp_path_factory.mktemp("awscli")))


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = f"lc-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    # Nothing of this test's may expire during the next one.
    s3.delete_bucket_lifecycle(Bucket=name)


# --- helpers -----------------------------------------------------------------


def refused(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, step: float = 0.1
) -> float:
    """Poll ``check`` until it holds; the time it was first seen to hold."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return time.time()
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(step)


def listed(s3: Any, bucket: str, prefix: str = "") -> dict[str, str]:
    """key -> ETag of everything listed."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix
    ):
        for o in page.get("Contents", []):
            found[o["Key"]] = o["ETag"]
    return found


def expiration(value: str | None) -> tuple[float, str] | None:
    """``(expiry, rule id)`` of an x-amz-expiration header value."""
    if value is None:
        return None
    fields = dict(
        part.strip().split("=", 1) for part in value.split('", ') if part.strip()
    )
    date = fields["expiry-date"].strip('"')
    rule = fields["rule-id"].strip('"')
    return email.utils.parsedate_to_datetime(date).timestamp(), unquote(rule)


def days_expiry(last_modified: datetime.datetime, days: int) -> float:
    """What S3 says: ``days`` after the object's time, rounded up to the next
    day boundary.  Last-Modified is in whole seconds; DAY being a whole
    number of seconds, the true time falls in the same day as it."""
    return (math.floor((last_modified.timestamp() + days * DAY) / DAY) + 1) * DAY


def lifecycle_metrics(*ports: int) -> dict[str, float]:
    """The lifecycle counters, summed over the given admin ports."""
    names = {
        "expired": "ozs3_lifecycle_expired_objects_total",
        "expired_bytes": "ozs3_lifecycle_expired_bytes_total",
        "aborted": "ozs3_lifecycle_aborted_uploads_total",
        "runs": "ozs3_lifecycle_runs_total",
    }
    total = dict.fromkeys(names, 0.0)
    for port in ports:
        got = scrape_prom(port)
        for short, name in names.items():
            total[short] += got[name]
    return total


def audit(data_dir: str, operation: str, bucket: str | None = None) -> list[dict]:
    path = os.path.join(data_dir, "logs", "s3g-audit.log")
    with open(path) as f:
        lines = [json.loads(line) for line in f]
    return [
        r
        for r in lines
        if r["operation"] == operation and (bucket is None or r["bucket"] == bucket)
    ]


def raw_put_lifecycle(gw: GatewayProcess, bucket: str, body: bytes) -> tuple[int, str]:
    """PutBucketLifecycleConfiguration with any body (boto3 sends only what
    its model allows): status and error code."""
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.request("PUT", f"/{bucket}?lifecycle", body=body, headers={"Content-MD5": md5})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    code = text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else ""
    return r.status, code


def rule(rule_id: str, flt: dict, days: int = 1, **more: Any) -> dict:
    return {
        "ID": rule_id, "Status": "Enabled", "Filter": flt,
        "Expiration": {"Days": days}, **more,
    }  # fmt: skip


# --- the configuration calls ---------------------------------------------------

RULES = [
    rule("by prefix/1", {"Prefix": "old/"}),
    rule("by-tag", {"Tag": {"Key": "class", "Value": "tmp"}}, days=3),
    rule(
        "and",
        {
            "And": {
                "Prefix": "size/",
                "ObjectSizeGreaterThan": 1000,
                "Tags": [{"Key": "a", "Value": "b"}],
            }
        },
    ),
    {
        "ID": "off",
        "Status": "Disabled",
        "Filter": {"Prefix": "off/"},
        "Expiration": {"Days": 7},
    },
    {
        "ID": "dated",
        "Status": "Enabled",
        "Filter": {"ObjectSizeLessThan": 10},
        "Expiration": {"Date": DATE_FUTURE},
    },
    {
        "ID": "uploads",
        "Status": "Enabled",
        "Filter": {"Prefix": "tmp/"},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
    },
    {"ID": "empty", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 365}},
]


def test_put_get_delete_with_boto3(s3: Any, bucket: str) -> None:
    """GET of none is NoSuchLifecycleConfiguration; PUT stores every rule
    form and GET gives it back as put; a second PUT replaces it; DELETE is
    204, idempotent, and GET then answers 404 again."""
    get = lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)  # noqa: E731
    assert refused(get) == ("NoSuchLifecycleConfiguration", 404)
    put = s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": RULES}
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get()["Rules"] == RULES
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": RULES[:1]}
    )
    assert get()["Rules"] == RULES[:1]
    for _ in range(2):
        gone = s3.delete_bucket_lifecycle(Bucket=bucket)
        assert gone["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert refused(get) == ("NoSuchLifecycleConfiguration", 404)


def test_a_rule_without_an_id_gets_one(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [
            {"Status": "Enabled", "Filter": {"Prefix": "a/"},
             "Expiration": {"Days": 1}},
            {"ID": "", "Status": "Enabled", "Filter": {"Prefix": "b/"},
             "Expiration": {"Days": 1}},
        ]},
    )  # fmt: skip
    ids = [
        r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    ]
    assert len(ids) == 2 and all(ids) and ids[0] != ids[1]


def test_missing_bucket_is_no_such_bucket(s3: Any) -> None:
    name = f"lc-none-{uuid.uuid4().hex[:8]}"
    config = {"Rules": RULES[:1]}
    for call in (
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=name),
        lambda: s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration=config
        ),
        lambda: s3.delete_bucket_lifecycle(Bucket=name),
    ):
        assert refused(call) == ("NoSuchBucket", 404)


_XML = '<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{}</LifecycleConfiguration>'
_GOOD = "<Rule><ID>r</ID><Filter><Prefix>p/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param(_XML.format(_GOOD)[:-10], 400, "MalformedXML", id="truncated"),
        pytest.param(_XML.format(""), 400, "MalformedXML", id="no-rule"),
        pytest.param(
            _XML.format(_GOOD.replace("<Status>Enabled</Status>", "")),
            400,
            "MalformedXML",
            id="no-status",
        ),
        pytest.param(
            _XML.format(_GOOD.replace("<Filter><Prefix>p/</Prefix></Filter>", "")),
            400,
            "MalformedXML",
            id="no-filter",
        ),
        pytest.param(
            _XML.format(_GOOD.replace("<Days>1<", "<Days>0<")),
            400,
            "InvalidArgument",
            id="days-0",
        ),
        pytest.param(_XML.format(_GOOD * 2), 400, "InvalidArgument", id="same-ids"),
        pytest.param(
            _XML.format(
                _GOOD.replace(
                    "</Expiration>",
                    "</Expiration><Transition><Days>30</Days>"
                    "<StorageClass>GLACIER</StorageClass></Transition>",
                )
            ),
            501,
            "NotImplemented",
            id="transition",
        ),
        pytest.param(
            _XML.format(
                _GOOD.replace(
                    "</Expiration>",
                    "</Expiration><NoncurrentVersionExpiration><NoncurrentDays>3"
                    "</NoncurrentDays></NoncurrentVersionExpiration>",
                )
            ),
            501,
            "NotImplemented",
            id="noncurrent",
        ),
    ],
)
def test_refused_configurations_change_nothing(
    lgw: GatewayProcess, s3: Any, bucket: str, body: str, status: int, code: str
) -> None:
    """Each refused PUT answers its error and leaves the stored configuration
    as it was; the good body itself is accepted (the cases differ from it
    only in what they test)."""
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": RULES}
    )
    assert raw_put_lifecycle(lgw, bucket, body.encode()) == (status, code)
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == RULES
    assert raw_put_lifecycle(lgw, bucket, _XML.format(_GOOD).encode()) == (200, "")
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(
        Bucket=bucket)["Rules"]] == ["r"]  # fmt: skip


def test_refused_by_boto3_calls(s3: Any, bucket: str) -> None:
    """The refusals boto3 can send: Days 0, duplicate IDs, Transition,
    NoncurrentVersionExpiration; and the bucket with no configuration keeps
    none."""
    bad = [
        ([rule("r", {"Prefix": ""}, days=0)], ("InvalidArgument", 400)),
        ([rule("r", {"Prefix": "a"}), rule("r", {"Prefix": "b"})],
         ("InvalidArgument", 400)),
        ([rule("r", {"Prefix": "a"}, Transitions=[
            {"Days": 30, "StorageClass": "GLACIER"}])], ("NotImplemented", 501)),
        ([rule("r", {"Prefix": "a"}, NoncurrentVersionExpiration={
            "NoncurrentDays": 3})], ("NotImplemented", 501)),
    ]  # fmt: skip
    get = lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)  # noqa: E731
    for rules, answer in bad:
        put = lambda rules=rules: s3.put_bucket_lifecycle_configuration(  # noqa: E731
            Bucket=bucket, LifecycleConfiguration={"Rules": rules}
        )
        assert refused(put) == answer, rules
        assert refused(get) == ("NoSuchLifecycleConfiguration", 404)


def test_aws_cli_put_get_delete(aws: AwsCli, s3: Any, bucket: str, tmp_path) -> None:
    """aws s3api put-/get-bucket-lifecycle-configuration --lifecycle-configuration
    file://..., a refused one (exit status, error code, nothing changed),
    head-object's Expiration, delete-bucket-lifecycle."""
    config = {"Rules": [
        {"ID": "cli rule", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Expiration": {"Days": 30}},
        {"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    ]}  # fmt: skip
    path = tmp_path / "lifecycle.json"
    path.write_text(json.dumps(config))
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", f"file://{path}")  # fmt: skip
    out = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert json.loads(out.stdout) == config
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Rules": [
        {"ID": "t", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
    ]}))  # fmt: skip
    r = aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
            "--lifecycle-configuration", f"file://{bad}", check=False)  # fmt: skip
    assert r.returncode != 0 and "NotImplemented" in r.stderr, r.stderr
    out = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert json.loads(out.stdout) == config
    s3.put_object(Bucket=bucket, Key="logs/a", Body=b"x")
    head = json.loads(
        aws("s3api", "head-object", "--bucket", bucket, "--key", "logs/a").stdout
    )
    found = expiration(head["Expiration"])
    assert found is not None and found[1] == "cli rule"
    assert found[0] == days_expiry(
        s3.head_object(Bucket=bucket, Key="logs/a")["LastModified"], 30
    )
    aws("s3api", "delete-bucket-lifecycle", "--bucket", bucket)
    r = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket,
            check=False)  # fmt: skip
    assert r.returncode != 0 and "NoSuchLifecycleConfiguration" in r.stderr
    head = json.loads(
        aws("s3api", "head-object", "--bucket", bucket, "--key", "logs/a").stdout
    )
    assert "Expiration" not in head


# --- expiry carried out ---------------------------------------------------------

EXPIRY_RULES = [
    rule("old objects", {"Prefix": "old/"}),
    rule("tagged", {"Tag": {"Key": "class", "Value": "tmp"}}),
    rule("big", {"And": {"Prefix": "size/", "ObjectSizeGreaterThan": 1000}}),
    {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "off/"},
     "Expiration": {"Days": 1}},
    rule("later", {"Prefix": "later/"}, days=3),
    {"ID": "future", "Status": "Enabled", "Filter": {"Prefix": "date/"},
     "Expiration": {"Date": DATE_FUTURE}},
    {"ID": "past", "Status": "Enabled", "Filter": {"Prefix": "past/"},
     "Expiration": {"Date": DATE_PAST}},
]  # fmt: skip

# key -> (body size, tags, the rule expected to expire it (None: none))
OBJECTS: dict[str, tuple[int, str, str | None]] = {
    "old/a": (10, "", "old objects"),
    "old/empty": (0, "", "old objects"),
    # Both rules are due at once: the first one's.
    "old/both": (5, "class=tmp", "old objects"),
    "old": (5, "", None),
    "OLD/a": (5, "", None),
    "other/old/a": (5, "", None),
    "t/x": (7, "class=tmp", "tagged"),
    # Days 1 by its tag comes before Days 3 by its prefix.
    "later/t": (7, "class=tmp&x=y", "tagged"),
    "t/y": (7, "class=keep", None),
    "t/z": (7, "", None),
    "t/other": (7, "klass=tmp", None),
    "size/big": (2000, "", "big"),
    "size/edge": (1000, "", None),  # not strictly greater
    "size/small": (10, "", None),
    "big-elsewhere": (5000, "", None),
    "off/a": (5, "", None),
    "later/a": (5, "", "later"),
    "date/a": (5, "", "future"),
    "past/a": (5, "", "past"),
}
SOON = {k for k, (_, _, r) in OBJECTS.items() if r not in (None, "later", "future")}


def test_expiry_by_prefix_tag_size_and_date(
    lgw: GatewayProcess, s3: Any, bucket: str
) -> None:
    """What the rules cover expires at its time, not before; what they do
    not cover stays, also long after; x-amz-expiration on PUT, GET and HEAD
    says when and by which rule; an audit line and a count per object."""
    before = lifecycle_metrics(lgw.admin_port)
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": EXPIRY_RULES}
    )
    expiries: dict[str, float] = {}
    for key, (size, tags, rule_id) in OBJECTS.items():
        put = s3.put_object(Bucket=bucket, Key=key, Body=b"x" * size, Tagging=tags)
        found = expiration(put.get("Expiration"))
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
            got = s3.get_object(Bucket=bucket, Key=key)
        except ClientError as e:
            # An object whose rule's Date has passed is due at once: the
            # next lifecycle pass (every INTERVAL s) may take it between
            # the PUT and the reads.  Nothing else may be gone yet.
            code = e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert (rule_id, code) == ("past", 404), (key, e.response)
            assert found is not None and found[1] == "past", (key, found)
            assert found[0] == DATE_PAST.timestamp()
            expiries[key] = found[0]
            continue
        assert got["Body"].read() == b"x" * size
        assert expiration(head.get("Expiration")) == found, key
        assert expiration(got.get("Expiration")) == found, key
        if rule_id is None:
            assert found is None, (key, found)
            continue
        assert found is not None and found[1] == rule_id, (key, found)
        if rule_id == "future":
            assert found[0] == DATE_FUTURE.timestamp()
        elif rule_id == "past":
            assert found[0] == DATE_PAST.timestamp()
        else:
            days = 3 if rule_id == "later" else 1
            assert found[0] == days_expiry(head["LastModified"], days), key
        expiries[key] = found[0]
    # Tags put afterwards count: this one is now covered by "tagged".
    s3.put_object(Bucket=bucket, Key="t/retagged", Body=b"r")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="t/retagged")
    s3.put_object_tagging(
        Bucket=bucket, Key="t/retagged",
        Tagging={"TagSet": [{"Key": "class", "Value": "tmp"}]},
    )  # fmt: skip
    head = s3.head_object(Bucket=bucket, Key="t/retagged")
    found = expiration(head.get("Expiration"))
    assert found is not None and found[1] == "tagged"
    assert found[0] == days_expiry(head["LastModified"], 1)
    expiries["t/retagged"] = found[0]
    soon = SOON | {"t/retagged"}
    keep = set(OBJECTS) - soon - {"later/a"}

    # Watch the listing: when each key was first seen gone.
    gone_at: dict[str, float] = {}
    seen = set(OBJECTS) | {"t/retagged"}  # each read back after its PUT

    def watch() -> set[str]:
        now = time.time()
        present = set(listed(s3, bucket))
        seen.update(present)
        for key in seen - present:
            gone_at.setdefault(key, now)
        assert keep <= present, keep - present
        return present

    wait_until(lambda: not (watch() & soon), 60, f"{soon} expired")
    for key in soon:
        # Never before its time (the same clock: gateway and test share it).
        assert gone_at[key] >= expiries[key], (key, gone_at[key], expiries[key])
    assert "later/a" in watch() and time.time() < expiries["later/a"]

    # Written after the others expired: judged by its own time.
    put = s3.put_object(Bucket=bucket, Key="old/new", Body=b"n")
    new_expiry = expiration(put["Expiration"])
    assert new_expiry is not None and new_expiry[0] > time.time() + DAY - 1
    expiries["old/new"] = new_expiry[0]
    seen.add("old/new")
    wait_until(lambda: not ({"later/a", "old/new"} & watch()), 60, "the later ones")
    for key in ("later/a", "old/new"):
        assert gone_at[key] >= expiries[key], key
    # What no rule covers is still there well after the rules had their go.
    last = time.time() + 2 * DAY
    while time.time() < last:
        watch()
        time.sleep(0.1)
    assert set(listed(s3, bucket)) == keep
    for key in keep:
        size = OBJECTS[key][0]
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"x" * size

    expired = soon | {"later/a", "old/new"}
    lines = audit(lgw.data_dir, "LifecycleExpiration", bucket)
    assert Counter(r["key"] for r in lines) == Counter(expired), lines
    sizes = {k: OBJECTS[k][0] for k in OBJECTS} | {"old/new": 1, "t/retagged": 1}
    for r in lines:
        assert r["rule_id"] == (
            "old objects" if r["key"] == "old/new"
            else "tagged" if r["key"] == "t/retagged"
            else OBJECTS[r["key"]][2]
        ), r  # fmt: skip
        assert r["size"] == sizes[r["key"]] and r["user"] == "lifecycle", r
        assert r["time"] >= expiries[r["key"]] - 0.01, r
    after = lifecycle_metrics(lgw.admin_port)
    assert after["expired"] - before["expired"] == len(expired)
    assert after["expired_bytes"] - before["expired_bytes"] == sum(
        sizes[k] for k in expired
    )
    assert after["aborted"] == before["aborted"]
    assert after["runs"] - before["runs"] >= 10  # it kept looking


def _after_day_boundary(margin: float = 0.15) -> None:
    """Return just after a day boundary (a computed instant, not a guess)."""
    wait = DAY - time.time() % DAY
    time.sleep(wait + margin)


def test_overwritten_before_its_expiry_is_judged_by_its_new_time(
    lgw: GatewayProcess, s3: Any, bucket: str
) -> None:
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [rule("all", {})]}
    )
    for _attempt in range(3):
        _after_day_boundary()
        first = expiration(
            s3.put_object(Bucket=bucket, Key="k", Body=b"first")["Expiration"]
        )
        assert first is not None
        time.sleep(max(0.0, first[0] - 0.4 - time.time()))
        put = s3.put_object(Bucket=bucket, Key="k", Body=b"second version")
        if time.time() < first[0]:
            break  # overwritten in time (a loaded machine may miss it)
    else:
        pytest.fail("could not overwrite before the expiry in 3 tries")
    second = expiration(put["Expiration"])
    assert second is not None and second[0] == first[0] + DAY
    runs = lifecycle_metrics(lgw.admin_port)["runs"]
    # From the first version's expiry to just before the second's: kept.
    while time.time() < second[0] - 0.3:
        got = s3.get_object(Bucket=bucket, Key="k")
        assert got["Body"].read() == b"second version"
        time.sleep(0.1)
    assert lifecycle_metrics(lgw.admin_port)["runs"] - runs >= 1  # it looked
    gone = wait_until(lambda: "k" not in listed(s3, bucket), 60, "k expired")
    assert gone >= second[0]
    lines = audit(lgw.data_dir, "LifecycleExpiration", bucket)
    assert [(r["key"], r["size"]) for r in lines] == [("k", len(b"second version"))]


def test_overwrites_racing_a_run_are_kept(
    lgw: GatewayProcess, s3: Any, bucket: str
) -> None:
    """The service deletes the version it judged, not whatever the key
    holds by then: keys overwritten while a run is deleting their expired
    predecessors keep their new version."""
    n = 1000  # one listing page (the most), deleted in 5 transactions
    keys = [f"r/{i:04d}" for i in range(n)]
    put = lambda c, k: c.put_object(Bucket=bucket, Key=k, Body=b"v1")  # noqa: E731
    _parallel(put, keys, 8, lgw.endpoint)
    _until_due(time.time())
    # All due at once: the first run after this takes them all.
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [rule("all", {})]}
    )
    written: dict[str, tuple[str, float]] = {}
    lock = threading.Lock()

    def overwrite(c: Any, key: str) -> None:
        r = c.put_object(Bucket=bucket, Key=key, Body=b"v2 longer")
        found = expiration(r["Expiration"])
        assert found is not None
        with lock:
            written[key] = (r["ETag"], found[0])

    # Writers ready (clients made) before the run: it lasts a fraction of a
    # second.  The last keys, last first: those deleted last.  Few, so that
    # they are checked before they can expire in turn.
    go = threading.Event()
    raced = keys[-150:][::-1]
    writers = threading.Thread(
        target=_parallel, args=(overwrite, raced, 4, lgw.endpoint, go)
    )
    writers.start()
    try:
        # Watch the first key listed: once it is gone, a run is deleting.
        wait_until(
            lambda: _absent(s3, bucket, keys[0]), 15, "a run started", step=0.002
        )
    finally:
        go.set()
        writers.join()
    assert len(written) == len(raced)  # (else _parallel raised in its thread)
    checked = time.time()
    now = listed(s3, bucket)
    # (A new version that could have expired by now proves nothing.)
    judged = [k for k, (_, expiry) in written.items() if checked < expiry]
    lost = [k for k in judged if now.get(k) != written[k][0]]
    assert not lost, f"{len(lost)} new versions deleted: {lost[:5]}"
    assert len(judged) > len(raced) / 2, "too slow to tell"
    s3.delete_bucket_lifecycle(Bucket=bucket)
    lines = audit(lgw.data_dir, "LifecycleExpiration", bucket)
    deleted = Counter(r["key"] for r in lines if r["size"] == 2)
    assert deleted and max(deleted.values()) == 1
    print(f"the run deleted {len(deleted)} of {n}: {n - len(deleted)} new first")


def _until_due(last_write: float, days: int = 1) -> None:
    """Wait (a computed time) until what was written by ``last_write`` is
    due under a Days ``days`` rule."""
    due = (math.floor((last_write + days * DAY) / DAY) + 1) * DAY
    time.sleep(max(0.0, due - time.time() + 0.05))


def _absent(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return True


def _parallel(
    work: Callable[[Any, str], None],
    keys: list[str],
    threads: int,
    endpoint: str,
    go: threading.Event | None = None,
) -> None:
    """``work(client, key)`` for every key, from ``threads`` threads with a
    client each; once ``go`` is set, if given."""
    errors: list[BaseException] = []
    chunks = [keys[i::threads] for i in range(threads)]
    clients = [make_client(endpoint, max_pool_connections=2) for _ in chunks]
    for c in clients:  # connect now
        c.list_buckets()
    if go is not None:
        go.wait()

    def run(c: Any, chunk: list[str]) -> None:
        try:
            for key in chunk:
                work(c, key)
        except BaseException as e:
            errors.append(e)

    ts = [threading.Thread(target=run, args=a) for a in zip(clients, chunks)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


# --- AbortIncompleteMultipartUpload ----------------------------------------------


def test_stale_uploads_are_aborted_and_their_parts_freed(
    lgw: GatewayProcess, s3: Any, bucket: str
) -> None:
    before = lifecycle_metrics(lgw.admin_port)
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [
            {"ID": "stale uploads", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        ]},
    )  # fmt: skip
    blocks_before = stored_blocks(lgw.data_dir)
    created = s3.create_multipart_upload(Bucket=bucket, Key="tmp/big")
    stale = created["UploadId"]
    initiated = time.time()
    # S3 tells when a rule will abort the upload: on create and ListParts.
    due = (math.floor((initiated + DAY) / DAY) + 1) * DAY
    assert created["AbortRuleId"] == "stale uploads"
    assert abs(created["AbortDate"].timestamp() - due) <= 1
    listed = s3.list_parts(Bucket=bucket, Key="tmp/big", UploadId=stale)
    assert (listed["AbortRuleId"], listed["AbortDate"]) == (
        "stale uploads",
        created["AbortDate"],
    )
    for n in (1, 2):
        s3.upload_part(Bucket=bucket, Key="tmp/big", UploadId=stale, PartNumber=n,
                       Body=os.urandom(1 << 20))  # fmt: skip
    stale_blocks = stored_blocks(lgw.data_dir) - blocks_before
    assert len(stale_blocks) >= 2
    kept_created = s3.create_multipart_upload(Bucket=bucket, Key="keep/big")
    assert "AbortDate" not in kept_created and "AbortRuleId" not in kept_created
    kept = kept_created["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="keep/big", UploadId=kept, PartNumber=1,
                          Body=b"kept part")  # fmt: skip
    kept_blocks = stored_blocks(lgw.data_dir) - blocks_before - stale_blocks
    assert kept_blocks

    def uploads() -> set[tuple[str, str]]:
        r = s3.list_multipart_uploads(Bucket=bucket)
        return {(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])}

    assert uploads() == {("tmp/big", stale), ("keep/big", kept)}
    aborted = wait_until(
        lambda: ("tmp/big", stale) not in uploads(), 60, "the stale upload aborted"
    )
    # Due at the next day boundary after initiated + 1 day.
    assert aborted >= (math.floor((initiated + DAY) / DAY) + 1) * DAY - 0.5
    assert refused(
        lambda: s3.list_parts(Bucket=bucket, Key="tmp/big", UploadId=stale)
    ) == ("NoSuchUpload", 404)
    wait_until(
        lambda: not (stale_blocks & stored_blocks(lgw.data_dir)), 60, "parts freed"
    )
    # The other upload stays, well past the time the first one went.
    until = time.time() + DAY + 1
    while time.time() < until:
        assert ("keep/big", kept) in uploads()
        time.sleep(0.2)
    assert kept_blocks <= stored_blocks(lgw.data_dir)
    s3.complete_multipart_upload(
        Bucket=bucket, Key="keep/big", UploadId=kept,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="keep/big")["Body"].read() == b"kept part"
    lines = audit(lgw.data_dir, "LifecycleAbortMultipartUpload", bucket)
    assert [(r["key"], r["upload_id"], r["rule_id"]) for r in lines] == [
        ("tmp/big", stale, "stale uploads")
    ]
    after = lifecycle_metrics(lgw.admin_port)
    assert after["aborted"] - before["aborted"] == 1
    assert after["expired"] == before["expired"]


def test_counters_match_the_audit_log(
    lgw: GatewayProcess, s3: Any, bucket: str
) -> None:
    """Over everything this module's gateway did so far (and one expiry and
    one abort of its own): one audit line per object expired and per
    upload aborted, and the /prom counters agree."""
    s3.put_object(Bucket=bucket, Key="x/1", Body=b"12345")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="x/2")["UploadId"]
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [
            rule("x", {"Prefix": "x/"},
                 AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}),
        ]},
    )  # fmt: skip
    wait_until(
        lambda: not listed(s3, bucket)
        and not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"),
        15, "x/1 expired and x/2's upload aborted",
    )  # fmt: skip
    m = lifecycle_metrics(lgw.admin_port)
    expired = audit(lgw.data_dir, "LifecycleExpiration")
    aborted = audit(lgw.data_dir, "LifecycleAbortMultipartUpload")
    assert [(r["key"], r["size"]) for r in expired if r["bucket"] == bucket] == [
        ("x/1", 5)
    ]
    assert [(r["key"], r["upload_id"]) for r in aborted if r["bucket"] == bucket] == [
        ("x/2", upload)
    ]
    assert m["expired"] == len(expired)
    assert m["expired_bytes"] == sum(r["size"] for r in expired)
    assert m["aborted"] == len(aborted)


# --- restart and --workers ---------------------------------------------------------


def _lease(data_dir: str) -> tuple[str, float, float] | None:
    db = sqlite3.connect(
        f"file:{os.path.join(data_dir, 'om', 'om.db')}?mode=ro", uri=True
    )
    try:
        row = db.execute(
            "SELECT holder, until, last_done FROM leases WHERE name='lifecycle'"
        ).fetchone()
    finally:
        db.close()
    return None if row is None else (str(row[0]), float(row[1]), float(row[2]))


def _set_last_run(data_dir: str, done_at: float) -> None:
    """Record, as a finished run would, that the last run ended at
    ``done_at`` (the gateway is stopped): the test sets the schedule
    instead of racing the clock for it."""
    db = sqlite3.connect(os.path.join(data_dir, "om", "om.db"))
    try:
        with db:
            db.execute(
                "INSERT INTO leases(name, holder, until, last_done) "
                "VALUES('lifecycle', 'a stopped gateway', 0, ?) ON CONFLICT(name) "
                "DO UPDATE SET holder=excluded.holder, until=0, last_done=?",
                (done_at, done_at),
            )
    finally:
        db.close()


def test_a_restart_keeps_the_schedule(tmp_path) -> None:
    """The lease row carries the schedule over a restart: a gateway started
    less than an interval after the last run waits for it (even with an
    expired object pending); one started after a run is overdue runs at
    once, not an interval later."""
    data = str(tmp_path / "data")
    # Written with the service off ("0"), so nothing runs before the test
    # sets the schedule.
    gw = GatewayProcess(data, env=lifecycle_env(interval="0")).start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="restart")
        s3.put_bucket_lifecycle_configuration(
            Bucket="restart",
            LifecycleConfiguration={"Rules": [rule("r", {"Prefix": "old/"})]},
        )
        e1 = expiration(s3.put_object(Bucket="restart", Key="old/1", Body=b"1")[
            "Expiration"])  # fmt: skip
        e2 = expiration(s3.put_object(Bucket="restart", Key="old/2", Body=b"2")[
            "Expiration"])  # fmt: skip
        assert e1 is not None and e2 is not None
    finally:
        assert gw.stop() in (0, -signal.SIGTERM)
    # Both due before the gateway starts again.
    time.sleep(max(0.0, max(e1[0], e2[0]) - time.time() + 0.2))

    # A run finished just now: the next is due an interval later.
    interval = 10.0
    last = time.time()
    _set_last_run(data, last)
    gw = GatewayProcess(data, env=lifecycle_env(interval=f"{interval}s")).start()
    try:
        s3 = make_client(gw.endpoint)
        # Due, but the last run was less than an interval ago: it waits.
        while time.time() < last + interval - 0.5:
            assert "old/1" in listed(s3, "restart"), "ran before its interval"
            time.sleep(0.2)
        gone = wait_until(
            lambda: "old/1" not in listed(s3, "restart"), 60, "old/1 expired"
        )
        assert gone >= last + interval
    finally:
        assert gw.stop() in (0, -signal.SIGTERM)
    lease = _lease(data)
    assert lease is not None and lease[2] >= gone - 1  # that run is recorded

    # A run is overdue (the last ended more than an interval ago): at once.
    interval = 120.0
    _set_last_run(data, time.time() - interval - 1)
    gw = GatewayProcess(data, env=lifecycle_env(interval=f"{interval}s")).start()
    try:
        s3 = make_client(gw.endpoint)
        started = time.time()
        gone = wait_until(
            lambda: "old/2" not in listed(s3, "restart"), 60, "old/2 expired"
        )
        # Within the first poll (2 s after start) and its run: far less than
        # the interval (which an in-memory schedule would wait).
        assert gone - started < interval / 2, gone - started
        lines = audit(data, "LifecycleExpiration", "restart")
        assert [r["key"] for r in lines] == ["old/1", "old/2"]
    finally:
        code = gw.stop()
    assert code in (0, -signal.SIGTERM)
    assert not gw.tracebacks(), gw.log()[-3000:]
    assert_clean(data)


def test_workers_run_it_once(tmp_path) -> None:
    """With --workers 2 each run is one worker's: every key expired is
    logged once, all by the worker that ran; the runs come one interval
    apart, not one per worker."""
    interval = 1.0
    env = lifecycle_env(interval=f"{interval}s")
    gw = GatewayProcess(str(tmp_path / "data"), args=["--workers", "2"], env=env)
    admin = gw.admin_port
    gw.start()
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="workers")
        keys = [f"w/{i:04d}" for i in range(1000)]
        put = lambda c, k: c.put_object(  # noqa: E731
            Bucket="workers", Key=k, Body=k.encode()
        )
        _parallel(put, keys, 8, gw.endpoint)
        # Due once the rule is there: a single run finds them all.
        _until_due(time.time())
        ports = (admin, admin + 1)
        before = lifecycle_metrics(*ports)
        watch_from = time.time()
        s3.put_bucket_lifecycle_configuration(
            Bucket="workers",
            LifecycleConfiguration={"Rules": [rule("w", {"Prefix": "w/"})]},
        )
        wait_until(lambda: not listed(s3, "workers"), 60, "all expired")
        # Runs keep coming, once per interval between both workers.
        time.sleep(max(0.0, watch_from + 8 * interval - time.time()))
        after = lifecycle_metrics(*ports)
        watched = time.time() - watch_from
        runs = after["runs"] - before["runs"]
        # Runs keep coming (however slow a loaded machine makes the looks),
        # but never more than one per interval: not one per worker.
        assert 2 <= runs <= watched / interval + 1, (runs, watched)
        assert after["expired"] - before["expired"] == len(keys)
    finally:
        code = gw.stop(timeout=40)
    assert code in (0, -signal.SIGTERM), gw.log()[-3000:]
    lines = audit(gw.data_dir, "LifecycleExpiration", "workers")
    assert Counter(r["key"] for r in lines) == Counter(keys)
    assert len({r["worker"] for r in lines}) == 1, Counter(r["worker"] for r in lines)
    assert not gw.tracebacks(), gw.log()[-3000:]
    assert_clean(gw.data_dir)


def _insert_due_keys(data_dir: str, bucket: str, count: int) -> None:
    """Many empty keys, written into the stopped gateway's OM directly (as
    bench.py's listing workload does: PUTs would take minutes), all old
    enough to be due under a Days 1 rule."""
    db = sqlite3.connect(os.path.join(data_dir, "om", "om.db"))
    try:
        (bucket_id,) = db.execute(
            "SELECT id FROM buckets WHERE name=?", (bucket,)
        ).fetchone()
        old = time.time() - 10 * DAY
        meta = json.dumps({"ct": "binary/octet-stream", "h": [], "u": []})
        with db:
            db.executemany(
                "INSERT INTO keys(bucket_id, key, size, etag, modified, meta, blocks) "
                "VALUES(?, ?, 0, 'd41d8cd98f00b204e9800998ecf8427e', ?, ?, '[]')",
                ((bucket_id, f"k/{i:06d}".encode(), old, meta) for i in range(count)),
            )
    finally:
        db.close()


def test_a_run_stopped_midway_is_resumed_after_a_restart(tmp_path) -> None:
    """A gateway stopped in the middle of a run has not finished it: the
    next one to start finishes it at once, not an interval later."""
    data = str(tmp_path / "data")
    n = 20_000
    gw = GatewayProcess(data, env=lifecycle_env(interval="0")).start()  # off
    try:
        s3 = make_client(gw.endpoint)
        s3.create_bucket(Bucket="midway")
        s3.put_bucket_lifecycle_configuration(
            Bucket="midway",
            LifecycleConfiguration={"Rules": [rule("all", {"Prefix": "k/"})]},
        )
    finally:
        assert gw.stop() in (0, -signal.SIGTERM)
    _insert_due_keys(data, "midway", n)

    def count(s3: Any) -> int:
        return len(listed(s3, "midway"))

    env = lifecycle_env(interval="1h")
    gw = GatewayProcess(data, env=env).start()
    try:
        # The first run ever comes at once; stopped once it has begun.
        wait_until(
            lambda: lifecycle_metrics(gw.admin_port)["expired"] > 0, 15,
            "the run started", step=0.01,
        )  # fmt: skip
    finally:
        assert gw.stop() in (0, -signal.SIGTERM)
    gw = GatewayProcess(data, env=env).start()
    try:
        s3 = make_client(gw.endpoint)
        left = count(s3)
        assert 0 < left < n, f"{left} left: not stopped mid-run"
        wait_until(lambda: count(s3) == 0, 30, f"the other {left} expired")
    finally:
        code = gw.stop()
    assert code in (0, -signal.SIGTERM)
    lines = audit(data, "LifecycleExpiration", "midway")
    assert Counter(r["key"] for r in lines) == Counter(f"k/{i:06d}" for i in range(n))
    assert not gw.tracebacks(), gw.log()[-3000:]
    assert_clean(data)


def test_expiration_header_on_copy_and_complete(s3: Any, bucket: str) -> None:
    """CopyObject and CompleteMultipartUpload answer x-amz-expiration for
    the object they made, as PutObject does."""
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [rule("d", {"Prefix": "d/"})]}
    )
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    copied = s3.copy_object(Bucket=bucket, Key="d/copy", CopySource=f"{bucket}/src")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="src")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="d/mpu")["UploadId"]
    part = s3.upload_part(
        Bucket=bucket, Key="d/mpu", UploadId=upload, PartNumber=1, Body=b"p"
    )
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="d/mpu", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    for key, answer in (("d/copy", copied), ("d/mpu", done)):
        head = s3.head_object(Bucket=bucket, Key=key)
        assert expiration(answer.get("Expiration")) == (
            days_expiry(head["LastModified"], 1),
            "d",
        ), key
