"""Security on: a request acts on the bucket it was authorized for, or on
nothing.  A bucket deleted and created again under its name (by another
user) is another bucket: bob's write in flight into his old bucket must not
land in alice's new one."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.test_security import client, getsecret, secure_gateway
from tests.support.gateway import GatewayProcess
from tests.support.rawhttp import read_response, read_response_head
from tests.support.storecheck import wait_quiet

KiB = 1024


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "ident")


@pytest.fixture(scope="module")
def users(secure):  # type: ignore[no-untyped-def]
    secrets = {u: getsecret(secure.data_dir, u) for u in ("alice", "bob", "admin")}
    return secrets, {u: client(secure, u, s) for u, s in secrets.items()}


def _start_put(
    gw: GatewayProcess, user: str, secret: str, path: str, size: int, sent: bytes
) -> socket.socket:
    """A signed PUT of ``size`` bytes: admitted (100 Continue), then only
    ``sent`` of its body, so the write is in flight."""
    req = AWSRequest(method="PUT", url=f"{gw.endpoint}{path}",
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})  # fmt: skip
    SigV4Auth(Credentials(user, secret), "s3", "us-east-1").add_auth(req)
    head = "".join(f"{k}: {v}\r\n" for k, v in req.headers.items())
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
    s.sendall(f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n{head}"
              f"Content-Length: {size}\r\nExpect: 100-continue\r\n\r\n".encode())  # fmt: skip
    interim = read_response_head(s)
    assert interim.startswith(b"HTTP/1.1 100"), interim[:300]
    s.sendall(sent)
    return s


def _finish_put(s: socket.socket, rest: bytes) -> bytes:
    """Send the rest of the body; the response, head and body."""
    s.sendall(rest)
    head, body = read_response(s)
    s.close()
    return head + b"\r\n\r\n" + body


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def test_put_in_flight_does_not_land_in_a_recreated_bucket(secure, users) -> None:
    """bob starts a PUT into his bucket, deletes the bucket (allowed: the
    write is not an object yet), alice creates one of that name, bob
    finishes: NoSuchBucket, and alice's bucket stays empty."""
    secrets, c = users
    c["bob"].create_bucket(Bucket="reborn")
    body = bytes(range(256)) * (1024 // 256) * 300  # 300 KiB
    s = _start_put(secure, "bob", secrets["bob"], "/reborn/bobs", len(body),
                   body[: 100 * KiB])  # fmt: skip
    c["bob"].delete_bucket(Bucket="reborn")
    c["alice"].create_bucket(Bucket="reborn")
    answer = _finish_put(s, body[100 * KiB :])
    assert answer.startswith(b"HTTP/1.1 404"), answer[:500]
    assert b"<Code>NoSuchBucket</Code>" in answer, answer
    assert c["alice"].list_objects_v2(Bucket="reborn").get("Contents", []) == []
    with pytest.raises(ClientError) as e:
        c["alice"].head_object(Bucket="reborn", Key="bobs")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # bob may not reach alice's bucket at all; his blocks were reclaimed.
    with pytest.raises(ClientError) as e:
        c["bob"].list_objects_v2(Bucket="reborn")
    assert _code(e) == "AccessDenied"
    c["alice"].delete_bucket(Bucket="reborn")
    wait_quiet(secure.data_dir)


def test_part_in_flight_into_a_recreated_bucket_fails(secure, users) -> None:
    """The same for an UploadPart in flight: the part never lands, alice's
    bucket of the same name has no upload and no object."""
    secrets, c = users
    c["bob"].create_bucket(Bucket="reborn-mp")
    upload = c["bob"].create_multipart_upload(Bucket="reborn-mp", Key="big")
    uid = upload["UploadId"]
    body = b"p" * (200 * KiB)
    s = _start_put(secure, "bob", secrets["bob"],
                   f"/reborn-mp/big?partNumber=1&uploadId={uid}", len(body),
                   body[: 50 * KiB])  # fmt: skip
    c["bob"].abort_multipart_upload(Bucket="reborn-mp", Key="big", UploadId=uid)
    c["bob"].delete_bucket(Bucket="reborn-mp")
    c["alice"].create_bucket(Bucket="reborn-mp")
    answer = _finish_put(s, body[50 * KiB :])
    assert answer.startswith(b"HTTP/1.1 404"), answer[:500]
    assert c["alice"].list_multipart_uploads(Bucket="reborn-mp").get("Uploads") is None
    assert c["alice"].list_objects_v2(Bucket="reborn-mp").get("Contents", []) == []
    c["alice"].delete_bucket(Bucket="reborn-mp")
    wait_quiet(secure.data_dir)


def test_admin_write_in_flight_is_pinned_too(secure, users) -> None:
    """An administrator's write is bound to the bucket it started in as
    well: it does not end up in a new owner's bucket of the same name."""
    secrets, c = users
    c["bob"].create_bucket(Bucket="reborn-adm")
    body = b"a" * (64 * KiB)
    s = _start_put(secure, "admin", secrets["admin"], "/reborn-adm/by-admin",
                   len(body), body[:1])  # fmt: skip
    c["bob"].delete_bucket(Bucket="reborn-adm")
    c["alice"].create_bucket(Bucket="reborn-adm")
    answer = _finish_put(s, body[1:])
    assert answer.startswith(b"HTTP/1.1 404"), answer[:500]
    assert c["alice"].list_objects_v2(Bucket="reborn-adm").get("Contents", []) == []
    c["alice"].delete_bucket(Bucket="reborn-adm")
