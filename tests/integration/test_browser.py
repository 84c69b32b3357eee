"""The bucket browser (?browser=true) in a real headless Chromium (Debian's
chromium + chromium-driver, driven by selenium), security on."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator

import pytest

from tests.integration.test_security import SECURE, client, getsecret
from tests.support.browser import wait_for
from tests.support.gateway import REPO, GatewayProcess

ARTIFACTS = os.environ.get("OZS3_ARTIFACTS", os.path.join(REPO, "test-artifacts"))


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[GatewayProcess, str]]:
    gw = GatewayProcess(
        str(tmp_path_factory.mktemp("web") / "data"), env=SECURE
    ).start()
    secret = getsecret(gw.data_dir, "webuser")
    yield gw, secret
    gw.stop()
    assert not gw.tracebacks(), gw.log()


def _names(d) -> list[str]:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    return [e.text for e in d.find_elements(By.CSS_SELECTOR, "#rows td:first-child")]


def test_bucket_browser_end_to_end(web, driver, tmp_path) -> None:
    """Sign in, navigate into folders by clicking, download a file (bytes
    compared), upload one, delete one, page through a large folder."""
    from selenium.webdriver.common.by import By

    gw, secret = web
    s3 = client(gw, "webuser", secret)
    s3.create_bucket(Bucket="browse")
    blob = os.urandom(3000)
    s3.put_object(Bucket="browse", Key="top.txt", Body=b"top")
    s3.put_object(Bucket="browse", Key="docs/a b+c.bin", Body=blob)
    s3.put_object(Bucket="browse", Key="docs/sub/deep.txt", Body=b"deep")
    for i in range(60):
        s3.put_object(Bucket="browse", Key=f"many/f{i:02d}", Body=b"m")
    d = driver
    d.get(f"{gw.endpoint}/browse?browser=true")
    d.find_element(By.ID, "access").send_keys("webuser")
    d.find_element(By.ID, "secret").send_keys(secret)
    d.find_element(By.ID, "signin").click()
    wait_for(lambda: "top.txt" in _names(d))
    assert _names(d) == ["docs/", "many/", "top.txt"]
    d.find_element(By.LINK_TEXT, "docs/").click()
    wait_for(lambda: "a b+c.bin" in _names(d))
    assert _names(d) == ["sub/", "a b+c.bin"]
    row = d.find_element(By.CSS_SELECTOR, 'tr.object[data-key="docs/a b+c.bin"]')
    assert "2.9 KiB" in row.text
    row.find_element(By.CSS_SELECTOR, "a.download").click()
    target = d.downloads / "a b+c.bin"  # type: ignore[attr-defined]
    wait_for(lambda: target.exists() and target.stat().st_size == len(blob))
    assert target.read_bytes() == blob
    up = tmp_path / "uploaded.txt"
    up.write_bytes(b"from the browser")
    d.find_element(By.ID, "file").send_keys(str(up))
    d.find_element(By.ID, "upload").click()
    wait_for(lambda: "uploaded.txt" in _names(d))
    assert (
        s3.get_object(Bucket="browse", Key="docs/uploaded.txt")["Body"].read()
        == b"from the browser"
    )
    row = d.find_element(By.CSS_SELECTOR, 'tr.object[data-key="docs/a b+c.bin"]')
    row.find_element(By.CSS_SELECTOR, "button.delete").click()
    wait_for(lambda: "a b+c.bin" not in _names(d))
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        s3.head_object(Bucket="browse", Key="docs/a b+c.bin")
    os.makedirs(ARTIFACTS, exist_ok=True)
    d.save_screenshot(os.path.join(ARTIFACTS, "bucket-browser-docs.png"))
    d.find_element(By.CSS_SELECTOR, "#crumbs a.crumb").click()  # back to the root
    wait_for(lambda: "many/" in _names(d))
    d.find_element(By.LINK_TEXT, "many/").click()
    wait_for(lambda: len(_names(d)) == 50)
    more = d.find_element(By.ID, "more")
    assert more.is_displayed()
    more.click()
    wait_for(lambda: len(_names(d)) == 60)
    assert _names(d)[-1] == "f59"
    d.save_screenshot(os.path.join(ARTIFACTS, "bucket-browser-paged.png"))
    with open(os.path.join(gw.data_dir, "logs", "s3g-audit.log")) as f:
        audit = f.read()
    assert secret not in audit and secret not in gw.log()


def test_wrong_secret_shows_the_s3_error(web, driver) -> None:
    """A wrong secret signs requests the gateway refuses; the page says so."""
    from selenium.webdriver.common.by import By

    gw, _ = web
    d = driver
    d.get(f"{gw.endpoint}/browse?browser=true")
    d.find_element(By.ID, "access").send_keys("webuser")
    d.find_element(By.ID, "secret").send_keys("wrong")
    d.find_element(By.ID, "signin").click()
    wait_for(lambda: "SignatureDoesNotMatch" in d.find_element(By.ID, "status").text)


def test_browser_page_virtual_host_and_no_auth_needed(tmp_path) -> None:
    """The page is served for bucket.domain/?browser=true too, without
    credentials, with headers that keep presigned links from leaking."""
    gw = GatewayProcess(
        str(tmp_path / "data"),
        env={**SECURE, "OZONE-SITE.XML_ozone.s3g.domain.name": "s3.test"},
    )
    gw.start()  # fmt: skip
    try:
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        conn.request(
            "GET", "/?browser=true", headers={"Host": f"anybkt.s3.test:{gw.port}"}
        )
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200 and b"<title>ozs3 bucket browser</title>" in body
        assert r.getheader("Referrer-Policy") == "no-referrer"
        assert r.getheader("Content-Type").startswith("text/html")
    finally:
        gw.stop()
