"""A real headless Chromium (Debian's chromium + chromium-driver, driven by
selenium) for the tests of pages: the bucket browser, CORS from another
origin."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def chromium(profile_dir: Path) -> Any:
    """A fresh headless Chromium whose downloads land in
    ``profile_dir / "downloads"`` (as ``driver.downloads``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile_dir / 'profile'}",
                "--window-size=1200,900"):  # fmt: skip
        opts.add_argument(arg)
    downloads = profile_dir / "downloads"
    downloads.mkdir()
    opts.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
    })  # fmt: skip
    d = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
    d.downloads = downloads
    return d


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    """``predicate()``'s first true value (exceptions count as false),
    polled every 0.1 s for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


class PageServer:
    """A web server on another origin (its own loopback port) serving the
    pages a test puts in ``pages`` (path -> HTML; other paths: "done")."""

    def __init__(self) -> None:
        import http.server
        import threading

        pages: dict[str, bytes] = {}
        self.pages = pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0], b"done")
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
