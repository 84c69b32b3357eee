#!/usr/bin/env python3
"""Where one gateway process's CPU goes for one kind of request: py-spy
samples the process (every thread, native frames off) while the load
generator runs 4 KiB PUT, GET or HEAD, or pages a bucket with ListObjectsV2;
each sample is charged to the package of its innermost Python frame (the
``self`` time of twisted.web's HTTP code, Klein and werkzeug, Deferreds,
SQLite calls, signatures ...).  Prints the share of samples per package,
the CPU-seconds the process used per request (from /proc), and the top
frames.  Needs py-spy (pip install py-spy) and root or ptrace rights.

    python bench/profile_requests.py --secure --workload GET --ops 20000
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from peer_bench import Target, cpu_seconds, fill, tree_pids  # noqa: E402

from bench import Client, Signer, emit, list_all, small_ops  # noqa: E402

# (package, where its frames live): the first that matches a frame's file.
PACKAGES = [
    ("twisted.web HTTP parsing and writing", ("twisted/web/",)),
    ("Klein + werkzeug routing", ("klein/", "werkzeug/")),
    ("Deferreds", ("twisted/internet/defer.py", "ozs3/_deferred.py")),
    ("reactor, transports, threads", ("twisted/internet/", "twisted/python/",
                                      "threading.py", "queue.py")),
    ("signatures (SigV4/SigV2)", ("ozs3/s3/sigv4", "ozs3/s3/sigv2", "ozs3/s3/authn",
                                  "ozs3/s3/signed_request", "hmac.py", "hashlib")),
    ("OM (SQLite)", ("ozs3/storage/om/",)),
    ("datanode (block files, checksums)", ("ozs3/storage/datanode/",
                                           "ozs3/storage/reader", "ozs3/storage/writer")),
    ("storage (other)", ("ozs3/storage/",)),
    ("audit and metrics", ("ozs3/ops/", "prometheus_client/", "json/")),
    ("S3 layer (handlers, headers, XML, authz)", ("ozs3/",)),
    ("other", ("",)),
]  # fmt: skip


def package_of(frame: str) -> str:
    for name, needles in PACKAGES:
        if any(n in frame for n in needles):
            return name
    return "other"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=["PUT", "GET", "HEAD", "LIST"], default="GET")
    ap.add_argument("--ops", type=int, default=20000, help="requests (LIST: pages)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--secure", action="store_true", help="security on")
    ap.add_argument("--keys", type=int, default=4000, help="keys GET/HEAD/LIST use")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    from tests.integration.test_security import SECURE, getsecret
    from tests.support.gateway import GatewayProcess

    data = os.path.join(tempfile.mkdtemp(prefix="ozs3-profile-"), "data")
    gw = GatewayProcess(data, env=SECURE if args.secure else None).start()
    try:
        signer = Signer("bench", getsecret(data, "bench") if args.secure else "x")
        pid = gw.proc.pid  # type: ignore[union-attr]
        target = Target("ozs3", gw.endpoint, signer, lambda: tree_pids(pid))
        keys = args.keys - args.keys % args.concurrency
        pages = -(-keys // 1000)
        payload = os.urandom(4096)
        fill(target, "profile", keys, args.concurrency, payload)
        out = os.path.join(os.path.dirname(data), "samples.txt")
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--format", "raw",
                                "--rate", "500", "--output", out, "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(2)  # py-spy attaches
        cpu = cpu_seconds(target.pids())
        done = 0
        t = time.perf_counter()
        while done < args.ops:
            if args.workload == "LIST":
                # --ops counts pages here (a listing of --keys is
                # ceil(keys / 1000) of them), not whole listings.
                list_all(Client(gw.endpoint, signer), "profile", keys)
                done += pages
            else:
                # PUT: fresh keys each pass; GET and HEAD: the filled ones.
                bucket = "profile"
                if args.workload == "PUT":
                    bucket = f"profile-put-{done}"
                    Client(gw.endpoint, signer).call("PUT", f"/{bucket}")
                small_ops(gw.endpoint, signer, bucket, keys, args.concurrency,
                          (args.workload,), payload)  # fmt: skip
                done += keys
        wall = time.perf_counter() - t
        used = cpu_seconds(target.pids()) - cpu
        spy.send_signal(2)
        spy.wait(60)
    finally:
        gw.stop()
    unit = "page" if args.workload == "LIST" else "request"
    per = done * keys / pages if args.workload == "LIST" else done  # keys listed
    emit({"workload": args.workload, "secure": args.secure, "requests": done,
          "wall_s": round(wall, 2), f"cpu_ms_per_{unit}": round(used * 1000 / done, 3),
          "per_1000_keys" if args.workload == "LIST" else "ops_per_s":
              round(used * 1e6 / per, 3) if args.workload == "LIST"
              else round(done / wall, 1)})  # fmt: skip
    by_package: collections.Counter[str] = collections.Counter()
    by_frame: collections.Counter[str] = collections.Counter()
    total = 0
    with open(out) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            frames = stack.split(";")
            leaf = frames[-1]
            n = int(count)
            total += n
            by_package[package_of(leaf)] += n
            by_frame[leaf] += n
    for name, n in by_package.most_common():
        emit({"package": name, "share_pct": round(100 * n / total, 1)})
    for name, n in by_frame.most_common(args.top):
        emit({"frame": name, "share_pct": round(100 * n / total, 1)})


if __name__ == "__main__":
    main()
