"""Security on, request bodies and the audit log: a buffered body must match
what was signed (x-amz-content-sha256, x-amz-checksum-*, Content-MD5); no
body byte is buffered before the request is authenticated; operations the
gateway does not serve answer 403 before 501; audit lines name the verified
user and the S3 operation."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.conftest import REACTORS
from tests.integration.test_security import client, getsecret, secure_gateway
from tests.support.gateway import GatewayProcess
from tests.support.rawhttp import read_response_head

MiB = 1024 * 1024
BUCKET = "bodies"


@pytest.fixture(scope="module", params=REACTORS)
def secure(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "secb", request.param)


@pytest.fixture(scope="module")
def secret(secure: GatewayProcess) -> str:
    return getsecret(secure.data_dir, "alice")


@pytest.fixture(scope="module")
def alice(secure, secret):  # type: ignore[no-untyped-def]
    c = client(secure, "alice", secret)
    c.create_bucket(Bucket=BUCKET)
    return c


def _delete_xml(*keys: str) -> bytes:
    objects = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f"<Delete>{objects}</Delete>".encode()


def _sign_v4(gw: GatewayProcess, method: str, path: str, body: bytes,
             key: str, secret: str, **headers: str) -> dict[str, str]:  # fmt: skip
    """The headers botocore signs for ``body`` (its SHA-256 in
    x-amz-content-sha256, as over http)."""
    req = AWSRequest(method=method, url=gw.endpoint + path, data=body,
                     headers=headers)  # fmt: skip
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def _send(gw: GatewayProcess, method: str, path: str, body: bytes,
          headers: dict[str, str]) -> tuple[int, bytes, str]:  # fmt: skip
    """Send exactly these headers (http.client adds Host and Content-Length)."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    out = r.status, r.read(), r.getheader("x-amz-request-id") or ""
    conn.close()
    return out


def _keys(c: Any) -> set[str]:
    return {o["Key"] for o in c.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _captured(c: Any, operation: str) -> list[tuple[dict[str, str], bytes]]:
    """(headers, body) of every ``operation`` request ``c`` sends."""
    seen: list[tuple[dict[str, str], bytes]] = []

    def keep(request: Any, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else b""
        headers = {
            k: v.decode("latin-1") if isinstance(v, bytes) else str(v)
            for k, v in request.headers.items()
        }
        seen.append((headers, body))

    c.meta.events.register(f"before-send.s3.{operation}", keep)
    return seen


# -- item 6: the body must be the one signed ----------------------------------


def test_delete_objects_body_must_match_the_signed_hash(secure, alice, secret) -> None:
    """A DeleteObjects signed for one body and sent with another is
    XAmzContentSHA256Mismatch and deletes nothing; the body signed works."""
    alice.put_object(Bucket=BUCKET, Key="signed-a", Body=b"a")
    alice.put_object(Bucket=BUCKET, Key="victim-b", Body=b"b")
    signed_body = _delete_xml("signed-a")
    headers = _sign_v4(secure, "POST", f"/{BUCKET}?delete", signed_body, "alice",
                       secret)  # fmt: skip
    status, body, _ = _send(secure, "POST", f"/{BUCKET}?delete",
                            _delete_xml("victim-b"), headers)  # fmt: skip
    assert status == 400, body
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in body
    assert {"signed-a", "victim-b"} <= _keys(alice)
    status, body, _ = _send(secure, "POST", f"/{BUCKET}?delete", signed_body, headers)
    assert status == 200, body
    assert "signed-a" not in _keys(alice) and "victim-b" in _keys(alice)


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_replayed_boto3_delete_objects_with_another_key(
    secure, alice, secret, version
) -> None:
    """A genuine boto3 DeleteObjects (SigV4: hex payload hash and
    x-amz-checksum-crc32; SigV2: the CRC32 alone) replayed with a body naming
    another key is refused, and that key survives."""
    c = client(secure, "alice", secret, signature_version=version)
    c.put_object(Bucket=BUCKET, Key="first", Body=b"1")
    c.put_object(Bucket=BUCKET, Key="second", Body=b"2")
    seen = _captured(c, "DeleteObjects")
    c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "first"}]})
    sent, body = seen[0]
    # http.client sends Host and the replay's own Content-Length.
    headers = {k: v for k, v in sent.items()
               if k.lower() not in ("host", "content-length")}  # fmt: skip
    assert "x-amz-checksum-crc32" in {k.lower() for k in headers}
    replay = body.replace(b"first", b"second")
    assert replay != body
    status, answer, _ = _send(secure, "POST", f"/{BUCKET}?delete", replay, headers)
    expected = b"BadDigest" if version == "s3" else b"XAmzContentSHA256Mismatch"
    assert status == 400 and b"<Code>" + expected in answer, answer
    assert "second" in _keys(c)


def test_complete_multipart_body_must_match_the_signed_hash(secure, alice,
                                                             secret) -> None:  # fmt: skip
    """A Complete signed for parts [1, 2] and sent with [2] alone is refused;
    the upload and both parts are still there, and the signed body completes
    it with both."""
    uid = alice.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
    p1, p2 = os.urandom(5 * MiB), b"tail"
    etags = [alice.upload_part(Bucket=BUCKET, Key="mp", UploadId=uid, PartNumber=n,
                               Body=b)["ETag"] for n, b in ((1, p1), (2, p2))]  # fmt: skip

    def xml(*numbers: int) -> bytes:
        parts = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n - 1]}"
                        "</ETag></Part>" for n in numbers)  # fmt: skip
        return f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()

    path = f"/{BUCKET}/mp?uploadId={uid}"
    headers = _sign_v4(secure, "POST", path, xml(1, 2), "alice", secret)
    status, body, _ = _send(secure, "POST", path, xml(2), headers)
    assert status == 400 and b"XAmzContentSHA256Mismatch" in body, body
    parts = alice.list_parts(Bucket=BUCKET, Key="mp", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    status, body, _ = _send(secure, "POST", path, xml(1, 2), headers)
    assert status == 200, body
    assert alice.get_object(Bucket=BUCKET, Key="mp")["Body"].read() == p1 + p2


def test_content_md5_and_checksum_headers_checked_on_buffered_bodies(
    secure, alice, secret
) -> None:
    """Content-MD5 and x-amz-checksum-sha256 that do not match a buffered
    body (here signed with UNSIGNED-PAYLOAD, so only they vouch for it) are
    BadDigest; matching ones pass."""
    alice.put_object(Bucket=BUCKET, Key="md5-kept", Body=b"x")
    body = _delete_xml("md5-kept")
    wrong = _delete_xml("md5-other")
    for name, value in (
        ("Content-MD5", base64.b64encode(hashlib.md5(wrong).digest()).decode()),
        ("x-amz-checksum-sha256",
         base64.b64encode(hashlib.sha256(wrong).digest()).decode()),
    ):  # fmt: skip
        headers = _sign_v4(secure, "POST", f"/{BUCKET}?delete", body, "alice", secret,
                           **{name: value, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})  # fmt: skip
        status, answer, _ = _send(secure, "POST", f"/{BUCKET}?delete", body, headers)
        assert status == 400 and b"<Code>BadDigest</Code>" in answer, (name, answer)
        assert "md5-kept" in _keys(alice)
    headers = _sign_v4(
        secure, "POST", f"/{BUCKET}?delete", body, "alice", secret,
        **{"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
           "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    )  # fmt: skip
    status, answer, _ = _send(secure, "POST", f"/{BUCKET}?delete", body, headers)
    assert status == 200, answer
    assert "md5-kept" not in _keys(alice)


# -- item 10: authenticated before any body byte is buffered --------------------


def _open_post(gw: GatewayProcess, declared: int, head: str = "") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
    s.sendall(f"POST /{BUCKET}?delete HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n"
              f"{head}Content-Length: {declared}\r\n\r\n".encode())  # fmt: skip
    return s


def _temp_files(gw: GatewayProcess) -> int:
    """Deleted (temporary) files the gateway holds open."""
    assert gw.proc is not None
    fds = f"/proc/{gw.proc.pid}/fd"
    found = 0
    for fd in os.listdir(fds):
        try:
            found += os.readlink(os.path.join(fds, fd)).endswith("(deleted)")
        except FileNotFoundError:
            pass
    return found


def test_anonymous_bodies_are_refused_before_they_are_read(secure, alice) -> None:
    """20 anonymous DeleteObjects declaring 4 MiB, each 1 MiB into its body:
    every one has its 403 while still sending, and the gateway holds no
    temporary file and buffers none of it."""
    before = _temp_files(secure)
    conns = [_open_post(secure, 4 * MiB) for _ in range(20)]
    try:
        for s in conns:
            s.sendall(b"<Delete>" + b" " * (MiB - 8))
        heads = [read_response_head(s) for s in conns]
        assert _temp_files(secure) == before
    finally:
        for s in conns:
            s.close()
    for head in heads:
        assert head.startswith(b"HTTP/1.1 403"), head[:200]
        assert b"connection: close" in head.lower()
    assert (
        alice.list_objects_v2(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )


def test_bad_signature_on_buffered_body_refused_before_100_continue(
    secure, secret
) -> None:
    """With Expect: 100-continue, a DeleteObjects signed with a wrong secret
    gets its 403 and never a 100 Continue; signed right, it gets 100, sends
    its body, and is answered 200."""
    body = _delete_xml("nothing-here")
    for key_secret, wanted in (("wrong-secret", b"403"), (secret, b"200")):
        headers = _sign_v4(secure, "POST", f"/{BUCKET}?delete", body, "alice",
                           key_secret)  # fmt: skip
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        s = _open_post(secure, len(body), head + "Expect: 100-continue\r\n")
        try:
            first = read_response_head(s)
            if wanted == b"403":
                assert first.startswith(b"HTTP/1.1 403"), first[:200]
                assert b"100 Continue" not in first
                continue
            assert first.startswith(b"HTTP/1.1 100 Continue"), first[:200]
            s.sendall(body)
            final = read_response_head(s)
            assert final.startswith(b"HTTP/1.1 200"), final[:300]
        finally:
            s.close()


def test_signed_body_over_the_cap_is_refused_after_authentication(
    secure, secret
) -> None:
    """Declared over ozone.s3g.max.xml.body.size: a signed request gets
    MaxMessageLengthExceeded, an anonymous one 403 (credentials first)."""
    headers = _sign_v4(secure, "POST", f"/{BUCKET}?delete", b"", "alice", secret,
                       **{"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})  # fmt: skip
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    for extra, wanted in ((head, b"400"), ("", b"403")):
        s = _open_post(secure, 5 * MiB, extra + "Expect: 100-continue\r\n")
        try:
            answer = read_response_head(s)
        finally:
            s.close()
        assert answer.startswith(b"HTTP/1.1 " + wanted), answer[:300]
        if wanted == b"400":
            assert b"MaxMessageLengthExceeded" in answer


# -- items 9 and 17: the audit log, and 403 before 501 ---------------------------


def _audit(gw: GatewayProcess, request_id: str) -> dict[str, Any]:
    """The audit record of ``request_id`` (written as the request ends)."""
    path = os.path.join(gw.data_dir, "logs", "s3g-audit.log")
    deadline = time.monotonic() + 30
    while True:
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if record["request_id"] == request_id:
                    return dict(record)
        assert time.monotonic() < deadline, f"no audit line for {request_id}"
        time.sleep(0.05)


def test_forged_requests_are_audited_as_nobody(secure, alice, secret) -> None:
    """A request claiming admin with a zero signature, or alice with a wrong
    secret, is audited under "-", not the user it claims; a verified one
    under its user."""
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    forged = {"Authorization": f"AWS4-HMAC-SHA256 Credential=admin/{now[:8]}/us-east-1"
              "/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
              "Signature=" + "0" * 64,
              "x-amz-date": now,
              "x-amz-content-sha256": hashlib.sha256(b"").hexdigest()}  # fmt: skip
    getsecret(secure.data_dir, "admin")
    status, answer, rid = _send(secure, "GET", f"/{BUCKET}", b"", forged)
    assert status == 403 and b"SignatureDoesNotMatch" in answer, answer
    assert _audit(secure, rid)["user"] == "-"
    wrong = _sign_v4(secure, "DELETE", f"/{BUCKET}/k", b"", "alice", "not-it")
    status, _, rid = _send(secure, "DELETE", f"/{BUCKET}/k", b"", wrong)
    assert status == 403
    assert _audit(secure, rid)["user"] == "-"
    right = _sign_v4(secure, "GET", f"/{BUCKET}", b"", "alice", secret)
    status, _, rid = _send(secure, "GET", f"/{BUCKET}", b"", right)
    assert status == 200
    assert _audit(secure, rid)["user"] == "alice"


@pytest.mark.parametrize(
    ("method", "path", "body", "operation", "key"),
    [
        (
            "PUT",
            "?notification",
            b"<NotificationConfiguration/>",
            "PutBucketNotificationConfiguration",
            "",
        ),
        ("DELETE", "?website", b"", "DeleteBucketWebsite", ""),
        ("GET", "/k?torrent", b"", "GetObjectTorrent", "k"),
        ("PUT", "/k?retention", b"<Retention/>", "PutObjectRetention", "k"),
    ],
)
def test_unserved_operations_are_403_unsigned_501_signed_and_named(
    secure, alice, secret, method, path, body, operation, key
) -> None:
    """An operation the gateway does not serve answers an unsigned request
    403 (it learns nothing more) and a signed one 501; both audit lines name
    the S3 operation with its bucket and key."""
    target = f"/{BUCKET}{path}"
    status, answer, rid = _send(secure, method, target, body, {})
    assert status == 403 and b"<Code>AccessDenied</Code>" in answer, answer
    record = _audit(secure, rid)
    assert (record["operation"], record["bucket"], record["key"], record["user"]) == (
        operation, BUCKET, key, "-")  # fmt: skip
    headers = _sign_v4(secure, method, target, body, "alice", secret)
    status, answer, rid = _send(secure, method, target, body, headers)
    assert status == 501 and b"<Code>NotImplemented</Code>" in answer, answer
    record = _audit(secure, rid)
    assert (record["operation"], record["bucket"], record["key"], record["user"],
            record["status"]) == (operation, BUCKET, key, "alice", 501)  # fmt: skip


def test_other_users_bucket_is_403_even_for_unserved_operations(secure, alice) -> None:
    """bob asking for alice's bucket website learns 403, not 501."""
    bob = client(secure, "bob", getsecret(secure.data_dir, "bob"))
    with pytest.raises(ClientError) as e:
        bob.get_bucket_website(Bucket=BUCKET)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
