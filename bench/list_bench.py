#!/usr/bin/env python3
"""Listing alone: ms per 1,000-key ListObjectsV2 page (first, middle,
prefix, delimiter; median of 5) on a bucket of ``--keys`` keys, and keys/s
paging a whole ``--all-keys`` bucket, on one gateway process (security off
unless ``--secure``).  The keys are written into the embedded OM directly
(bench.populate_keys).  The same cases as bench.py's listing section,
without its hour of other workloads.

    python bench/list_bench.py --keys 1000000 --all-keys 100000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench import Client, MiB, Signer, emit, list_all, listing, populate_keys  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--all-keys", type=int, default=100_000)
    ap.add_argument("--reactor", default="default")
    ap.add_argument("--secure", action="store_true", help="security on")
    args = ap.parse_args()

    from tests.integration.test_security import SECURE, getsecret
    from tests.support.gateway import GatewayProcess

    env = SECURE if args.secure else None
    data = os.path.join(tempfile.mkdtemp(prefix="ozs3-list-bench-"), "data")
    gw = GatewayProcess(data, env=env, reactor=args.reactor).start()
    signer = Signer("bench", getsecret(data, "bench") if args.secure else "secret")
    for bucket in ("listing", "listing-all"):
        Client(gw.endpoint, signer).call("PUT", f"/{bucket}")
    gw.stop()
    populate_keys(data, "listing", args.keys)
    populate_keys(data, "listing-all", args.all_keys)
    gw = GatewayProcess(data, env=env, reactor=args.reactor).start()
    try:
        client = Client(gw.endpoint, signer)
        for rec in listing(client, "listing", args.keys):
            emit({**rec, "secure": args.secure})
        emit({**list_all(client, "listing-all", args.all_keys), "secure": args.secure})
        emit({"workload": "peak_rss_total", "MiB": round(gw.peak_rss() / MiB, 1)})
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
