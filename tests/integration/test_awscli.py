"""The aws CLI (v1, as pip installs it) against the real gateway."""

from __future__ import annotations

import json
import os
import uuid


def test_aws_s3_mb_cp_ls_rm_rb(aws, tmp_path) -> None:
    """mb, cp up and down, ls, rm and rb work end to end."""
    name = f"cli-{uuid.uuid4().hex[:10]}"
    aws("s3", "mb", f"s3://{name}")
    src = tmp_path / "hello.txt"
    src.write_bytes(b"hello from the aws cli\n")
    aws("s3", "cp", str(src), f"s3://{name}/dir/hello.txt")
    listing = aws("s3", "ls", f"s3://{name}/dir/").stdout
    assert "hello.txt" in listing and "23" in listing
    top = aws("s3", "ls", f"s3://{name}").stdout
    assert "PRE dir/" in top
    dst = tmp_path / "back.txt"
    aws("s3", "cp", f"s3://{name}/dir/hello.txt", str(dst))
    assert dst.read_bytes() == src.read_bytes()
    buckets = aws("s3", "ls").stdout
    assert name in buckets
    aws("s3", "rm", f"s3://{name}/dir/hello.txt")
    assert "hello.txt" not in aws("s3", "ls", f"s3://{name}/dir/", check=False).stdout
    aws("s3", "rb", f"s3://{name}")
    assert name not in aws("s3", "ls").stdout


def test_aws_s3_cp_recursive_and_rm_recursive(aws, tmp_path) -> None:
    """A small tree uploads with --recursive, lists, and is removed again."""
    name = f"cli-{uuid.uuid4().hex[:10]}"
    aws("s3", "mb", f"s3://{name}")
    tree = tmp_path / "tree"
    for i in range(12):
        p = tree / f"d{i % 3}" / f"f{i}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(1000 + i))
    aws("s3", "cp", "--recursive", str(tree), f"s3://{name}/t/")
    out = aws("s3", "ls", "--recursive", f"s3://{name}/t/").stdout
    assert len(out.strip().splitlines()) == 12
    back = tmp_path / "back"
    aws("s3", "cp", "--recursive", f"s3://{name}/t/", str(back))
    for p in tree.rglob("*.bin"):
        assert (back / p.relative_to(tree)).read_bytes() == p.read_bytes()
    aws("s3", "rm", "--recursive", f"s3://{name}/t/")
    assert aws("s3", "ls", "--recursive", f"s3://{name}", check=False).stdout == ""
    aws("s3", "rb", f"s3://{name}")


def test_aws_s3api_object_calls(aws, tmp_path) -> None:
    """s3api put-object/head-object/get-object/list-objects-v2/delete-objects."""
    name = f"api-{uuid.uuid4().hex[:10]}"
    aws("s3api", "create-bucket", "--bucket", name)
    body = tmp_path / "b.bin"
    body.write_bytes(os.urandom(4096))
    put = json.loads(aws("s3api", "put-object", "--bucket", name, "--key", "k 1",
                         "--body", str(body), "--metadata", "a=b",
                         "--content-type", "image/png").stdout)  # fmt: skip
    head = json.loads(
        aws("s3api", "head-object", "--bucket", name, "--key", "k 1").stdout
    )
    assert head["ETag"] == put["ETag"]
    assert head["ContentLength"] == 4096
    assert head["Metadata"] == {"a": "b"}
    assert head["ContentType"] == "image/png"
    out = tmp_path / "out.bin"
    aws("s3api", "get-object", "--bucket", name, "--key", "k 1", "--range",
        "bytes=100-199", str(out))  # fmt: skip
    assert out.read_bytes() == body.read_bytes()[100:200]
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", name).stdout)
    assert [c["Key"] for c in listed["Contents"]] == ["k 1"]
    listed1 = json.loads(aws("s3api", "list-objects", "--bucket", name).stdout)
    assert [c["Key"] for c in listed1["Contents"]] == ["k 1"]
    deleted = json.loads(aws("s3api", "delete-objects", "--bucket", name, "--delete",
                             '{"Objects":[{"Key":"k 1"}]}').stdout)  # fmt: skip
    assert deleted["Deleted"] == [{"Key": "k 1"}]
    loc = json.loads(aws("s3api", "get-bucket-location", "--bucket", name).stdout)
    assert loc["LocationConstraint"] is None
    aws("s3api", "head-bucket", "--bucket", name)
    aws("s3api", "delete-bucket", "--bucket", name)


def test_aws_cli_reports_s3_error_codes(aws) -> None:
    """CLI errors name the S3 error code the gateway sent."""
    r = aws("s3api", "head-bucket", "--bucket", "no-such-bucket-cli", check=False)
    assert r.returncode != 0 and "404" in r.stderr
    r = aws("s3api", "get-object", "--bucket", "no-such-bucket-cli", "--key", "k",
            "/dev/null", check=False)  # fmt: skip
    assert "NoSuchBucket" in r.stderr
