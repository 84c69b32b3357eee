#!/usr/bin/env python3
"""What authorisation by bucket policy costs: 4 KiB GET ops/s on a gateway
with security on (every request's SigV4 checked), its bucket without a
policy and with a 20-statement one, read by the bucket's owner and by a
teammate whom only the policy's last statement lets in (so every statement
is evaluated for each GET), and by a teammate whom each object's ACL lets
in (no policy: the bucket's ownership controls and the key's grants are
read for each GET).  Rounds alternate the four cases in one run;
medians are reported.  Prints one JSON line per measurement, then a summary.

    python bench/policy_bench.py --ops 3000 --concurrency 16 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench import Client, Signer, emit, small_ops  # noqa: E402

BUCKET = "policy-bench"
OBJECT_WRITER = (
    b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership>"
    b"</Rule></OwnershipControls>"
)


def twenty_statements(bucket: str, reader: str) -> str:
    """Nineteen statements that do not let the reader in (other users,
    other prefixes, conditions that fail, denies of other keys), then the
    one that does."""
    arn = f"arn:aws:s3:::{bucket}"
    statements = []
    for i in range(6):
        statements.append({"Sid": f"other-user-{i}", "Effect": "Allow",
                           "Principal": {"AWS": "owner"}, "Action": "s3:GetObject",
                           "Resource": f"{arn}/team{i}/*"})  # fmt: skip
    for i in range(6):
        statements.append({"Sid": f"deny-{i}", "Effect": "Deny", "Principal": "*",
                           "Action": ["s3:DeleteObject", "s3:PutObject"],
                           "Resource": f"{arn}/locked{i}/*"})  # fmt: skip
    for i in range(7):
        statements.append({"Sid": f"cond-{i}", "Effect": "Allow", "Principal": "*",
                           "Action": ["s3:GetObject", "s3:ListBucket"],
                           "Resource": [arn, f"{arn}/*"],
                           "Condition": {"IpAddress": {"aws:SourceIp": f"10.{i}.0.0/16"},
                                         "StringLike": {"aws:Referer": "https://x/*"}}})  # fmt: skip
    statements.append({"Sid": "reader", "Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:iam::{reader}:root"},
                       "Action": "s3:Get*", "Resource": f"{arn}/small/*"})  # fmt: skip
    assert len(statements) == 20
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reactor", default="default")
    args = ap.parse_args()

    from tests.integration.test_security import SECURE, getsecret
    from tests.support.gateway import GatewayProcess

    work = tempfile.mkdtemp(prefix="ozs3-policy-bench-")
    gw = GatewayProcess(os.path.join(work, "data"), env=SECURE, reactor=args.reactor)
    gw.start()
    try:
        owner = Signer("owner", getsecret(gw.data_dir, "owner"))
        reader = Signer("reader", getsecret(gw.data_dir, "reader"))
        admin = Client(gw.endpoint, owner)
        admin.call("PUT", f"/{BUCKET}")
        payload = os.urandom(4096)
        small_ops(gw.endpoint, owner, BUCKET, args.ops, args.concurrency, ("PUT",),
                  payload)  # fmt: skip
        # ACLs on (ObjectWriter), and each object readable by the teammate.
        admin.call("PUT", f"/{BUCKET}", OBJECT_WRITER, query="ownershipControls")
        per = max(1, args.ops // args.concurrency)
        for n in range(args.concurrency):
            for i in range(per):
                admin.call("PUT", f"/{BUCKET}/small/{n}/{i}", query="acl",
                           headers={"x-amz-grant-read": "id=reader"})  # fmt: skip
        policy = twenty_statements(BUCKET, "reader")
        results: dict[str, list[float]] = {}
        for round_ in range(args.rounds):
            for case, signer, with_policy in (
                ("owner, no policy", owner, False),
                ("owner, 20 statements", owner, True),
                ("teammate, 20 statements", reader, True),
                ("teammate, object ACL", reader, False),
            ):
                if with_policy:
                    admin.call("PUT", f"/{BUCKET}", policy.encode(), query="policy")
                else:
                    admin.call("DELETE", f"/{BUCKET}", query="policy")
                [get] = small_ops(gw.endpoint, signer, BUCKET, args.ops,
                                  args.concurrency, ("GET",), payload)  # fmt: skip
                get.update(case=case, round=round_)
                emit(get)
                results.setdefault(case, []).append(float(get["ops_per_s"]))  # type: ignore[arg-type]
        base = statistics.median(results["owner, no policy"])
        summary = {
            case: {"median_ops_per_s": round(statistics.median(v), 1),
                   "vs_no_policy": round(statistics.median(v) / base, 3)}
            for case, v in results.items()
        }  # fmt: skip
        emit({"workload": "policy_summary", "concurrency": args.concurrency,
              "ops": args.ops, "rounds": args.rounds, **summary})  # fmt: skip
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
