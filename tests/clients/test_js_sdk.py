"""The AWS SDK for JavaScript v3 (npm), virtual-host style by default."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

JS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "js")


def test_js_sdk_v3_virtual_host(gw) -> None:
    """Create, string and stream PutObject (aws-chunked with a CRC32 trailer),
    lib-storage multipart, Get/Head/Copy/List/Delete over bucket.localhost."""
    node = shutil.which("node")
    assert node, "node is required (Debian nodejs or the machine's Node.js)"
    if not os.path.isdir(os.path.join(JS, "node_modules", "@aws-sdk", "client-s3")):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=JS, check=True, timeout=600)  # fmt: skip
    r = subprocess.run(
        [node, "s3_client_test.mjs", f"http://localhost:{gw.port}", "vhost-js"],
        cwd=JS, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "js sdk ok" in r.stdout
    with open(os.path.join(gw.data_dir, "logs", "s3g-audit.log")) as f:
        records = [json.loads(line) for line in f]
    mine = [r for r in records if r["bucket"] == "vhost-js"]
    assert {r["operation"] for r in mine} >= {"PutObject", "UploadPart", "GetObject"}
    assert {r["style"] for r in mine} == {"virtual"}, "some request went path-style"
