"""s3fs-fuse (Debian's s3fs) mounting a bucket, path-style and virtual-host."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time

import boto3
import pytest

MiB = 1024 * 1024


def _mount(gw, bucket: str, mnt: str, passwd: str, path_style: bool) -> None:  # type: ignore[no-untyped-def]
    host = "127.0.0.1" if path_style else "localhost"
    opts = [f"url=http://{host}:{gw.port}", f"passwd_file={passwd}",
            "endpoint=us-east-1", "connect_timeout=10", "retries=2",
            "stat_cache_expire=1"]  # fmt: skip
    if path_style:
        opts.append("use_path_request_style")
    r = subprocess.run(["s3fs", bucket, mnt, "-o", ",".join(opts)], capture_output=True,
                       text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    for _ in range(100):
        if subprocess.run(["mountpoint", "-q", mnt]).returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail(f"{mnt} did not mount")


def _umount(mnt: str) -> None:
    for cmd in (["fusermount3", "-u", mnt], ["fusermount", "-u", mnt], ["umount", mnt]):
        try:
            if subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0:
                break
        except FileNotFoundError:
            continue
    for _ in range(100):
        if subprocess.run(["mountpoint", "-q", mnt]).returncode != 0:
            return
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("bucket", "path_style"), [("fuse-path", True), ("vhost-fuse", False)]
)
def test_s3fs_fuse_mount(gw, tmp_path, bucket: str, path_style: bool) -> None:
    """Through the mount: mkdir, write, cat, ls, mv, rm, append, overwrite,
    modes and mtimes kept, a 200 MiB file intact; remount shows the same tree."""
    s3 = boto3.client("s3", endpoint_url=gw.endpoint, aws_access_key_id="clientuser",
                      aws_secret_access_key="clientsecret", region_name="us-east-1")  # fmt: skip
    s3.create_bucket(Bucket=bucket)
    passwd = tmp_path / "passwd"
    passwd.write_text("clientuser:clientsecret\n")
    passwd.chmod(0o600)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    _mount(gw, bucket, str(mnt), str(passwd), path_style)
    try:
        (mnt / "dir" / "sub").mkdir(parents=True)
        (mnt / "dir" / "a.txt").write_text("hello fuse\n")
        assert (mnt / "dir" / "a.txt").read_text() == "hello fuse\n"
        assert sorted(os.listdir(mnt / "dir")) == ["a.txt", "sub"]
        with open(mnt / "dir" / "a.txt", "a") as f:
            f.write("appended\n")
        assert (mnt / "dir" / "a.txt").read_text() == "hello fuse\nappended\n"
        (mnt / "dir" / "a.txt").write_text("overwritten")
        assert (mnt / "dir" / "a.txt").read_text() == "overwritten"
        os.rename(mnt / "dir" / "a.txt", mnt / "dir" / "sub" / "b.txt")
        assert not (mnt / "dir" / "a.txt").exists()
        os.chmod(mnt / "dir" / "sub" / "b.txt", 0o640)
        os.utime(mnt / "dir" / "sub" / "b.txt", (1_600_000_000, 1_600_000_000))
        (mnt / "gone.txt").write_text("x")
        os.remove(mnt / "gone.txt")
        big = os.urandom(200 * MiB)
        with open(mnt / "big.bin", "wb") as f:
            for i in range(0, len(big), 8 * MiB):
                f.write(big[i : i + 8 * MiB])
        want = hashlib.sha256(big).hexdigest()
        del big
    finally:
        _umount(str(mnt))
    head = s3.head_object(Bucket=bucket, Key="dir/sub/b.txt")
    assert "mode" in head["Metadata"] and "mtime" in head["Metadata"]
    _mount(gw, bucket, str(mnt), str(passwd), path_style)
    try:
        st = os.stat(mnt / "dir" / "sub" / "b.txt")
        assert st.st_mode & 0o777 == 0o640
        assert int(st.st_mtime) == 1_600_000_000
        assert (mnt / "dir" / "sub" / "b.txt").read_text() == "overwritten"
        assert sorted(os.listdir(mnt)) == ["big.bin", "dir"]
        digest = hashlib.sha256()
        with open(mnt / "big.bin", "rb") as f:
            while block := f.read(8 * MiB):
                digest.update(block)
        assert digest.hexdigest() == want
    finally:
        _umount(str(mnt))
