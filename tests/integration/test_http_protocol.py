"""HTTP-level behaviour, with raw sockets and http.client: Expect, early
refusal, chunked and aws-chunked bodies, error documents, addressing."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import time
import zlib
from base64 import b64encode

import pytest
from lxml import etree

from tests.support.gateway import GatewayProcess
from tests.support.rawhttp import read_response_head


def _request(
    gw: GatewayProcess,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    result = r.status, {k.lower(): v for k, v in r.getheaders()}, data
    conn.close()
    return result


def _error_code(body: bytes) -> str:
    root = etree.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("RequestId")
    assert root.findtext("Message")
    return str(root.findtext("Code"))


def _raw(gw: GatewayProcess) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    return s


_read_response_head = read_response_head


def test_every_response_has_request_id(gateway, s3, bucket) -> None:
    """Success and error responses (one to ``OPTIONS *`` too) carry
    x-amz-request-id, a fresh x-amz-id-2, ``Server: ozs3`` and a Date of
    now in HTTP's format (formatted once a second, so never stale by more)."""
    from email.utils import parsedate_to_datetime

    id2s = set()
    for method, path in [("GET", "/"), ("GET", f"/{bucket}/missing"),
                         ("HEAD", f"/{bucket}/missing"), ("OPTIONS", "*")] * 2:  # fmt: skip
        before = time.time()
        status, headers, _ = _request(gateway, method, path)
        after = time.time()
        assert len(headers["x-amz-request-id"]) == 16, (method, path, status)
        assert len(headers["x-amz-id-2"]) == 16, headers
        id2s.add(headers["x-amz-id-2"])
        assert headers["server"] == "ozs3"
        assert headers["date"].endswith(" GMT"), headers["date"]
        date = parsedate_to_datetime(headers["date"]).timestamp()
        assert int(before) <= date <= after, (headers["date"], before, after)
    assert len(id2s) == 8


def test_error_document_shape(gateway, bucket) -> None:
    """Errors are S3 XML with Code, Message, Resource and RequestId."""
    status, headers, body = _request(gateway, "GET", f"/{bucket}/nokey")
    assert status == 404
    assert headers["content-type"] == "application/xml"
    root = etree.fromstring(body)
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Resource") == f"/{bucket}/nokey"
    assert root.findtext("RequestId") == headers["x-amz-request-id"]


def test_head_error_has_no_body(gateway, bucket) -> None:
    """HEAD errors send the status and headers but no body."""
    status, _, body = _request(gateway, "HEAD", f"/{bucket}/nokey")
    assert status == 404 and body == b""


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/{b}?accelerate"), ("GET", "/{b}/k?torrent"), ("PUT", "/{b}?replication"),
     ("PUT", "/{b}?versioning"), ("POST", "/{b}/k?restore"), ("PUT", "/{b}?website"),
     ("POST", "/{b}?metadataTable"), ("GET", "/{b}?logging"), ("POST", "/{b}/k?select"),
     ("PUT", "/{b}?uploads"), ("DELETE", "/{b}?delete")],
)  # fmt: skip
def test_unknown_subresource_is_not_implemented(
    gateway, s3, bucket, method: str, path: str
) -> None:
    """Sub-resources we do not implement answer 501 and change nothing."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep")
    status, _, body = _request(gateway, method, path.format(b=bucket), body=b"")
    assert status == 501
    assert _error_code(body) == "NotImplemented"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"keep"


def test_unsupported_method_is_method_not_allowed(gateway, bucket) -> None:
    """PATCH is 405 MethodNotAllowed with an Allow header."""
    status, headers, body = _request(gateway, "PATCH", f"/{bucket}/k", body=b"")
    assert status == 405 and "allow" in headers
    assert _error_code(body) == "MethodNotAllowed"


def test_put_to_service_is_method_not_allowed(gateway) -> None:
    """PUT / names no bucket: 405."""
    status, _, body = _request(gateway, "PUT", "/", body=b"")
    assert status == 405 and _error_code(body) == "MethodNotAllowed"


def test_expect_continue_refused_without_reading_body(gateway) -> None:
    """With Expect: 100-continue, a PUT to a missing bucket gets its 404
    without a 100 Continue, and the body is never read."""
    s = _raw(gateway)
    s.sendall(
        b"PUT /no-such-bucket-e/key HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n"
    )
    head = _read_response_head(s)
    assert head.startswith(b"HTTP/1.1 404"), head
    assert b"100 Continue" not in head
    s.close()


def test_expect_continue_accepted_then_stored(gateway, s3, bucket) -> None:
    """An admitted PUT gets 100 Continue first, then stores the body."""
    body = os.urandom(300_000)
    s = _raw(gateway)
    s.sendall(
        f"PUT /{bucket}/cont HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    interim = s.recv(1024)
    assert interim.startswith(b"HTTP/1.1 100 Continue"), interim
    s.sendall(body)
    head = _read_response_head(s)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert hashlib.md5(body).hexdigest().encode() in head
    s.close()
    assert s3.get_object(Bucket=bucket, Key="cont")["Body"].read() == body


def test_refusal_while_client_sends_is_delivered(gateway) -> None:
    """Without Expect, a refused upload's error still reaches the client
    (lingering close: no RST destroys it) while it keeps sending."""
    s = _raw(gateway)
    s.sendall(
        b"PUT /no-such-bucket-f/key HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 20000000\r\n\r\n"
    )
    sent = 0
    chunk = b"x" * 65536
    s.settimeout(0.2)
    head = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and b"\r\n\r\n" not in head:
        try:
            if sent < 20_000_000:
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        try:
            head += s.recv(65536)
        except TimeoutError:
            continue
    assert head.startswith(b"HTTP/1.1 404"), head
    assert b"Connection: close" in head or b"connection: close" in head
    s.close()


def test_chunked_transfer_encoding_body(gateway, s3, bucket) -> None:
    """A Transfer-Encoding: chunked PUT (no Content-Length) is stored."""
    body = os.urandom(2_500_000)
    s = _raw(gateway)
    s.sendall(f"PUT /{bucket}/chunked HTTP/1.1\r\nHost: x\r\n"
              "Transfer-Encoding: chunked\r\n\r\n".encode())  # fmt: skip
    for i in range(0, len(body), 100_000):
        piece = body[i : i + 100_000]
        s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    head = _read_response_head(s)
    assert head.startswith(b"HTTP/1.1 200"), head
    s.close()
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == body


def _aws_chunked(body: bytes, size: int, trailer: bool) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n"
    if trailer:
        crc = b64encode(zlib.crc32(body).to_bytes(4, "big"))
        out += b"x-amz-checksum-crc32:" + crc + b"\r\n"
    return out + b"\r\n"


@pytest.mark.parametrize("http_chunked", [False, True])
def test_aws_chunked_unsigned_trailer_body_is_stored_decoded(
    gateway, s3, bucket, http_chunked: bool
) -> None:
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies (pyarrow, JS SDK) are decoded:
    the object holds the payload, not the framing."""
    body = os.urandom(1_000_003)
    framed = _aws_chunked(body, 65536, trailer=True)
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(body)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "Content-Type": "application/octet-stream",
    }
    s = _raw(gateway)
    head = f"PUT /{bucket}/awsc HTTP/1.1\r\nHost: x\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    if http_chunked:
        s.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        for i in range(0, len(framed), 70_000):
            piece = framed[i : i + 70_000]
            s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        s.sendall(b"0\r\n\r\n")
    else:
        s.sendall((head + f"Content-Length: {len(framed)}\r\n\r\n").encode() + framed)
    resp = _read_response_head(s)
    s.close()
    assert resp.startswith(b"HTTP/1.1 200"), resp
    r = s3.get_object(Bucket=bucket, Key="awsc")
    assert r["Body"].read() == body
    assert r["ContentLength"] == len(body)
    assert "ContentEncoding" not in r  # aws-chunked is framing, not stored


def test_aws_chunked_length_mismatch_is_refused(gateway, s3, bucket) -> None:
    """A decoded length that disagrees with the body stores nothing."""
    body = b"abc" * 1000
    framed = _aws_chunked(body, 1000, trailer=False)
    status, _, resp = _request(gateway, "PUT", f"/{bucket}/mismatch", framed, {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(body) + 1),
    })  # fmt: skip
    assert status == 400 and _error_code(resp) == "IncompleteBody"
    status, _, _ = _request(gateway, "HEAD", f"/{bucket}/mismatch")
    assert status == 404


def test_payload_sha256_mismatch_is_refused(gateway, bucket) -> None:
    """A hex x-amz-content-sha256 that does not match stores nothing."""
    status, _, resp = _request(gateway, "PUT", f"/{bucket}/sha", b"x" * 200_000, {
        "x-amz-content-sha256": hashlib.sha256(b"other").hexdigest(),
    })  # fmt: skip
    assert status == 400 and _error_code(resp) == "XAmzContentSHA256Mismatch"
    assert _request(gateway, "HEAD", f"/{bucket}/sha")[0] == 404


def test_put_without_content_length_is_411(gateway, bucket) -> None:
    """A PUT with neither Content-Length nor chunked framing is refused."""
    s = _raw(gateway)
    s.sendall(f"PUT /{bucket}/nolen HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = _read_response_head(s)
    s.close()
    assert head.startswith(b"HTTP/1.1 411"), head


def test_oversize_xml_body_is_refused_before_reading(gateway, bucket) -> None:
    """A DeleteObjects body over the XML cap is refused by its declared size."""
    s = _raw(gateway)
    s.sendall(
        f"POST /{bucket}?delete HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    head = _read_response_head(s)
    s.close()
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"MaxMessageLengthExceeded" in head or b"Content-Length" in head


def test_delete_objects_malformed_xml(gateway, bucket) -> None:
    """A DeleteObjects body that is not XML is MalformedXML."""
    status, _, body = _request(gateway, "POST", f"/{bucket}?delete", b"<Delete>")
    assert status == 400 and _error_code(body) == "MalformedXML"


def test_delete_objects_entity_bomb_is_refused(gateway, s3, bucket) -> None:
    """DTDs and entities in request XML are refused, not expanded."""
    s3.put_object(Bucket=bucket, Key="safe", Body=b"x")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "safe">]>'
            b"<Delete><Object><Key>&a;</Key></Object></Delete>")  # fmt: skip
    status, _, body = _request(gateway, "POST", f"/{bucket}?delete", bomb)
    assert status == 400 and _error_code(body) == "MalformedXML"
    assert s3.get_object(Bucket=bucket, Key="safe")["Body"].read() == b"x"


def test_keep_alive_after_small_refused_put(gateway, bucket) -> None:
    """A refused small PUT whose body was fully read keeps the connection."""
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    conn.request("PUT", "/no-such-bucket-k/key", body=b"tiny")
    r = conn.getresponse()
    r.read()
    assert r.status == 404
    conn.request("GET", f"/{bucket}?list-type=2")
    r = conn.getresponse()
    assert r.status == 200
    r.read()
    conn.close()


def test_client_disconnect_mid_upload_leaves_nothing(gateway, s3, bucket) -> None:
    """An upload cut off mid-body is not visible and its blocks go away."""
    s3.put_object(Bucket=bucket, Key="cut", Body=b"old")
    s = _raw(gateway)
    s.sendall(f"PUT /{bucket}/cut HTTP/1.1\r\nHost: x\r\n"
              "Content-Length: 50000000\r\n\r\n".encode())  # fmt: skip
    s.sendall(b"y" * 5_000_000)
    time.sleep(0.3)
    s.close()
    time.sleep(0.5)
    assert s3.get_object(Bucket=bucket, Key="cut")["Body"].read() == b"old"


def test_virtual_host_style_addressing(tmp_path) -> None:
    """With ozone.s3g.domain.name set, bucket.domain:port/key works like
    /bucket/key, and the bare domain serves ListBuckets."""
    gw = GatewayProcess(
        str(tmp_path / "data"),
        env={"OZONE-SITE.XML_ozone.s3g.domain.name": "s3.test,other.example"},
    )
    gw.start()
    try:
        host = f"s3.test:{gw.port}"
        assert _request(gw, "PUT", "/", b"", {"Host": f"vbucket.{host}"})[0] == 200
        status, _, _ = _request(gw, "PUT", "/dir//k%20y", b"vhost-data",
                                {"Host": f"vbucket.{host}"})  # fmt: skip
        assert status == 200
        status, _, body = _request(gw, "GET", "/vbucket/dir//k%20y")
        assert status == 200 and body == b"vhost-data"
        status, _, body = _request(gw, "GET", "/dir//k%20y",
                                   headers={"Host": f"vbucket.{host}"})  # fmt: skip
        assert body == b"vhost-data"
        status, _, body = _request(gw, "GET", "/", headers={"Host": host})
        assert b"<Name>vbucket</Name>" in body
        status, _, body = _request(gw, "GET", "/?list-type=2",
                                   headers={"Host": "vbucket.other.example"})  # fmt: skip
        assert b"<Key>dir//k y</Key>" in body
    finally:
        gw.stop()
    assert not gw.tracebacks(), gw.log()


def test_too_large_put_is_refused_before_body(gateway, bucket) -> None:
    """A declared size over 5 GiB gets EntityTooLarge without its body."""
    s = _raw(gateway)
    s.sendall(
        f"PUT /{bucket}/huge HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 6000000000\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    head = _read_response_head(s)
    s.close()
    assert head.startswith(b"HTTP/1.1 400"), head


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_presigned_urls_work_with_security_off(gateway, s3, bucket, version) -> None:
    """Presigned GET/PUT URLs (SigV2 query: boto3's default for custom
    endpoints; SigV4 query) are parsed and served."""
    import urllib.request

    from tests.integration.conftest import make_client

    client = make_client(gateway.endpoint, signature_version=version)
    put_url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=600
    )
    assert ("X-Amz-Credential" in put_url) == (version == "s3v4")
    req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    get_url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=600
    )
    with urllib.request.urlopen(get_url) as r:
        assert r.read() == b"presigned body"


def test_malformed_authorization_is_refused(gateway, bucket) -> None:
    """An Authorization header that parses as neither SigV4 nor SigV2 is 400."""
    status, _, body = _request(gateway, "GET", f"/{bucket}",
                               headers={"Authorization": "Bearer xyz"})  # fmt: skip
    assert status == 400 and _error_code(body) == "AuthorizationHeaderMalformed"
