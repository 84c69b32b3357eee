"""Security on: signatures verified against ozs3-issued secrets, bucket
isolation, presigned URLs, streaming chunk signatures, TLS."""

from __future__ import annotations

import datetime
import hashlib
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import AwsCli
from tests.support.gateway import REPO, GatewayProcess, child_env
from tests.support.rawhttp import read_response_head

MiB = 1024 * 1024
SECURE = {
    "OZONE-SITE.XML_ozone.security.enabled": "true",
    "OZONE-SITE.XML_ozone.administrators": "admin",
}


def admin(
    data_dir: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "ozs3.admin", "--data-dir", data_dir, *args],
        capture_output=True, text=True, env=child_env(), cwd=REPO, timeout=60,
        input="",
    )  # fmt: skip
    if check:
        assert r.returncode == 0, r.stderr
    return r


def getsecret(data_dir: str, user: str) -> str:
    out = admin(data_dir, "s3", "getsecret", "--user", user).stdout.splitlines()
    assert out[0] == f"awsAccessKey={user}"
    assert out[1].startswith("awsSecret=")
    return out[1][len("awsSecret=") :]


def secure_gateway(
    tmp_path_factory: pytest.TempPathFactory, name: str, reactor: str | None = None
) -> Iterator[GatewayProcess]:
    """A gateway with security on, for a module's fixture to ``yield from``:
    stopped after the module, its log then checked for tracebacks."""
    gw = GatewayProcess(
        str(tmp_path_factory.mktemp(name) / "data"), env=SECURE, reactor=reactor
    )
    gw.start()
    yield gw
    gw.stop()
    assert not gw.tracebacks(), gw.log()


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "sec")


def client(gw: GatewayProcess, key: str, secret: str, **config: object):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3", endpoint_url=gw.endpoint, aws_access_key_id=key,
        aws_secret_access_key=secret, region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, **config),  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture(scope="module")
def alice(secure):  # type: ignore[no-untyped-def]
    c = client(secure, "alice", getsecret(secure.data_dir, "alice"))
    c.create_bucket(Bucket="alice-bkt")  # tests below may run alone
    return c


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def test_getsecret_is_shown_once(secure) -> None:
    """getsecret prints awsAccessKey=/awsSecret= once; again fails."""
    secret = getsecret(secure.data_dir, "once")
    assert len(secret) == 64
    r = admin(secure.data_dir, "s3", "getsecret", "--user", "once", check=False)
    assert r.returncode == 1 and "S3_SECRET_ALREADY_EXISTS" in r.stderr


def test_valid_secret_full_cycle(secure, alice, tmp_path) -> None:
    """put, get, list, multipart and delete with a getsecret secret."""
    from boto3.s3.transfer import TransferConfig

    alice.head_bucket(Bucket="alice-bkt")
    alice.put_object(Bucket="alice-bkt", Key="k", Body=b"secret data")
    assert (
        alice.get_object(Bucket="alice-bkt", Key="k")["Body"].read() == b"secret data"
    )
    assert [
        c["Key"] for c in alice.list_objects_v2(Bucket="alice-bkt")["Contents"]
    ] == ["k"]
    data = os.urandom(11 * MiB)
    src = tmp_path / "f"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    alice.upload_file(str(src), "alice-bkt", "multi", Config=cfg)
    assert alice.get_object(Bucket="alice-bkt", Key="multi")["Body"].read() == data


def test_wrong_secret_and_unknown_key(secure, alice) -> None:
    """A wrong secret is SignatureDoesNotMatch; an unknown key
    InvalidAccessKeyId; nothing is stored."""
    bad = client(secure, "alice", "not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket="alice-bkt", Key="evil", Body=b"x")
    assert _code(e) == "SignatureDoesNotMatch"
    err = e.value.response["Error"]
    assert "StringToSign" in err and "CanonicalRequest" in err
    unknown = client(secure, "nobody", "whatever-secret")
    with pytest.raises(ClientError) as e:
        unknown.list_buckets()
    assert _code(e) == "InvalidAccessKeyId"
    with pytest.raises(ClientError):
        alice.head_object(Bucket="alice-bkt", Key="evil")


def test_anonymous_is_denied(secure) -> None:
    """No signature at all: AccessDenied."""
    conn = http.client.HTTPConnection("127.0.0.1", secure.port, timeout=10)
    conn.request("GET", "/")
    r = conn.getresponse()
    body = r.read()
    assert r.status == 403 and b"<Code>AccessDenied</Code>" in body


def test_revoked_key_fails_at_once(secure) -> None:
    """revokesecret while the gateway runs: the next request is refused."""
    secret = getsecret(secure.data_dir, "temp")
    c = client(secure, "temp", secret)
    c.list_buckets()
    r = admin(secure.data_dir, "s3", "revokesecret", "--user", "temp", "-y")
    assert "S3 secret revoked." in r.stdout
    with pytest.raises(ClientError) as e:
        c.list_buckets()
    assert _code(e) == "InvalidAccessKeyId"
    admin(
        secure.data_dir,
        "s3",
        "setsecret",
        "--user",
        "temp",
        "--secret",
        "chosen-secret",
    )
    client(secure, "temp", "chosen-secret").list_buckets()


def test_kerberos_style_access_key(secure) -> None:
    """Access keys may contain / and @ (Kerberos principals)."""
    user = "testuser/scm@EXAMPLE.COM"
    c = client(secure, user, getsecret(secure.data_dir, user))
    c.create_bucket(Bucket="krb-bkt")
    c.put_object(Bucket="krb-bkt", Key="k", Body=b"v")
    assert c.get_object(Bucket="krb-bkt", Key="k")["Body"].read() == b"v"


def test_bucket_isolation(secure, alice) -> None:
    """Another user gets AccessDenied on a bucket and does not list it;
    administrators reach everything."""
    alice.create_bucket(Bucket="alice-private")
    alice.put_object(Bucket="alice-private", Key="k", Body=b"mine")
    bob = client(secure, "bob", getsecret(secure.data_dir, "bob"))
    assert "alice-private" not in [b["Name"] for b in bob.list_buckets()["Buckets"]]
    for call in (
        lambda: bob.get_object(Bucket="alice-private", Key="k"),
        lambda: bob.put_object(Bucket="alice-private", Key="k", Body=b"bob"),
        lambda: bob.list_objects_v2(Bucket="alice-private"),
        lambda: bob.delete_object(Bucket="alice-private", Key="k"),
        lambda: bob.delete_bucket(Bucket="alice-private"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert _code(e) in ("AccessDenied", "403")
    bob.create_bucket(Bucket="bob-bkt")
    with pytest.raises(ClientError) as e:
        bob.copy_object(Bucket="bob-bkt", Key="stolen", CopySource="alice-private/k")
    assert _code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        bob.create_bucket(Bucket="alice-private")
    assert _code(e) == "BucketAlreadyExists"
    with pytest.raises(ClientError) as e:
        alice.create_bucket(Bucket="alice-private")
    assert _code(e) == "BucketAlreadyOwnedByYou"
    root = client(secure, "admin", getsecret(secure.data_dir, "admin"))
    names = [b["Name"] for b in root.list_buckets()["Buckets"]]
    assert {"alice-private", "bob-bkt"} <= set(names)
    assert root.get_object(Bucket="alice-private", Key="k")["Body"].read() == b"mine"


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_presigned_urls_and_expiry(secure, alice, version) -> None:
    """Presigned GET URLs (SigV2, boto3's default here, and SigV4) work with
    curl; expired ones are AccessDenied 'Request has expired'; a tampered
    one fails."""
    alice.put_object(Bucket="alice-bkt", Key="pre", Body=b"presigned!")
    signer = client(secure, "alice", alice._request_signer._credentials.secret_key,
                    signature_version=version)  # fmt: skip
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "alice-bkt",
                                        "Key": "pre"}, ExpiresIn=300)  # fmt: skip
    out = subprocess.run(["curl", "-s", "-w", "%{http_code}", url], capture_output=True,
                         timeout=30)  # fmt: skip
    assert out.stdout == b"presigned!200"
    tampered = url.replace("pre?", "prf?") if "pre?" in url else url + "x"
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", tampered],
                         capture_output=True, timeout=30)  # fmt: skip
    assert out.stdout in (b"403", b"404")
    short = signer.generate_presigned_url("get_object", Params={"Bucket": "alice-bkt",
                                          "Key": "pre"}, ExpiresIn=1)  # fmt: skip
    time.sleep(2.2)
    out = subprocess.run(["curl", "-s", short], capture_output=True, timeout=30)
    assert b"<Code>AccessDenied</Code>" in out.stdout and b"expired" in out.stdout


def test_aws_cli_with_secret_and_presign(secure, tmp_path) -> None:
    """The aws CLI with a getsecret secret: mb, cp, ls, presign + curl."""
    secret = getsecret(secure.data_dir, "cliuser")
    aws = AwsCli(secure.endpoint, str(tmp_path))
    aws.env.update(AWS_ACCESS_KEY_ID="cliuser", AWS_SECRET_ACCESS_KEY=secret)
    os.unlink(os.path.join(str(tmp_path), "credentials"))
    aws.env.pop("AWS_SHARED_CREDENTIALS_FILE")
    aws("s3", "mb", "s3://cli-bkt")
    src = tmp_path / "f.txt"
    src.write_bytes(b"from the cli")
    aws("s3", "cp", str(src), "s3://cli-bkt/f.txt")
    assert "f.txt" in aws("s3", "ls", "s3://cli-bkt").stdout
    url = aws("s3", "presign", "s3://cli-bkt/f.txt").stdout.strip()
    out = subprocess.run(["curl", "-s", url], capture_output=True, timeout=30)
    assert out.stdout == b"from the cli"


def test_clock_skew_is_refused(secure, alice, monkeypatch) -> None:
    """A request signed 20 minutes ago is RequestTimeTooSkewed."""
    import botocore.auth

    real = datetime.datetime

    class Past(real):  # type: ignore[misc, valid-type]
        @classmethod
        def utcnow(cls):  # type: ignore[no-untyped-def]
            return real.utcnow() - datetime.timedelta(minutes=20)

        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def]
            return real.now(tz) - datetime.timedelta(minutes=20)

    monkeypatch.setattr(botocore.auth.datetime, "datetime", Past)
    with pytest.raises(ClientError) as e:
        alice.list_buckets()
    assert _code(e) == "RequestTimeTooSkewed"


def _signed_streaming_put(gw, key, secret, bucket, name, body, tamper_at=None):  # type: ignore[no-untyped-def]
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD: signed chunks (64 KiB)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from ozs3.s3.sigv4 import SigningContext, chunk_signature, signing_key

    chunk = 65536
    n_chunks = -(-len(body) // chunk)
    encoded_len = sum(
        len(b"%x" % len(body[i : i + chunk])) + len(";chunk-signature=") + 64 + 4
        + len(body[i : i + chunk]) for i in range(0, len(body), chunk)
    ) + len(b"0;chunk-signature=") + 64 + 4  # fmt: skip
    req = AWSRequest(method="PUT", url=f"{gw.endpoint}/{bucket}/{name}", headers={
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(body)),
        "content-length": str(encoded_len),
    })  # fmt: skip
    # Plain SigV4Auth signs the x-amz-content-sha256 given (S3SigV4Auth
    # would replace it with the hash of the empty body it sees).
    SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(req)
    amz_date = req.headers["x-amz-date"]
    seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    ctx = SigningContext(signing_key(secret, amz_date[:8], "us-east-1", "s3"), amz_date,
                         f"{amz_date[:8]}/us-east-1/s3/aws4_request", seed)  # fmt: skip
    framed = b""
    previous = seed
    for i in range(n_chunks + 1):
        data = body[i * chunk : (i + 1) * chunk]
        sig = chunk_signature(ctx, previous, hashlib.sha256(data).hexdigest())
        previous = sig
        if tamper_at is not None and i == tamper_at and data:
            data = bytes([data[0] ^ 1]) + data[1:]
        framed += (
            b"%x;chunk-signature=%s\r\n" % (len(data), sig.encode()) + data + b"\r\n"
        )
    assert len(framed) == encoded_len, (len(framed), encoded_len)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=60)
    conn.request(
        "PUT", f"/{bucket}/{name}", body=framed, headers=dict(req.headers.items())
    )
    r = conn.getresponse()
    out = r.status, r.read()
    conn.close()
    return out


def test_signed_streaming_chunks(secure, alice) -> None:
    """Every chunk signature of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload is
    verified: an intact 8 MiB upload stores; one tampered chunk, first or
    last, is SignatureDoesNotMatch and leaves the old object untouched."""
    secret = alice._request_signer._credentials.secret_key
    alice.create_bucket(Bucket="alice-stream")
    body = os.urandom(8 * MiB + 100)
    status, resp = _signed_streaming_put(
        secure, "alice", secret, "alice-stream", "stream", body
    )
    assert status == 200, resp
    assert alice.get_object(Bucket="alice-stream", Key="stream")["Body"].read() == body
    last = len(body) // 65536
    for where in (0, last):
        status, resp = _signed_streaming_put(secure, "alice", secret, "alice-stream",
                                             "stream", os.urandom(len(body)), where)  # fmt: skip
        assert status == 403 and b"SignatureDoesNotMatch" in resp, resp
        assert (
            alice.get_object(Bucket="alice-stream", Key="stream")["Body"].read() == body
        )


def test_security_off_behaviour_unchanged(s3, bucket) -> None:
    """With security off any key works (the default gateway fixture)."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    other = boto3.client("s3", endpoint_url=s3.meta.endpoint_url, aws_access_key_id="x",
                         aws_secret_access_key="y", region_name="us-east-1")  # fmt: skip
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_tls_listener(tmp_path) -> None:
    """ozone.http.policy=HTTPS_ONLY with a PEM certificate and key serves S3
    over TLS; boto3 verifies the certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                         serialization.PrivateFormat.PKCS8,
                         serialization.NoEncryption()))  # fmt: skip
    from tests.support.gateway import free_port

    port = free_port()
    gw = GatewayProcess(str(tmp_path / "data"), port=port, env={
        "OZONE-SITE.XML_ozone.http.policy": "HTTPS_ONLY",
        "OZONE-SITE.XML_ozone.s3g.https-address": f"127.0.0.1:{port}",
        "OZONE-SITE.XML_ozone.s3g.https.certificate.file": str(cert_path),
        "OZONE-SITE.XML_ozone.s3g.https.private.key.file": str(key_path),
    }, listen=False, tls=True)  # fmt: skip
    gw.start()
    try:
        c = boto3.client("s3", endpoint_url=f"https://localhost:{port}",
                         aws_access_key_id="a", aws_secret_access_key="b",
                         region_name="us-east-1", verify=str(cert_path))  # fmt: skip
        c.create_bucket(Bucket="tls-bkt")
        c.put_object(Bucket="tls-bkt", Key="k", Body=b"over tls")
        assert c.get_object(Bucket="tls-bkt", Key="k")["Body"].read() == b"over tls"
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        with pytest.raises((http.client.HTTPException, OSError)):
            plain.request("GET", "/")
            plain.getresponse().read()
    finally:
        gw.stop()


def test_s3_path_command(secure, alice) -> None:
    """ozs3 s3 path prints the volume and o3fs URI, like ozone s3 path."""
    out = admin(secure.data_dir, "s3", "path", "alice-bkt").stdout
    assert "Volume name for S3Bucket is : s3v" in out
    assert "Ozone FileSystem Uri is : o3fs://alice-bkt.s3v" in out


def test_no_secret_or_signature_in_logs(secure, alice) -> None:
    """The audit log has one structured line per request and no signature,
    secret or Authorization header; neither has twistd's log."""
    import json
    import urllib.parse
    import urllib.request

    secret = alice._request_signer._credentials.secret_key
    alice.put_object(Bucket="alice-bkt", Key="logged", Body=b"x")
    signatures = []
    for version in ("s3", "s3v4"):
        c = client(secure, "alice", secret, signature_version=version)
        url = c.generate_presigned_url(
            "get_object", Params={"Bucket": "alice-bkt", "Key": "logged"}
        )
        with urllib.request.urlopen(url) as r:
            assert r.read() == b"x"
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        signatures.append(query.get("Signature") or query["X-Amz-Signature"])
    audit_path = os.path.join(secure.data_dir, "logs", "s3g-audit.log")
    with open(audit_path) as f:
        audit = f.read()
    records = [json.loads(line) for line in audit.splitlines()]
    gets = [
        r for r in records if r["operation"] == "GetObject" and r["key"] == "logged"
    ]
    assert len(gets) >= 2 and all(
        r["user"] == "alice" and r["status"] == 200 for r in gets
    )
    assert all(r["request_id"] and r["duration_ms"] >= 0 for r in records)
    for text in (audit, secure.log()):
        for signature in signatures:
            assert signature not in text
            assert urllib.parse.quote(signature, safe="") not in text
        assert secret not in text
        assert "AWS4-HMAC-SHA256 Credential" not in text


def test_bad_signature_refused_before_body(secure) -> None:
    """With Expect: 100-continue, a PUT signed with the wrong secret gets its
    403 before any body byte is sent."""
    import socket

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method="PUT", url=f"{secure.endpoint}/alice-bkt/huge",
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})  # fmt: skip
    S3SigV4Auth(Credentials("alice", "wrong-secret"), "s3", "us-east-1").add_auth(req)
    head = "".join(f"{k}: {v}\r\n" for k, v in req.headers.items())
    s = socket.create_connection(("127.0.0.1", secure.port), timeout=10)
    s.sendall(f"PUT /alice-bkt/huge HTTP/1.1\r\nHost: 127.0.0.1:{secure.port}\r\n{head}"
              "Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n".encode())  # fmt: skip
    data = read_response_head(s)
    s.close()
    assert data.startswith(b"HTTP/1.1 403"), data[:200]
    assert b"100 Continue" not in data


@pytest.mark.slow
def test_tampered_chunk_in_1gib_signed_upload(secure, alice) -> None:
    """A 1 GiB STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload with one bad chunk
    in the middle is refused and the old object stays byte-identical."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from ozs3.s3.sigv4 import SigningContext, chunk_signature, signing_key
    from tests.support.storecheck import stored_blocks

    secret = alice._request_signer._credentials.secret_key
    alice.create_bucket(Bucket="alice-gib")
    alice.put_object(Bucket="alice-gib", Key="gib", Body=b"the old object")
    before = stored_blocks(secure.data_dir)
    size, chunk = 1024 * MiB, 1024 * 1024
    n = size // chunk
    sig_len = len(";chunk-signature=") + 64
    framed_len = n * (len(b"%x" % chunk) + sig_len + 4 + chunk) + 1 + sig_len + 4
    req = AWSRequest(method="PUT", url=f"{secure.endpoint}/alice-gib/gib", headers={
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(size),
        "content-length": str(framed_len),
    })  # fmt: skip
    SigV4Auth(Credentials("alice", secret), "s3", "us-east-1").add_auth(req)
    amz_date = req.headers["x-amz-date"]
    seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    ctx = SigningContext(signing_key(secret, amz_date[:8], "us-east-1", "s3"), amz_date,
                         f"{amz_date[:8]}/us-east-1/s3/aws4_request", seed)  # fmt: skip
    payload = os.urandom(chunk)
    payload_hash = hashlib.sha256(payload).hexdigest()

    def body() -> Iterator[bytes]:
        previous = seed
        for i in range(n + 1):
            data = payload if i < n else b""
            sig = chunk_signature(ctx, previous, payload_hash if data else
                                  hashlib.sha256(b"").hexdigest())  # fmt: skip
            previous = sig
            if i == n // 2:
                # Tampered after signing: a flipped byte (an "X" put in
                # its place would change nothing 1 time in 256).
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            yield (
                b"%x;chunk-signature=%s\r\n" % (len(data), sig.encode())
                + data
                + b"\r\n"
            )

    conn = http.client.HTTPConnection("127.0.0.1", secure.port, timeout=120)
    t = time.monotonic()
    conn.request(
        "PUT", "/alice-gib/gib", body=body(), headers=dict(req.headers.items())
    )
    r = conn.getresponse()
    status, resp = r.status, r.read()
    conn.close()
    print(f"refused after {time.monotonic() - t:.1f}s")
    assert status == 403 and b"SignatureDoesNotMatch" in resp, resp[:300]
    assert (
        alice.get_object(Bucket="alice-gib", Key="gib")["Body"].read()
        == b"the old object"
    )
    deadline = time.monotonic() + 10
    while stored_blocks(secure.data_dir) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stored_blocks(secure.data_dir) == before
