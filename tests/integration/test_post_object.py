"""Browser form uploads (POST Object) on the real gateway, security on:
boto3's generate_presigned_post sent with requests (SigV4 and SigV2), S3's
answers and refusals, anonymous forms judged by the bucket policy, a 1 GiB
form streamed in bounded memory, and a real form in headless Chromium
posting from another origin and following the 303 redirect."""

from __future__ import annotations

import http.client
import http.server
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from tests.integration.test_security import client, getsecret, secure_gateway
from tests.support.browser import PageServer, wait_for
from tests.support.gateway import GatewayProcess

BUCKET = "forms"
MiB = 1 << 20


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "post")


@pytest.fixture(scope="module")
def secret(gw: GatewayProcess) -> str:
    return getsecret(gw.data_dir, "poster")


@pytest.fixture(scope="module")
def owner(gw: GatewayProcess, secret: str) -> Any:
    s3 = client(gw, "poster", secret)
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.fixture(scope="module")
def forms(gw: GatewayProcess, secret: str, owner: Any) -> Any:
    """Makes presigned forms (SigV4 unless asked for "s3": SigV2)."""

    def make(version: str = "s3v4") -> Any:
        return boto3.client(
            "s3", endpoint_url=gw.endpoint, aws_access_key_id="poster",
            aws_secret_access_key=secret, region_name="us-east-1",
            config=Config(signature_version=version, s3={"addressing_style": "path"}),
        )  # fmt: skip

    return make


def post(
    url: str, fields: dict[str, str], body: bytes = b"hello form", name: str = "a.txt"
) -> requests.Response:
    return requests.post(
        url,
        data=fields,
        files={"file": (name, body)},
        allow_redirects=False,
        timeout=60,
    )


def error(r: requests.Response) -> tuple[int, str]:
    code = r.text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in r.text else ""
    return r.status_code, code


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_a_presigned_form_stores_the_file_with_its_fields(
    gw: GatewayProcess, owner: Any, version: str, forms: Any
) -> None:
    form = forms(version).generate_presigned_post(
        BUCKET, f"{version}/${{filename}}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-origin": "form"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-origin": "form"},
                    ["content-length-range", 1, 1024]],
    )  # fmt: skip
    r = post(form["url"], form["fields"], name="note.txt")
    assert r.status_code == 204, r.text
    assert r.headers["Location"] == f"{gw.endpoint}/{BUCKET}/{version}/note.txt"
    got = owner.get_object(Bucket=BUCKET, Key=f"{version}/note.txt")
    assert got["Body"].read() == b"hello form"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"origin": "form"}
    assert r.headers["ETag"] == got["ETag"]


def test_success_status_and_redirect(
    gw: GatewayProcess, owner: Any, forms: Any
) -> None:
    s3 = forms()
    form = s3.generate_presigned_post(
        BUCKET, "created", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}],
    )  # fmt: skip
    r = post(form["url"], form["fields"])
    assert r.status_code == 201 and "<Key>created</Key>" in r.text, r.text
    target = "https://app.example/done"
    form = s3.generate_presigned_post(
        BUCKET, "redirected", Fields={"success_action_redirect": target},
        Conditions=[{"success_action_redirect": target}],
    )  # fmt: skip
    r = post(form["url"], form["fields"])
    assert r.status_code == 303
    assert r.headers["Location"].startswith(
        f"{target}?bucket={BUCKET}&key=redirected&etag="
    )
    assert owner.head_object(Bucket=BUCKET, Key="redirected")["ContentLength"] == 10


def test_refusals_store_nothing(gw: GatewayProcess, owner: Any, forms: Any) -> None:
    s3 = forms()
    good = s3.generate_presigned_post(
        BUCKET, "refused", Conditions=[["content-length-range", 5, 20]]
    )
    url, fields = good["url"], good["fields"]
    cases = [
        ({**fields, "key": "elsewhere"}, b"hello form", (403, "AccessDenied")),
        ({**fields, "x-amz-meta-extra": "1"}, b"hello form", (403, "AccessDenied")),
        ({**fields, "x-amz-signature": "0" * 64}, b"hello form",
         (403, "SignatureDoesNotMatch")),
        (fields, b"tiny", (400, "EntityTooSmall")),
        (fields, b"x" * 21, (400, "EntityTooLarge")),
    ]  # fmt: skip
    for data, body, expected in cases:
        assert error(post(url, data, body)) == expected, data
    expired = s3.generate_presigned_post(BUCKET, "refused", ExpiresIn=1)
    time.sleep(2)
    r = post(expired["url"], expired["fields"])
    assert error(r) == (403, "AccessDenied") and "Policy expired" in r.text
    r = requests.post(url, data=fields, files={"notfile": ("f", b"x")}, timeout=30)
    assert error(r) == (400, "InvalidArgument"), r.text
    assert "exactly one file" in r.text
    r = requests.post(url, data=b"key=refused", timeout=30,
                      headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert error(r) == (412, "PreconditionFailed")
    listed = owner.list_objects_v2(Bucket=BUCKET, Prefix="refused")
    assert listed["KeyCount"] == 0
    assert owner.list_objects_v2(Bucket=BUCKET, Prefix="elsewhere")["KeyCount"] == 0


def test_anonymous_forms_only_where_the_bucket_policy_allows(
    gw: GatewayProcess, owner: Any
) -> None:
    url = f"{gw.endpoint}/{BUCKET}"
    assert error(post(url, {"key": "drop/a"})) == (403, "AccessDenied")
    owner.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/drop/*"}]}))  # fmt: skip
    try:
        r = post(url, {"key": "drop/${filename}"}, b"anonymous", name="x.bin")
        assert r.status_code == 204, r.text
        got = owner.get_object(Bucket=BUCKET, Key="drop/x.bin")["Body"].read()
        assert got == b"anonymous"
        assert error(post(url, {"key": "other/a"})) == (403, "AccessDenied")
    finally:
        owner.delete_bucket_policy(Bucket=BUCKET)


def test_a_form_acl_and_anonymous_forms_by_acl(
    gw: GatewayProcess, owner: Any, forms: Any
) -> None:
    owner.create_bucket(Bucket="form-acl", ACL="public-read-write")
    form = forms().generate_presigned_post(
        "form-acl", "pub", Fields={"acl": "public-read"},
        Conditions=[{"acl": "public-read"}],
    )  # fmt: skip
    assert post(form["url"], form["fields"]).status_code == 204
    got = requests.get(f"{gw.endpoint}/form-acl/pub", timeout=30)  # anonymous
    assert (got.status_code, got.content) == (200, b"hello form")
    # The bucket's WRITE grant to AllUsers admits an unsigned form; an ACL the
    # bucket refuses is refused for a form as for a PUT.
    url = f"{gw.endpoint}/form-acl"
    assert post(url, {"key": "anon"}).status_code == 204
    owner.put_bucket_acl(Bucket="form-acl", ACL="private")
    assert error(post(url, {"key": "anon2"})) == (403, "AccessDenied")
    enforced = forms().generate_presigned_post(
        BUCKET,
        "acl",
        Fields={"acl": "public-read"},
        Conditions=[{"acl": "public-read"}],
    )
    assert error(post(enforced["url"], enforced["fields"])) == (
        400, "AccessControlListNotSupported",
    )  # fmt: skip


def test_fields_after_the_file_are_ignored(
    gw: GatewayProcess, owner: Any, forms: Any
) -> None:
    form = forms().generate_presigned_post(BUCKET, "ordered")
    boundary = "----ozs3boundary"
    parts = [*form["fields"].items(), ("file", None), ("x-amz-meta-late", "1")]
    body = b""
    for name, value in parts:
        body += f"--{boundary}\r\n".encode()
        if value is None:
            body += (b'Content-Disposition: form-data; name="file"; filename="f"\r\n'
                     b"Content-Type: application/octet-stream\r\n\r\nfile bytes\r\n")  # fmt: skip
        else:
            body += (f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n").encode()  # fmt: skip
    body += f"--{boundary}--\r\n".encode()
    r = requests.post(form["url"], data=body, timeout=30, headers={
        "content-type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
    assert r.status_code == 204, r.text
    got = owner.get_object(Bucket=BUCKET, Key="ordered")
    assert got["Body"].read() == b"file bytes" and got["Metadata"] == {}


def test_a_1_gib_form_streams_in_bounded_memory(
    gw: GatewayProcess, owner: Any, forms: Any
) -> None:
    form = forms().generate_presigned_post(BUCKET, "big")
    block = bytes(range(256)) * 4096  # 1 MiB
    total = 1024 * MiB
    boundary = "----ozs3big"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in form["fields"].items()
    ) + (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
         'filename="big"\r\n\r\n').encode()  # fmt: skip
    tail = f"\r\n--{boundary}--\r\n".encode()

    gw.reset_peak_rss()
    # http.client, not requests: it streams a body of a known length.
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=600)
    conn.putrequest("POST", f"/{BUCKET}")
    conn.putheader("content-type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("content-length", str(len(head) + total + len(tail)))
    conn.endheaders()
    conn.send(head)
    for _ in range(total // len(block)):
        conn.send(block)
    conn.send(tail)
    response = conn.getresponse()
    status, text = response.status, response.read()
    conn.close()
    assert status == 204, text
    assert gw.peak_rss() < 150 * MiB, gw.peak_rss() // MiB
    assert owner.head_object(Bucket=BUCKET, Key="big")["ContentLength"] == total
    owner.delete_object(Bucket=BUCKET, Key="big")


def test_a_browser_form_on_another_origin_uploads_and_is_redirected(
    gw: GatewayProcess,
    owner: Any,
    driver: Any,
    page_server: PageServer,
    tmp_path: Any,
    forms: Any,
) -> None:
    from selenium.webdriver.common.by import By

    origin, pages = page_server.origin, page_server.pages
    done = f"{origin}/done"
    form = forms().generate_presigned_post(
        BUCKET, "browser/${filename}", Fields={"success_action_redirect": done},
        Conditions=[{"success_action_redirect": done}],
    )  # fmt: skip
    inputs = "".join(
        f'<input type="hidden" name="{k}" value="{v}">'
        for k, v in form["fields"].items()
    )
    pages["/form"] = (
        f'<html><body><form id="f" action="{form["url"]}" method="post" '
        f'enctype="multipart/form-data">{inputs}<input type="file" name="file" id="file">'
        '<input type="submit" id="go"></form></body></html>'
    ).encode()
    upload = tmp_path / "photo.jpg"
    upload.write_bytes(b"\xff\xd8 not really a jpeg")
    driver.get(f"{origin}/form")
    driver.find_element(By.ID, "file").send_keys(str(upload))
    driver.find_element(By.ID, "go").click()
    wait_for(lambda: driver.current_url.startswith(done), 30)
    assert "key=browser%2Fphoto.jpg" in driver.current_url
    got = owner.get_object(Bucket=BUCKET, Key="browser/photo.jpg")["Body"].read()
    assert got == b"\xff\xd8 not really a jpeg"
