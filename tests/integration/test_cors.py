"""CORS on the real gateway process, security on: Put/Get/DeleteBucketCors
with boto3, the OPTIONS preflight (unauthenticated, as S3 answers it) and
the Access-Control-* headers of actual requests over raw HTTP, and a page
on another origin in a real headless Chromium that uploads and reads an
object with fetch() (presigned URLs) once the bucket allows its origin,
and is stopped by the browser before."""

from __future__ import annotations

import http.client
import http.server
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_security import client, getsecret, secure_gateway
from tests.support.browser import PageServer, wait_for
from tests.support.gateway import GatewayProcess

BUCKET = "cors-bkt"
ORIGIN = "http://app.example"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from secure_gateway(tmp_path_factory, "cors")


@pytest.fixture(scope="module")
def owner(gw: GatewayProcess) -> Any:
    s3 = client(gw, "corsuser", getsecret(gw.data_dir, "corsuser"))
    s3.create_bucket(Bucket=BUCKET)
    return s3


def request(
    gw: GatewayProcess, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    host, port = gw.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


RULES = {
    "CORSRules": [
        {
            "ID": "app",
            "AllowedOrigins": [ORIGIN],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["x-amz-*", "content-type"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
    ]
}


def test_cors_configuration_is_put_read_and_deleted(owner: Any) -> None:
    with pytest.raises(ClientError) as e:
        owner.get_bucket_cors(Bucket=BUCKET)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    owner.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=RULES)
    assert owner.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == RULES["CORSRules"]
    bad = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    with pytest.raises(ClientError) as e:
        owner.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=bad)
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    # The refused configuration changed nothing.
    assert owner.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == RULES["CORSRules"]
    owner.delete_bucket_cors(Bucket=BUCKET)
    with pytest.raises(ClientError) as e:
        owner.get_bucket_cors(Bucket=BUCKET)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def test_someone_else_cannot_set_a_buckets_cors(gw: GatewayProcess, owner: Any) -> None:
    other = client(gw, "corsother", getsecret(gw.data_dir, "corsother"))
    with pytest.raises(ClientError) as e:
        other.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=RULES)
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def preflight(gw: GatewayProcess, path: str, **headers: str) -> Any:
    return request(gw, "OPTIONS", path, headers)


def test_preflights_are_answered_from_the_rules_without_credentials(
    gw: GatewayProcess, owner: Any
) -> None:
    owner.delete_bucket_cors(Bucket=BUCKET)
    path = f"/{BUCKET}/some/key"
    asks = {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}
    status, _, body = preflight(gw, path, **asks)
    assert status == 403 and b"<Code>AccessForbidden</Code>" in body
    assert b"CORS is not enabled for this bucket" in body
    owner.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=RULES)
    status, headers, _ = preflight(
        gw,
        path,
        **asks,
        **{"Access-Control-Request-Headers": "Content-Type, X-Amz-Date"},
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert headers["access-control-expose-headers"] == "ETag"
    assert headers["access-control-max-age"] == "600"
    assert headers["access-control-allow-credentials"] == "true"
    assert "Origin" in headers["vary"]
    # A header, a method or an origin no rule allows.
    for refused in (
        {**asks, "Access-Control-Request-Headers": "x-custom"},
        {**asks, "Access-Control-Request-Method": "DELETE"},
        {**asks, "Origin": "http://evil.example"},
    ):
        status, headers, body = preflight(gw, path, **refused)
        assert status == 403, refused
        assert b"This CORS request is not allowed" in body
        assert "access-control-allow-origin" not in headers
    # The second rule: HEAD from anywhere.
    status, headers, _ = preflight(
        gw,
        f"/{BUCKET}",
        Origin="https://x",
        **{"Access-Control-Request-Method": "HEAD"},
    )
    assert (status, headers["access-control-allow-origin"]) == (200, "*")
    status, _, body = preflight(gw, path, **{"Access-Control-Request-Method": "GET"})
    assert status == 400 and b"Origin request header needed" in body
    status, _, body = preflight(gw, path, Origin=ORIGIN)
    assert status == 400 and b"Access-Control-Request-Method" in body


def test_actual_requests_get_the_headers_of_the_rule_that_allows_them(
    gw: GatewayProcess, owner: Any
) -> None:
    owner.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=RULES)
    owner.put_object(Bucket=BUCKET, Key="k", Body=b"body")
    url = owner.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=600
    )
    path = url.split(gw.endpoint, 1)[1]
    status, headers, body = request(gw, "GET", path, {"Origin": ORIGIN})
    assert (status, body) == (200, b"body")
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-expose-headers"] == "ETag"
    # Another origin: no Allow-Origin, but the answer varies by Origin.
    status, headers, _ = request(gw, "GET", path, {"Origin": "http://evil.example"})
    assert status == 200 and "access-control-allow-origin" not in headers
    assert "Origin" in headers["vary"]
    # An error (unsigned: AccessDenied) carries them too, so the page can
    # read it.
    status, headers, body = request(gw, "GET", f"/{BUCKET}/k", {"Origin": ORIGIN})
    assert status == 403 and b"AccessDenied" in body
    assert headers["access-control-allow-origin"] == ORIGIN
    # So does a PUT refused before its body is read.
    status, headers, body = request(
        gw,
        "PUT",
        f"/{BUCKET}/k",
        {"Origin": ORIGIN, "Content-Length": "3", "Expect": "100-continue"},
    )
    assert status == 403 and b"AccessDenied" in body
    assert headers["access-control-allow-origin"] == ORIGIN


PAGE = """<!doctype html><title>loading</title><script>
async function run() {
  try {
    const put = await fetch(%(put)r, {method: "PUT", body: "from another origin",
                                      headers: {"content-type": "text/plain"}});
    const etag = put.headers.get("ETag");
    const got = await fetch(%(get)r);
    document.title = "done " + put.status + " " + etag + " " + (await got.text());
  } catch (e) {
    document.title = "error " + e;
  }
}
run();
</script>"""


def test_a_page_on_another_origin_uploads_and_reads_with_fetch(
    gw: GatewayProcess, owner: Any, driver: Any, page_server: PageServer
) -> None:
    origin = page_server.origin
    fill: dict[str, str] = {}
    key = "from-the-page.txt"
    params = {"Bucket": BUCKET, "Key": key}
    fill["put"] = owner.generate_presigned_url(
        "put_object", Params={**params, "ContentType": "text/plain"}, ExpiresIn=600
    )
    fill["get"] = owner.generate_presigned_url(
        "get_object", Params=params, ExpiresIn=600
    )

    page_server.pages["/"] = (PAGE % fill).encode()
    # No rule for the page's origin: the browser stops the upload.
    owner.delete_bucket_cors(Bucket=BUCKET)
    driver.get(origin)
    title = wait_for(lambda: driver.title if driver.title != "loading" else None)
    assert title.startswith("error"), title
    with pytest.raises(ClientError):
        owner.head_object(Bucket=BUCKET, Key=key)

    rules = {"CORSRules": [{"AllowedOrigins": [origin], "AllowedMethods": ["PUT", "GET"],
                            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"]}]}  # fmt: skip
    owner.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=rules)
    driver.get(origin)
    title = wait_for(lambda: driver.title if driver.title != "loading" else None)
    etag = owner.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert title == f"done 200 {etag} from another origin", title
    assert owner.get_object(Bucket=BUCKET, Key=key)["Body"].read() == (
        b"from another origin"
    )
