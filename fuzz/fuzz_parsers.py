"""Coverage-guided fuzzing (atheris) of the pure parsers that take what a
client sends: aws-chunked framing, routing, SigV4/SigV2 parsing and
canonicalisation, Range, XML bodies, ozone-site.xml.

    python fuzz/fuzz_parsers.py TARGET -atheris_runs=200000
    python fuzz/fuzz_parsers.py all -max_total_time=60   # each target in turn

Only the S3 errors each parser is meant to raise are allowed; anything else
is a crash (atheris reports it and exits non-zero).
"""

from __future__ import annotations

import base64
import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

with atheris.instrument_imports():
    from ozs3.config import ConfigError, parse_site_xml
    from ozs3.s3 import (
        acl,
        bucket_access,
        cors_xml,
        headers,
        policy,
        policy_json,
        post_form,
        routing,
        signed_request,
        sigv2,
        sigv4,
        sigv4_parse,
        xml_parse,
    )
    from ozs3.s3.chunked import AwsChunkedDecoder, AwsChunkedError
    from ozs3.s3.errors import S3Error

EXPECTED = (S3Error, AwsChunkedError, ConfigError)


def chunked(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    split = fdp.ConsumeIntInRange(0, 64)
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    d = AwsChunkedDecoder()
    total = 0
    try:
        for i in range(0, len(body), split or 1):
            total += sum(len(p) for p in d.feed(body[i : i + (split or 1)]))
    except AwsChunkedError:
        return
    assert total == d.decoded


def route(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    method = fdp.PickValueInList(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"])
    host = fdp.ConsumeUnicodeNoSurrogates(40)
    uri = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        req = routing.parse_request(method, host, b"/" + uri, ["s3.test", "localhost"])
        from ozs3.s3.operations import lookup

        lookup(req)
    except S3Error:
        pass


def signatures(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    auth = fdp.ConsumeUnicodeNoSurrogates(200)
    path = fdp.ConsumeBytes(60)
    query = fdp.ConsumeBytes(200)
    req = signed_request.HttpRequest(
        "GET", b"/" + path, query,
        (("host", "h:1"), ("authorization", auth), ("x-amz-date", "20261201T000000Z"),
         ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")),
    )  # fmt: skip
    try:
        v4 = sigv4_parse.parse_sigv4(req)
        if v4 is not None:
            sigv4.verify_sigv4(req, v4, "secret", 1_795_000_000.0)
        v2 = sigv2.parse_sigv2(req)
        if v2 is not None:
            sigv2.verify_sigv2(req, v2, "secret", 1_795_000_000.0)
    except S3Error:
        pass


def ranges(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    size = fdp.ConsumeIntInRange(0, 1 << 40)
    text = fdp.ConsumeUnicodeNoSurrogates(64)
    try:
        r = headers.parse_range(text, size)
    except S3Error:
        return
    if r is not None:
        assert 0 <= r[0] <= r[1] < size


def xml_bodies(data: bytes) -> None:
    for parse in (xml_parse.parse_delete, xml_parse.parse_complete,
                  xml_parse.parse_create_bucket, acl.parse_acl_xml):  # fmt: skip
        try:
            parse(data)
        except S3Error:
            pass


def access_bodies(data: bytes) -> None:
    """Bucket configurations a client puts: CORS, a bucket policy (then
    judged against a request), the public access block, ownership, ACL
    grant headers (the body as a header's value)."""
    for parse in (cors_xml.parse_cors, bucket_access.parse_public_access_block,
                  bucket_access.parse_ownership):  # fmt: skip
        try:
            parse(data)
        except S3Error:
            pass
    value = data.decode("latin-1")
    try:
        got = acl.requested({"x-amz-grant-read": value}.get, "o", "o", False)
    except S3Error:
        pass
    else:
        assert got is not None and all(g.permission == "READ" for g in got)
    try:
        p = policy_json.parse_policy(data, "bkt")
    except S3Error:
        return
    request = policy.Request(None, "s3:GetObject", "arn:aws:s3:::bkt/k",
                             {"aws:sourceip": "127.0.0.1", "s3:prefix": "a"})  # fmt: skip
    assert policy.evaluate(p, request) in (None, policy.ALLOW, policy.DENY)
    assert policy_json.decode_policy(p.text) == p
    _ = p.is_public


def post_forms(data: bytes) -> None:
    """A POST Object form's policy and fields."""
    fdp = atheris.FuzzedDataProvider(data)
    fields = {
        fdp.ConsumeUnicodeNoSurrogates(12).lower(): fdp.ConsumeUnicodeNoSurrogates(24)
        for _ in range(fdp.ConsumeIntInRange(0, 6))
    }
    document = fdp.ConsumeBytes(fdp.remaining_bytes())
    encoded = base64.b64encode(document).decode()
    for check in (
        lambda: post_form.check_policy(encoded, fields, "bkt", 0.0),
        lambda: post_form.post_auth(fields),
        lambda: post_form.field_headers(fields),
        lambda: post_form.object_key(fields, "f"),
    ):
        try:
            check()
        except S3Error:
            pass


def site_xml(data: bytes) -> None:
    try:
        parse_site_xml(data)
    except ConfigError:
        pass


TARGETS = {
    "chunked": chunked,
    "route": route,
    "signatures": signatures,
    "ranges": ranges,
    "xml": xml_bodies,
    "config": site_xml,
    "access": access_bodies,
    "post": post_forms,
}


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "all"
    args = [sys.argv[0], *sys.argv[2:]]
    if name == "all":
        import subprocess

        for target in TARGETS:
            subprocess.run(
                [sys.executable, __file__, target, *sys.argv[2:]], check=True
            )
        return
    atheris.Setup(args, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
