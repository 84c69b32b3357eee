"""rclone (Debian's) against the gateway: copy, sync, check, lsf, delete, purge."""

from __future__ import annotations

import os
import subprocess


def _rclone(gw, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    # AWS_CA_BUNDLE (set on some machines) makes rclone's S3 client fail on
    # plain-HTTP endpoints; nothing here uses TLS.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update(
        RCLONE_CONFIG_OZ_TYPE="s3", RCLONE_CONFIG_OZ_PROVIDER="Other",
        RCLONE_CONFIG_OZ_ACCESS_KEY_ID="clientuser",
        RCLONE_CONFIG_OZ_SECRET_ACCESS_KEY="clientsecret",
        RCLONE_CONFIG_OZ_ENDPOINT=gw.endpoint, RCLONE_CONFIG_OZ_REGION="us-east-1",
        RCLONE_CONFIG="/dev/null",
    )  # fmt: skip
    r = subprocess.run(["rclone", *args], capture_output=True, text=True, env=env,
                       timeout=300)  # fmt: skip
    assert r.returncode == 0, f"rclone {' '.join(args)}: {r.stdout}\n{r.stderr}"
    return r


def test_rclone_workflow(gw, tmp_path) -> None:
    """copy, check (MD5 ETags), sync, lsf, delete, purge — a multipart file
    (over rclone's 200 MiB cutoff is too slow here; --s3-upload-cutoff 5M)."""
    src = tmp_path / "src"
    for i in range(15):
        (src / f"dir{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"dir{i % 3}" / f"file{i}.bin").write_bytes(os.urandom(1000 * (i + 1)))
    (src / "big.bin").write_bytes(os.urandom(12 * 1024 * 1024))
    _rclone(gw, "copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", str(src),
            "oz:rclone-bkt/data")  # fmt: skip
    _rclone(gw, "check", str(src), "oz:rclone-bkt/data")
    listed = _rclone(gw, "lsf", "-R", "oz:rclone-bkt/data").stdout.split()
    assert "big.bin" in listed and "dir0/file0.bin" in listed
    (src / "dir0" / "file0.bin").unlink()
    (src / "new.txt").write_bytes(b"new")
    _rclone(gw, "sync", str(src), "oz:rclone-bkt/data")
    _rclone(gw, "check", str(src), "oz:rclone-bkt/data")
    listed = _rclone(gw, "lsf", "-R", "oz:rclone-bkt/data").stdout.split()
    assert "dir0/file0.bin" not in listed and "new.txt" in listed
    back = tmp_path / "back"
    _rclone(gw, "copy", "oz:rclone-bkt/data", str(back))
    assert (back / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
    _rclone(gw, "delete", "oz:rclone-bkt/data/dir1")
    assert not any(x.startswith("dir1/") for x in
                   _rclone(gw, "lsf", "-R", "oz:rclone-bkt/data").stdout.split())  # fmt: skip
    _rclone(gw, "purge", "oz:rclone-bkt")
    assert "rclone-bkt" not in _rclone(gw, "lsd", "oz:").stdout
