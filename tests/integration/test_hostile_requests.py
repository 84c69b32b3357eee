"""Requests that used to slip past the S3 front door: keys and Host headers
the router refused in HTML (leaving their uploaded blocks behind), bodies
over the size limits, and numbers Python reads but S3 does not.  Each gets
S3's answer (XML with a request id) and leaves no block behind."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import REACTORS, make_client
from tests.support.gateway import GatewayProcess
from tests.support.rawhttp import read_response_head
from tests.support.storecheck import block_files

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
        return _read_response(s)


def _read_response(s: socket.socket) -> tuple[bytes, bytes]:
    got = read_response_head(s)
    head, _, body = got.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        more = s.recv(65536)
        if not more:
            break
        body += more
    return head, body


def _assert_s3_error(head: bytes, body: bytes, status: int, code: str) -> None:
    assert head.startswith(b"HTTP/1.1 %d" % status), head
    assert b"content-type: application/xml" in head.lower(), head
    assert body.startswith(b"<?xml"), body[:200]
    assert f"<Code>{code}</Code>".encode() in body, body
    assert b"<RequestId>" in body and b"x-amz-request-id" in head.lower()


def _wait_for_blocks(gw: GatewayProcess, expected: set[object]) -> None:
    # Aborted and deleted blocks are reclaimed in the background (debounced).
    deadline = time.monotonic() + 30
    while block_files(gw.data_dir) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert block_files(gw.data_dir) == expected


# ------------------------------------------------------------ item 12


def test_keys_with_newlines_and_odd_hosts_are_served_and_leave_no_blocks(
    lgw: GatewayProcess, bucket: str
) -> None:
    """Keys with a newline (or CR, tab) can be PUT, listed, read and deleted,
    as S3 allows; Host headers werkzeug refused (`a..b`, a 300-character
    label) do not matter to a path-style request.  Once deleted, no block
    of theirs remains."""
    s3 = make_client(lgw.endpoint)
    before = block_files(lgw.data_dir)
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
        return _read_response(s)


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
    before = block_files(lgw.data_dir)
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
    before = block_files(lgw.data_dir)
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
    before = block_files(lgw.data_dir)
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
