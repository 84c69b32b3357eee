#!/usr/bin/env python3
"""ozs3 against a peer S3 server (Ceph RGW), small requests and listing, in
the same run.

Targets: the peer (``--rgw`` starts Debian's Ceph RGW with
../shared/peers/ceph-rgw-start and reads its endpoint and keys, and leaves
it running for the next run: ../shared/peers/ceph-rgw-stop stops it; or
``--peer URL --peer-access-key K --peer-secret-key S``), and ozs3 with
security on (every SigV4 signature checked, as RGW checks them), one
process and ``--workers 2``, each on a fresh data directory.  Rounds
alternate the targets; each round runs 4 KiB PUT (ozs3: durable before its
200), GET (every byte compared), HEAD and DELETE at ``--concurrency``
keep-alive connections (bench/loadgen.py, one thread), then pages a bucket of
``--list-keys`` keys with ListObjectsV2 (1,000 keys a page, one connection).
Server CPU per request is read from /proc: the gateway's process tree,
every Ceph daemon for RGW, or ``--peer-pid``'s process tree (another tree's
gateway, for an A/B of two commits).  Prints one JSON line per measurement, then a
summary of medians with ours / peer ratios.
    python bench/peer_bench.py --rgw --ops 4000 --concurrency 16 --rounds 3
    python bench/peer_bench.py --rgw --list-only --rounds 5   (listing alone)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench import Client, Signer, emit, list_all, small_ops  # noqa: E402

PEERS = os.path.join(os.path.dirname(REPO), "shared", "peers")
METHODS = ("PUT", "GET", "HEAD", "DELETE")


def start_rgw() -> dict[str, str]:
    """Start (or find running) the one-OSD Ceph cluster with radosgw."""
    out = subprocess.run([os.path.join(PEERS, "ceph-rgw-start")], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    line = out.strip().splitlines()[-1]
    return dict(f.split("=", 1) for f in line.split())


def ceph_pids() -> list[int]:
    """Every Ceph daemon's pid (radosgw, osd, mon, mgr): RGW's server CPU."""
    import psutil

    names = {"radosgw", "ceph-osd", "ceph-mon", "ceph-mgr"}
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in names]


def tree_pids(pid: int) -> list[int]:
    import psutil

    root = psutil.Process(pid)
    return [root.pid, *(c.pid for c in root.children(recursive=True))]


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


class Target:
    def __init__(self, name: str, endpoint: str, signer: Signer,
                 pids: Callable[[], list[int]]) -> None:  # fmt: skip
        self.name, self.endpoint, self.signer, self.pids = name, endpoint, signer, pids

    def client(self) -> Client:
        return Client(self.endpoint, self.signer)


def fill(target: Target, bucket: str, keys: int, concurrency: int,
         payload: bytes | None = None) -> None:  # fmt: skip
    """``keys`` 4 KiB keys (small/<conn>/<i>) through the S3 API itself."""
    target.client().call("PUT", f"/{bucket}")
    small_ops(target.endpoint, target.signer, bucket, keys, concurrency, ("PUT",),
              payload)  # fmt: skip


def one_round(target: Target, args: argparse.Namespace, payload: bytes,
              round_: int) -> list[dict[str, object]]:  # fmt: skip
    out = []
    bucket = f"peer-bench-{round_}"
    target.client().call("PUT", f"/{bucket}")
    for method in () if args.list_only else METHODS:
        pids = target.pids()
        cpu = cpu_seconds(pids)
        [rec] = small_ops(target.endpoint, target.signer, bucket, args.ops,
                          args.concurrency, (method,), payload)  # fmt: skip
        used = cpu_seconds(pids) - cpu
        ops = float(rec["ops_per_s"]) * float(rec["seconds"])
        rec["server_cpu_ms_per_op"] = round(used / ops * 1000, 3)
        out.append(rec)
    target.client().call("DELETE", f"/{bucket}")
    pids = target.pids()
    cpu = cpu_seconds(pids)
    rec = list_all(target.client(), "peer-bench-list", args.list_keys)
    rec["ms_per_1000_key_page"] = round(1e6 / float(rec["keys_per_s"]), 2)
    rec["server_cpu_ms_per_page"] = round(
        (cpu_seconds(pids) - cpu) * 1000 / (args.list_keys / 1000), 2
    )
    out.append(rec)
    for r in out:
        r.update(target=target.name, round=round_)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rgw", action="store_true", help="start Ceph RGW as the peer")
    ap.add_argument("--peer", help="the peer's endpoint (instead of --rgw)")
    ap.add_argument("--peer-access-key")
    ap.add_argument("--peer-secret-key")
    ap.add_argument(
        "--peer-pid",
        type=int,
        help="the peer's process: its CPU time (and its children's) is read",
    )
    ap.add_argument("--ops", type=int, default=4000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--list-keys", type=int, default=20_000)
    ap.add_argument("--list-only", action="store_true",
                    help="only the listing, not the 4 KiB requests")  # fmt: skip
    ap.add_argument("--workers", default="1,2",
                    help="ozs3 targets: comma list of --workers values")  # fmt: skip
    ap.add_argument("--insecure", action="store_true",
                    help="also ozs3 with security off, one process")  # fmt: skip
    ap.add_argument("--reactor", default="default")
    args = ap.parse_args()
    # small_ops writes ops // concurrency keys per connection.
    args.list_keys -= args.list_keys % args.concurrency

    from tests.integration.test_security import SECURE, getsecret
    from tests.support.gateway import GatewayProcess

    targets: list[Target] = []
    if args.rgw:
        rgw = start_rgw()
        targets.append(Target("rgw", rgw["endpoint"],
                              Signer(rgw["access_key"], rgw["secret_key"]),
                              ceph_pids))  # fmt: skip
    elif args.peer:
        targets.append(Target("peer", args.peer,
                              Signer(args.peer_access_key, args.peer_secret_key),
                              lambda: tree_pids(args.peer_pid) if args.peer_pid else []))  # fmt: skip
    work = tempfile.mkdtemp(prefix="ozs3-peer-bench-")
    gateways = []
    configs = [(int(n), True) for n in args.workers.split(",")]
    if args.insecure:
        configs.append((1, False))
    try:
        for workers, secure in configs:
            name = f"ozs3-w{workers}-{'secure' if secure else 'insecure'}"
            gw = GatewayProcess(os.path.join(work, name), reactor=args.reactor,
                                env=SECURE if secure else None,
                                args=["--workers", str(workers)])  # fmt: skip
            gw.start()
            gateways.append(gw)
            signer = Signer("bench", getsecret(gw.data_dir, "bench") if secure else "x")
            pid = gw.proc.pid  # type: ignore[union-attr]
            targets.append(Target(name, gw.endpoint, signer,
                                  lambda pid=pid: tree_pids(pid)))  # fmt: skip
        for target in targets:
            t = time.perf_counter()
            fill(target, "peer-bench-list", args.list_keys, args.concurrency)
            emit({"workload": "fill_listing_bucket", "target": target.name,
                  "keys": args.list_keys,
                  "seconds": round(time.perf_counter() - t, 1)})  # fmt: skip
        payload = os.urandom(4096)
        results: dict[tuple[str, str], list[dict[str, object]]] = {}
        for round_ in range(args.rounds):
            for target in targets:
                for rec in one_round(target, args, payload, round_):
                    emit(rec)
                    results.setdefault((str(rec["workload"]), target.name),
                                       []).append(rec)  # fmt: skip
        summarize(results, targets)
    finally:
        for gw in gateways:
            gw.stop()


def summarize(results: dict[tuple[str, str], list[dict[str, object]]],
              targets: list[Target]) -> None:  # fmt: skip
    peer = targets[0].name if targets[0].name in ("rgw", "peer") else None
    rows = []
    for (workload, target), recs in sorted(results.items()):
        rate = "keys_per_s" if workload.startswith("list") else "ops_per_s"
        cpu = ("server_cpu_ms_per_page" if workload.startswith("list")
               else "server_cpu_ms_per_op")  # fmt: skip
        row = {"workload": workload, "target": target,
               rate: statistics.median(float(r[rate]) for r in recs),  # type: ignore[arg-type]
               cpu: statistics.median(float(r[cpu]) for r in recs)}  # type: ignore[arg-type]  # fmt: skip
        if workload.startswith("list"):
            row["ms_per_1000_key_page"] = statistics.median(
                float(r["ms_per_1000_key_page"])
                for r in recs  # type: ignore[arg-type]
            )
        if peer and target != peer and (workload, peer) in results:
            theirs = statistics.median(
                float(r[rate])
                for r in results[(workload, peer)]  # type: ignore[arg-type]
            )
            row["ratio_to_peer"] = round(float(row[rate]) / theirs, 2)
        rows.append(row)
    for row in rows:
        emit({"summary": True, **row})


if __name__ == "__main__":
    main()
