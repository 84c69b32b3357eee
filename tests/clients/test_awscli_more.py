"""aws CLI workflows users run: sync twice, mv, rm --recursive, presign."""

from __future__ import annotations

import os
import subprocess

from tests.integration.conftest import AwsCli


def test_aws_sync_twice_uploads_nothing_the_second_time(gw, tmp_path) -> None:
    """A tree of a few hundred files synced twice: the second sync uploads
    nothing (sizes and LastModified compare equal); mv and rm --recursive."""
    aws = AwsCli(gw.endpoint, str(tmp_path))
    aws("s3", "mb", "s3://sync-bkt")
    tree = tmp_path / "tree"
    for i in range(300):
        d = tree / f"d{i % 10}" / f"e{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.txt").write_bytes(os.urandom(50 + i))
    first = aws("s3", "sync", str(tree), "s3://sync-bkt/tree").stdout
    assert first.count("upload:") == 300
    second = aws("s3", "sync", str(tree), "s3://sync-bkt/tree").stdout
    assert "upload:" not in second
    (tree / "d0" / "e0" / "f0.txt").write_bytes(b"changed size")
    third = aws("s3", "sync", str(tree), "s3://sync-bkt/tree").stdout
    assert third.count("upload:") == 1
    aws("s3", "mv", "s3://sync-bkt/tree/d1/e1/f1.txt", "s3://sync-bkt/moved.txt")
    listed = aws("s3", "ls", "--recursive", "s3://sync-bkt").stdout
    assert "moved.txt" in listed and "d1/e1/f1.txt" not in listed
    back = tmp_path / "back"
    aws("s3", "sync", "s3://sync-bkt/tree", str(back))
    assert (back / "d2" / "e2" / "f2.txt").read_bytes() == (
        tree / "d2" / "e2" / "f2.txt"
    ).read_bytes()
    aws("s3", "rm", "--recursive", "s3://sync-bkt")
    assert aws("s3", "ls", "--recursive", "s3://sync-bkt", check=False).stdout == ""
    aws("s3", "rb", "s3://sync-bkt")


def test_aws_presign_and_curl(gw, tmp_path) -> None:
    """aws s3 presign (SigV2 by default, SigV4 when configured) + curl."""
    aws = AwsCli(gw.endpoint, str(tmp_path))
    aws("s3", "mb", "s3://presign-bkt")
    f = tmp_path / "p.txt"
    f.write_bytes(b"presigned via cli")
    aws("s3", "cp", str(f), "s3://presign-bkt/p.txt")
    v2 = aws("s3", "presign", "s3://presign-bkt/p.txt").stdout.strip()
    assert "AWSAccessKeyId=" in v2
    v4_aws = AwsCli(gw.endpoint, str(tmp_path / "v4") if (tmp_path / "v4").mkdir() is None else "",
                    "    signature_version = s3v4\n")  # fmt: skip
    v4 = v4_aws("s3", "presign", "s3://presign-bkt/p.txt").stdout.strip()
    assert "X-Amz-Signature=" in v4
    for url in (v2, v4):
        out = subprocess.run(["curl", "-s", url], capture_output=True, timeout=30)
        assert out.stdout == b"presigned via cli"
