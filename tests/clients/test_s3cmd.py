"""s3cmd (Debian's) against the gateway: mb, put, get, ls, sync, info, del, rb."""

from __future__ import annotations

import os
import subprocess


def _s3cmd(gw, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "s3cfg"
    if not cfg.exists():
        cfg.write_text(
            "[default]\naccess_key = clientuser\nsecret_key = clientsecret\n"
            f"host_base = 127.0.0.1:{gw.port}\nhost_bucket = 127.0.0.1:{gw.port}\n"
            "use_https = False\nbucket_location = US\nsignature_v2 = False\n"
        )
    r = subprocess.run(["s3cmd", "-c", str(cfg), *args], capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert r.returncode == 0, f"s3cmd {' '.join(args)}: {r.stdout}\n{r.stderr}"
    return r


def test_s3cmd_workflow(gw, tmp_path) -> None:
    """mb, put (single and multipart), get, ls, sync (twice), info, del, rb."""
    _s3cmd(gw, tmp_path, "mb", "s3://s3cmd-bkt")
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello s3cmd")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))  # > 15 MiB: multipart
    _s3cmd(gw, tmp_path, "put", str(small), "s3://s3cmd-bkt/small.txt")
    _s3cmd(gw, tmp_path, "put", str(big), "s3://s3cmd-bkt/big.bin")
    out = _s3cmd(gw, tmp_path, "ls", "s3://s3cmd-bkt").stdout
    assert "small.txt" in out and "big.bin" in out
    back = tmp_path / "back.bin"
    _s3cmd(gw, tmp_path, "get", "s3://s3cmd-bkt/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    tree = tmp_path / "tree"
    for i in range(20):
        (tree / f"d{i % 4}").mkdir(parents=True, exist_ok=True)
        (tree / f"d{i % 4}" / f"f{i}").write_bytes(os.urandom(100 + i))
    first = _s3cmd(gw, tmp_path, "sync", f"{tree}/", "s3://s3cmd-bkt/tree/").stdout
    assert first.count("upload:") == 20
    second = _s3cmd(gw, tmp_path, "sync", f"{tree}/", "s3://s3cmd-bkt/tree/").stdout
    assert "upload:" not in second
    info = _s3cmd(gw, tmp_path, "info", "s3://s3cmd-bkt").stdout
    assert "Location" in info and "FULL_CONTROL" in info
    oinfo = _s3cmd(gw, tmp_path, "info", "s3://s3cmd-bkt/small.txt").stdout
    assert "MD5 sum" in oinfo
    _s3cmd(gw, tmp_path, "del", "--recursive", "--force", "s3://s3cmd-bkt/")
    _s3cmd(gw, tmp_path, "rb", "s3://s3cmd-bkt")
    assert "s3cmd-bkt" not in _s3cmd(gw, tmp_path, "ls").stdout
