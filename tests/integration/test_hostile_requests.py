"""Requests that used to slip past the S3 front door: keys and Host headers
the router refused in HTML (leaving their uploaded blocks behind), bodies
over the size limits, and numbers Python reads but S3 does not.  Each gets
S3's answer (XML with a request id) and leaves no block behind."""

from __future__ import annotations

import datetime
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import REACTORS, make_client
from tests.support.gateway import GatewayProcess
from tests.support.rawhttp import read_response
from tests.support.storecheck import stored_blocks

MiB = 1024 * 1024
MAX_OBJECT = 1_000_000  # ozone.s3g.max.object.size below


@pytest.fixture(scope="module", params=REACTORS)
def lgw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(
        str(tmp_path_factory.mktemp("limits") / "data"),
        reactor=request.param,
        env={
            "OZONE-SITE.XML_ozone.s3g.max.object.size": "1MB",
            "OZONE-SITE.XML_ozone.s3g.request.timeout": "5s",
        },
    ).start()
    yield gw
    gw.stop()
    assert not gw.tracebacks(), gw.log()


@pytest.fixture
def bucket(lgw: GatewayProcess) -> str:
    name = f"h-{uuid.uuid4().hex[:12]}"
    make_client(lgw.endpoint).create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


def _exchange(gw: GatewayProcess, data: bytes) -> tuple[bytes, bytes]:
    """Send ``data``, return the response's head and (Content-Length) body."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
        s.sendall(data)
        return read_response(s)


def _assert_s3_error(head: bytes, body: bytes, status: int, code: str) -> None:
    assert head.startswith(b"HTTP/1.1 %d" % status), head
    assert b"content-type: application/xml" in head.lower(), head
    assert body.startswith(b"<?xml"), body[:200]
    assert f"<Code>{code}</Code>".encode() in body, body
    assert b"<RequestId>" in body and b"x-amz-request-id" in head.lower()


def _wait_for_blocks(gw: GatewayProcess, expected: set[object]) -> None:
    # Aborted and deleted blocks are reclaimed in the background (debounced).
    deadline = time.monotonic() + 30
    while stored_blocks(gw.data_dir) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stored_blocks(gw.data_dir) == expected


# ------------------------------------------------------------ item 12


def test_keys_with_newlines_and_odd_hosts_are_served_and_leave_no_blocks(
    lgw: GatewayProcess, bucket: str
) -> None:
    """Keys with a newline (or CR, tab) can be PUT, listed, read and deleted,
    as S3 allows; Host headers werkzeug refused (`a..b`, a 300-character
    label) do not matter to a path-style request.  Once deleted, no block
    of theirs remains."""
    s3 = make_client(lgw.endpoint)
    before = stored_blocks(lgw.data_dir)
    body = b"n" * (MAX_OBJECT - 10)
    keys = ["line1\nline2", "\n", "tab\there", "cr\rlf\r\n", "end\n"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=body)  # type: ignore[attr-defined]
        got = s3.get_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
        assert got["Body"].read() == body
    listed = s3.list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
    assert sorted(c["Key"] for c in listed["Contents"]) == sorted(keys)
    for host in (b"a..b", b"a" * 300 + b".example.com", b"-x-.", b"[::1"):
        head, resp = _exchange(
            lgw,
            b"PUT /%s/odd-host HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n\r\n"
            b"hello" % (bucket.encode(), host),
        )
        assert head.startswith(b"HTTP/1.1 200"), (host, head, resp)
        assert s3.get_object(Bucket=bucket, Key="odd-host")["Body"].read() == b"hello"  # type: ignore[attr-defined]
    for key in [*keys, "odd-host"]:
        s3.delete_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # type: ignore[attr-defined]
    _wait_for_blocks(lgw, before)


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /%(b)s/%%ff HTTP/1.1",
        b"PUT /%(b)s/%%ff HTTP/1.1",
        b"GET /%(b)s/a%%ffb?acl HTTP/1.1",
        b"OPTIONS * HTTP/1.1",
        b"GET * HTTP/1.1",
        b"DELETE /%%c3%%28 HTTP/1.1",
    ],
)
def test_every_refusal_is_s3_xml(
    lgw: GatewayProcess, bucket: str, request_line: bytes
) -> None:
    line = request_line % {b"b": bucket.encode()}
    head, body = _exchange(lgw, line + b"\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    _assert_s3_error(head, body, 400, "InvalidURI")


# ------------------------------------------------------------ item 13


def _stalled_upload(
    gw: GatewayProcess, head: bytes, first: bytes
) -> tuple[bytes, bytes]:
    """Send a request head and the first part of its body, then stop
    sending: the answer must come without the rest of the body."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
        s.sendall(head)
        try:
            s.sendall(first)
        except OSError:
            pass  # refused, and the connection closed, mid-send
        return read_response(s)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def _over_the_limit_body() -> bytes:
    """Chunks of 64 KiB, 1.2 MB in all (over MAX_OBJECT), no final chunk."""
    piece = b"z" * 65536
    return b"".join(_chunk(piece) for _ in range(19))


def test_chunked_put_over_the_limit_is_refused_as_it_arrives(
    lgw: GatewayProcess, bucket: str
) -> None:
    """Transfer-Encoding: chunked declares no length: the limit is enforced
    on the bytes as they arrive (the body here never ends)."""
    before = stored_blocks(lgw.data_dir)
    head, body = _stalled_upload(
        lgw,
        b"PUT /%s/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        % bucket.encode(),
        _over_the_limit_body(),
    )
    _assert_s3_error(head, body, 400, "EntityTooLarge")
    _assert_absent(lgw, bucket, "chunked")
    _wait_for_blocks(lgw, before)


def test_aws_chunked_put_without_decoded_length_is_held_to_the_limit(
    lgw: GatewayProcess, bucket: str
) -> None:
    before = stored_blocks(lgw.data_dir)
    framed = 3 * MiB + 100 * 64  # what the whole body would have been
    head, body = _stalled_upload(
        lgw,
        b"PUT /%s/aws-chunked HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
        b"Content-Encoding: aws-chunked\r\n"
        b"x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\r\n"
        % (bucket.encode(), framed),
        _over_the_limit_body(),
    )
    _assert_s3_error(head, body, 400, "EntityTooLarge")
    _assert_absent(lgw, bucket, "aws-chunked")
    _wait_for_blocks(lgw, before)


def test_aws_chunked_put_longer_than_declared_is_refused_at_once(
    lgw: GatewayProcess, bucket: str
) -> None:
    """x-amz-decoded-content-length: 1000, then more: IncompleteBody (as S3
    answers a decoded length that does not match) before the rest arrives,
    and nothing is stored."""
    before = stored_blocks(lgw.data_dir)
    head, body = _stalled_upload(
        lgw,
        b"PUT /%s/liar HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
        b"Content-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 1000\r\n"
        b"x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\r\n"
        % (bucket.encode(), 3 * MiB + 100 * 64),
        _over_the_limit_body(),
    )
    _assert_s3_error(head, body, 400, "IncompleteBody")
    assert b"<NumberBytesExpected>1000</NumberBytesExpected>" in body
    _assert_absent(lgw, bucket, "liar")
    _wait_for_blocks(lgw, before)


def test_puts_within_the_limit_still_work(lgw: GatewayProcess, bucket: str) -> None:
    data = b"q" * MAX_OBJECT
    framed = b"".join(_chunk(data[i : i + 65536]) for i in range(0, len(data), 65536))
    for name, extra, payload in (
        (b"te", b"Transfer-Encoding: chunked\r\n", framed + b"0\r\n\r\n"),
        (
            b"awsc",
            b"Content-Encoding: aws-chunked\r\n"
            b"x-amz-decoded-content-length: %d\r\n"
            b"x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n"
            b"Content-Length: %d\r\n" % (len(data), len(framed) + 5),
            framed + b"0\r\n\r\n",
        ),
    ):
        head, body = _exchange(
            lgw,
            b"PUT /%s/%s HTTP/1.1\r\nHost: x\r\n%s\r\n%s"
            % (bucket.encode(), name, extra, payload),
        )
        assert head.startswith(b"HTTP/1.1 200"), (head, body)
        got = make_client(lgw.endpoint).get_object(Bucket=bucket, Key=name.decode())  # type: ignore[attr-defined]
        assert got["Body"].read() == data


def _assert_absent(gw: GatewayProcess, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as e:
        make_client(gw.endpoint).head_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    assert e.value.response["Error"]["Code"] == "404"


# ------------------------------------------------------------ item 16

_RETAIN = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
_LOCKS: list[dict[str, object]] = [
    {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": _RETAIN},
    {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": _RETAIN},
    {"ObjectLockLegalHoldStatus": "ON"},
    {"ObjectLockLegalHoldStatus": "OFF"},
]


def _code(e: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = e.value.response
    return (
        r["Error"]["Code"],
        r["ResponseMetadata"]["HTTPStatusCode"],
        r["Error"]["Message"],
    )


def test_object_lock_is_refused_never_silently_accepted(
    lgw: GatewayProcess, bucket: str
) -> None:
    """Object Lock headers on PutObject, CopyObject and CreateMultipartUpload
    get S3's answer for a bucket without Object Lock; CreateBucket asking for
    it is 501; nothing is created."""
    s3 = make_client(lgw.endpoint)
    s3.put_object(Bucket=bucket, Key="src", Body=b"s")  # type: ignore[attr-defined]
    missing = ("InvalidRequest", 400, "Bucket is missing ObjectLockConfiguration")
    for lock in _LOCKS:
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket, Key="locked", Body=b"x" * 1000, **lock)  # type: ignore[attr-defined]
        assert _code(e) == missing, lock
        with pytest.raises(ClientError) as e:
            s3.copy_object(  # type: ignore[attr-defined]
                Bucket=bucket, Key="locked", CopySource=f"{bucket}/src", **lock
            )
        assert _code(e) == missing, lock
        with pytest.raises(ClientError) as e:
            s3.create_multipart_upload(Bucket=bucket, Key="locked", **lock)  # type: ignore[attr-defined]
        assert _code(e) == missing, lock
    _assert_absent(lgw, bucket, "locked")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []  # type: ignore[attr-defined]
    name = f"lock-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)  # type: ignore[attr-defined]
    assert _code(e)[:2] == ("NotImplemented", 501)
    assert b"<Header>x-amz-bucket-object-lock-enabled</Header>" in _raw_error(
        lgw,
        b"PUT /%s HTTP/1.1\r\nx-amz-bucket-object-lock-enabled: true\r\n"
        % name.encode(),
    )
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)  # type: ignore[attr-defined]
    assert _code(e)[1] == 404
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=False)  # type: ignore[attr-defined]


def test_object_lock_subresources_are_not_served(
    lgw: GatewayProcess, bucket: str
) -> None:
    s3 = make_client(lgw.endpoint)
    s3.put_object(Bucket=bucket, Key="k", Body=b"k")  # type: ignore[attr-defined]
    calls = [
        lambda: s3.get_object_lock_configuration(Bucket=bucket),  # type: ignore[attr-defined]
        lambda: s3.put_object_lock_configuration(  # type: ignore[attr-defined]
            Bucket=bucket,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"},
        ),
        lambda: s3.get_object_retention(Bucket=bucket, Key="k"),  # type: ignore[attr-defined]
        lambda: s3.put_object_retention(  # type: ignore[attr-defined]
            Bucket=bucket,
            Key="k",
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _RETAIN},
        ),
        lambda: s3.get_object_legal_hold(Bucket=bucket, Key="k"),  # type: ignore[attr-defined]
        lambda: s3.put_object_legal_hold(  # type: ignore[attr-defined]
            Bucket=bucket, Key="k", LegalHold={"Status": "ON"}
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert _code(e)[:2] == ("NotImplemented", 501)


@pytest.mark.parametrize(
    ("header", "operations"),
    [
        (b"x-amz-server-side-encryption: AES256", "put copy mpu"),
        (b"x-amz-server-side-encryption: aws:kms", "put copy mpu"),
        (b"x-amz-server-side-encryption-customer-algorithm: AES256", "put get mpu"),
        (b"x-amz-server-side-encryption-customer-key: a2V5", "put"),
        (b"x-amz-copy-source-server-side-encryption-customer-key: a2V5", "copy"),
        (b"x-amz-website-redirect-location: /elsewhere", "put copy mpu"),
        (b'If-None-Match: "0123"', "put copy"),
        (b"x-amz-if-match-size: 3", "delete"),
        (b"x-amz-write-offset-bytes: 0", "put"),
    ],
)
def test_headers_asking_for_missing_features_are_refused(
    lgw: GatewayProcess, bucket: str, header: bytes, operations: str
) -> None:
    """Encryption, website redirects, If-None-Match other than * on a write,
    deletes conditional on the size, appends: 501 NotImplemented naming the
    header, and nothing changes."""
    s3 = make_client(lgw.endpoint)
    s3.put_object(Bucket=bucket, Key="kept", Body=b"kept")  # type: ignore[attr-defined]
    b = bucket.encode()
    requests = {
        "put": b"PUT /%s/new HTTP/1.1\r\nContent-Length: 3\r\n" % b,
        "copy": b"PUT /%s/new HTTP/1.1\r\nx-amz-copy-source: /%s/kept\r\n" % (b, b),
        "mpu": b"POST /%s/new?uploads HTTP/1.1\r\n" % b,
        "get": b"GET /%s/kept HTTP/1.1\r\n" % b,
        "delete": b"DELETE /%s/kept HTTP/1.1\r\n" % b,
    }
    for op in operations.split():
        body = _raw_error(lgw, requests[op] + header + b"\r\n", b"abc" * (op == "put"))
        assert b"<Code>NotImplemented</Code>" in body, (op, body)
        name = header.split(b":")[0].lower()
        assert b"<Header>%s</Header>" % name in body, (op, body)
    _assert_absent(lgw, bucket, "new")
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"kept"  # type: ignore[attr-defined]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []  # type: ignore[attr-defined]


def test_harmless_headers_still_pass(lgw: GatewayProcess, bucket: str) -> None:
    s3 = make_client(lgw.endpoint)
    s3.put_object(Bucket=bucket, Key="k", Body=b"k", RequestPayer="requester")  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key="k", Body=b"k", ACL="private")  # type: ignore[attr-defined]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"k"  # type: ignore[attr-defined]


def _raw_error(gw: GatewayProcess, head: bytes, body: bytes = b"") -> bytes:
    """Send a request (Host and the blank line added); return the error body
    after checking it is S3 XML."""
    if b"content-length" not in head.lower():
        head += b"Content-Length: %d\r\n" % len(body)
    status_head, answer = _exchange(gw, head + b"Host: x\r\n\r\n" + body)
    assert status_head.split(b" ")[1] in (b"400", b"501"), status_head
    assert answer.startswith(b"<?xml") and b"<RequestId>" in answer, answer
    return answer


# ------------------------------------------------------------ item 14


def test_huge_or_foreign_numbers_never_reach_int(
    lgw: GatewayProcess, bucket: str
) -> None:
    """A Range with 5,000 digits or Arabic-Indic digits is ignored (200, the
    whole object), as S3 ignores an invalid Range; the same in
    x-amz-copy-source-range, or a <PartNumber>\u0661</PartNumber>, is a 400.
    No request gets a 500 (the gateway's log has no traceback)."""
    s3 = make_client(lgw.endpoint)
    s3.put_object(Bucket=bucket, Key="n", Body=b"0123456789")  # type: ignore[attr-defined]
    b = bucket.encode()
    huge = b"9" * 5000
    for value in (b"bytes=0-" + huge, b"bytes=" + huge + b"-", b"bytes=-" + huge,
                  "bytes=\u0660-\u0663".encode(), b"bytes=0-1_0"):  # fmt: skip
        head, body = _exchange(
            lgw, b"GET /%s/n HTTP/1.1\r\nHost: x\r\nRange: %s\r\n\r\n" % (b, value)
        )
        assert head.startswith(b"HTTP/1.1 200"), (value[:20], head)
        assert body == b"0123456789"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]  # type: ignore[attr-defined]
    for value in (b"bytes=0-" + huge, "bytes=\u0660-\u0663".encode()):
        head, body = _exchange(
            lgw,
            b"PUT /%s/m?partNumber=1&uploadId=%s HTTP/1.1\r\nHost: x\r\n"
            b"x-amz-copy-source: /%s/n\r\nx-amz-copy-source-range: %s\r\n"
            b"Content-Length: 0\r\n\r\n" % (b, upload.encode(), b, value),
        )
        _assert_s3_error(head, body, 400, "InvalidArgument")
    for number in ("\u0661", "9" * 5000):
        complete = (
            "<CompleteMultipartUpload><Part><PartNumber>"
            f"{number}</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"
        ).encode()
        head, body = _exchange(
            lgw,
            b"POST /%s/m?uploadId=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            % (b, upload.encode(), len(complete))
            + complete,
        )
        _assert_s3_error(head, body, 400, "MalformedXML")
    for number in ("\u0661", "9" * 5000):
        head, body = _exchange(
            lgw,
            b"PUT /%s/m?partNumber=%s&uploadId=%s HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 1\r\n\r\nx"
            % (b, quote(number).encode(), upload.encode()),
        )
        _assert_s3_error(head, body, 400, "InvalidArgument")
