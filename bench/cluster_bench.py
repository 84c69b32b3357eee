#!/usr/bin/env python3
"""ozs3 fronting a real Ozone cluster vs Ozone's own S3 gateway (s3g), one run.

Given the name=value file ``compose/ozone-local/cluster start`` prints, it
starts an ozs3 gateway with ``--config`` = the cluster's ozone-site.xml (so
it fronts that cluster's OM and datanodes) on free ports, and measures it and
the cluster's s3g one after the other, the same way (bench.py's workloads):

- one PUT and one GET of ``--size-mib`` MiB, MB/s (every byte read back
  verified with CRC32C);
- a multipart upload of ``--multipart-mib`` MiB as the aws CLI sends it by
  default (8 MiB parts, 10 at once) and its parallel ranged download, MB/s;
- 4 KiB PUT, GET (verified), HEAD and DELETE of ``--ops`` keys at each of
  ``--concurrency`` (a list) keep-alive connections: ops/s, p50, p99;
- ListObjectsV2 through a bucket of ``--list-keys`` keys (written once,
  through ozs3, listed by each gateway): keys/s;
- the gateway process's CPU time during its run (/proc/<pid>/stat);
- the gateway process's resident set: VmRSS sampled every 50 ms during its
  run, the maximum reported (s3g is a long-running JVM whose VmHWM holds its
  whole history, so the sampled maximum is the number both get); ozs3's
  VmHWM is reported too (a fresh process: its whole life is this run).

Each gateway first gets ``--warmup-ops`` untimed 4 KiB PUT/GET/DELETE (the
JVM's JIT; the RSS baseline is taken after it).  One bucket per gateway (in
the S3 volume), emptied and removed at the end.  One JSON line per
measurement, then a markdown table (ratio = ozs3 / s3g).  The gateways run
one after the other, never at once: the machine's cores are shared with the
cluster's JVMs.

    python bench/cluster_bench.py --cluster-info /tmp/oc/c1.info
    python bench/cluster_bench.py --cluster-info /tmp/oc/c1.info \\
        --size-mib 64 --ops 500 --gateways s3g
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from typing import Any

# bench puts the repository root on sys.path (tests.support.gateway).
from bench import (
    Client,
    MiB,
    Signer,
    big_put_get,
    emit,
    list_all,
    multipart,
    small_ops,
)

NAMES = {"ozs3": "ozs3", "s3g": "Ozone s3g"}


def read_info(path: str) -> dict[str, str]:
    """The cluster script's ``name=value`` lines."""
    info = {}
    with open(path) as f:
        for line in f:
            name, sep, value = line.strip().partition("=")
            if sep:
                info[name] = value
    for name in ("s3g", "ozone_site", "pids"):
        if name not in info:
            raise SystemExit(f"{path}: no {name}= line")
    return info


def s3g_pid(info: dict[str, str]) -> int:
    """The s3g JVM's pid, from ``pids=scm:.. om:.. dn1:.. s3g:..``."""
    m = re.search(r"(?:^|\s)s3g:(\d+)", info["pids"])
    if not m:
        raise SystemExit(f"no s3g: pid in pids={info['pids']}")
    pid = int(m.group(1))
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except FileNotFoundError:
        raise SystemExit(f"s3g pid {pid} is not running") from None
    if b"java" not in cmdline:
        raise SystemExit(f"pid {pid} is not a JVM: {cmdline[:100]!r}")
    return pid


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a --workers supervisor and its workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` and its children have used."""
    total = 0.0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def status_kib(pid: int, field: str) -> int:
    """``field`` of /proc/<pid>/status, summed over ``pid`` and its children."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


class RssSampler:
    """The maximum VmRSS of ``pid`` seen while running (every ``interval``)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.before = self.peak = status_kib(pid, "VmRSS")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))


def start_ozs3(
    site: str, work: str, reactor: str | None = None, workers: int = 1
) -> Any:
    """An ozs3 gateway configured by the cluster's ozone-site.xml, on free
    S3 and admin ports (the file names s3g's), its own data directory (logs,
    audit) under ``work``."""
    from tests.support.gateway import GatewayProcess

    return GatewayProcess(
        os.path.join(work, "data"),
        args=["--config", site, "--workers", str(workers)],
        reactor=reactor,
    ).start(60)


def check_same_cluster(ozs3: Client, s3g: Client, bucket: str) -> None:
    """An object written through ozs3 must read back through s3g: otherwise
    ozs3 is not fronting the cluster (e.g. it fell back to its embedded
    store) and the comparison would be meaningless."""
    body = os.urandom(1000)
    ozs3.call("PUT", f"/{bucket}/probe", body=body,
              headers={"content-length": str(len(body))})  # fmt: skip
    try:
        got = s3g.call("GET", f"/{bucket}/probe", ok=(200, 404))
    finally:
        ozs3.call("DELETE", f"/{bucket}/probe")
    if got != body:
        raise SystemExit(
            "ozs3 is not fronting the cluster: an object it wrote is not what "
            "Ozone's s3g reads back (is the cluster backend in this tree?)"
        )


def empty_bucket(client: Client, bucket: str) -> None:
    """Delete whatever is left in ``bucket`` (after a failed run), then it."""
    while True:
        page = client.call("GET", f"/{bucket}", query="list-type=2&max-keys=1000",
                           ok=(200, 404))  # fmt: skip
        keys = re.findall(rb"<Key>([^<]*)</Key>", page)
        if not keys:
            break
        for key in keys:
            client.call("DELETE", f"/{bucket}/{key.decode()}", ok=(200, 204, 404))
    client.call("DELETE", f"/{bucket}", ok=(200, 204, 404))


def measure(gateway: str, client: Client, endpoint: str, signer: Signer,
            bucket: str, pid: int, args: argparse.Namespace) -> dict[str, float]:  # fmt: skip
    """Run the workloads against one gateway; the table's values by row."""
    size = args.size_mib * MiB
    rows: dict[str, float] = {}

    def record(rec: dict[str, object]) -> None:
        emit({"gateway": gateway, **rec})

    concurrencies = [int(c) for c in str(args.concurrency).split(",")]
    if args.warmup_ops:  # untimed: JIT, connection pools, caches
        small_ops(endpoint, signer, bucket, args.warmup_ops, max(concurrencies),
                  ("PUT", "GET", "DELETE"))  # fmt: skip
    cpu = cpu_seconds(pid)
    with RssSampler(pid) as rss:
        big_headers = (
            {"x-amz-storage-class": args.storage_class} if args.storage_class else {}
        )
        for rec in big_put_get(client, bucket, size, None, crc_compare=False,
                               headers=big_headers):  # fmt: skip
            record(rec)
            op = "PUT" if rec["workload"] == "put_single" else "GET"
            rows[f"{op} {args.size_mib} MiB single, MB/s"] = float(rec["MBps"])  # type: ignore[arg-type]
        if args.multipart_mib:
            for rec in multipart(endpoint, signer, bucket, args.multipart_mib * MiB,
                                 8 * MiB, 10, keep=True):  # fmt: skip
                record(rec)
                what = ("multipart upload" if rec["workload"] == "put_multipart"
                        else "ranged parallel GET")  # fmt: skip
                rows[f"{what} {args.multipart_mib} MiB, MB/s"] = float(rec["MBps"])  # type: ignore[arg-type]
            with RssSampler(pid) as copy_rss:
                rec = copy_object(client, bucket, args.multipart_mib * MiB)
            rec["rss_max_sampled_MiB"] = round(copy_rss.peak / 1024, 1)
            record(rec)
            rows[f"CopyObject {args.multipart_mib} MiB, MB/s"] = float(rec["MBps"])  # type: ignore[arg-type]
            rows["RSS max during that copy, MiB"] = float(rec["rss_max_sampled_MiB"])  # type: ignore[arg-type]
        for c in concurrencies:
            for rec in small_ops(endpoint, signer, bucket, args.ops, c):
                record(rec)
                op = str(rec["workload"]).split("_")[0].upper()
                rows[f"{op} 4 KiB c={c}, ops/s"] = float(rec["ops_per_s"])  # type: ignore[arg-type]
                rows[f"{op} 4 KiB c={c}, p99 ms"] = float(rec["p99_ms"])  # type: ignore[arg-type]
        if args.list_bucket:
            rec = list_all(client, args.list_bucket, args.list_keys)
            record(rec)
            rows[f"ListObjectsV2 of {args.list_keys} keys, keys/s"] = float(
                rec["keys_per_s"]  # type: ignore[arg-type]
            )
    cpu = cpu_seconds(pid) - cpu
    record({"workload": "cpu", "pid": pid, "gateway_cpu_s": round(cpu, 1),
            "loadavg_1m": round(os.getloadavg()[0], 2)})  # fmt: skip
    rows["gateway process CPU during the run, s"] = round(cpu, 1)
    mib = 1024
    rss_rec: dict[str, object] = {
        "workload": "rss", "pid": pid, "sampled_every_s": rss.interval,
        "before_MiB": round(rss.before / mib, 1),
        "max_sampled_MiB": round(rss.peak / mib, 1),
    }  # fmt: skip
    rows["RSS before the run, MiB"] = round(rss.before / mib, 1)
    rows["RSS max sampled during the run, MiB"] = round(rss.peak / mib, 1)
    if gateway == "ozs3":
        rss_rec["vmhwm_MiB"] = round(status_kib(pid, "VmHWM") / mib, 1)
    record(rss_rec)
    return rows


def copy_object(client: Client, bucket: str, size: int) -> dict[str, object]:
    """CopyObject of the multipart upload's object (``multi``), timed; both
    deleted after."""
    t = time.perf_counter()
    client.call("PUT", f"/{bucket}/multi-copy",
                headers={"x-amz-copy-source": f"/{bucket}/multi"})  # fmt: skip
    dt = time.perf_counter() - t
    head = client.request("HEAD", f"/{bucket}/multi-copy")
    head.read()
    length = int(head.getheader("Content-Length") or -1)
    if length != size:
        raise RuntimeError(f"the copy holds {length} bytes, not {size}")
    for key in ("multi", "multi-copy"):
        client.call("DELETE", f"/{bucket}/{key}")
    return {"workload": "copy_object", "size_MiB": size // MiB,
            "MBps": round(size / dt / 1e6, 1), "seconds": round(dt, 1)}  # fmt: skip


def fill_list_bucket(
    info: dict[str, str], work: str, signer: Signer, args: argparse.Namespace
) -> str:
    """A bucket of ``--list-keys`` zero-byte keys (100 prefixes), written
    through a gateway of ozs3's at 64 connections."""
    from loadgen import run

    os.makedirs(os.path.join(work, "fill"), exist_ok=True)
    gw = start_ozs3(info["ozone_site"], os.path.join(work, "fill"), args.reactor)
    try:
        bucket = f"cb-list-{os.getpid()}"
        Client(gw.endpoint, signer).call("PUT", f"/{bucket}")
        host, port = "127.0.0.1", gw.port
        per = -(-args.list_keys // 64)
        names = [f"dir{i % 100:02d}/key-{i:08d}" for i in range(args.list_keys)]
        jobs = [[("PUT", f"/{bucket}/{n}", b"") for n in names[j * per:(j + 1) * per]]
                for j in range(64)]  # fmt: skip

        def sign(method: str, path: str, extra: dict[str, str]) -> dict[str, str]:
            return signer.headers(method, f"{host}:{port}", path, "", extra)

        def check(method: str, path: str, status: int, body: bytes) -> None:
            if status != 200:
                raise RuntimeError(f"{method} {path}: {status} {body[:200]!r}")

        lat, dt = run(host, port, sign, [j for j in jobs if j], check)
        emit({"workload": "fill_list_bucket", "keys": len(lat),
              "seconds": round(dt, 1)})  # fmt: skip
        return bucket
    finally:
        gw.stop(30)


def table(results: dict[str, dict[str, float]]) -> str:
    cols = list(NAMES)
    lines = [
        "| measurement | " + " | ".join(NAMES[c] for c in cols) + " | ratio |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]
    rows = list(dict.fromkeys(r for c in cols for r in results.get(c, {})))
    for row in rows:
        values = [results.get(c, {}).get(row) for c in cols]
        cells = ["—" if v is None else f"{v:g}" for v in values]
        a, b = values
        ratio = f"{a / b:.2f}" if a is not None and b else "—"
        lines.append(f"| {row} | " + " | ".join(cells) + f" | {ratio} |")
    lines.append("")
    lines.append("ratio = ozs3 / Ozone s3g; MB/s, ops/s: higher is better; "
                 "ms, MiB: lower is better.")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cluster-info", required=True,
                    help="the name=value file 'cluster start' printed")  # fmt: skip
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--ops", type=int, default=4000)
    ap.add_argument("--concurrency", default="16",
                    help="connections for the 4 KiB rows; a list: 1,16,64")  # fmt: skip
    ap.add_argument("--multipart-mib", type=int, default=0,
                    help="a multipart upload of this size (0: none)")  # fmt: skip
    ap.add_argument("--list-keys", type=int, default=0,
                    help="ListObjectsV2 through a bucket of this many keys")  # fmt: skip
    ap.add_argument("--warmup-ops", type=int, default=256,
                    help="untimed 4 KiB PUT/GET/DELETE per gateway first")  # fmt: skip
    ap.add_argument("--gateways", default="ozs3,s3g",
                    help="which to measure, in this order (ozs3, s3g)")  # fmt: skip
    ap.add_argument(
        "--reactor",
        default=None,
        help="twistd reactor for ozs3 (default: Twisted's; asyncio)",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="ozs3 gateway processes (--workers N); CPU and RSS "
        "are summed over the supervisor and its workers",
    )
    ap.add_argument("--storage-class", default="",
                    help="x-amz-storage-class of the big PUT (e.g. STANDARD_IA: "
                         "EC rs-3-2-1024k, on a cluster of five datanodes)")  # fmt: skip
    ap.add_argument("--access-key", default="bench")
    ap.add_argument("--secret-key", default="bench")
    args = ap.parse_args()
    gateways = [g.strip() for g in args.gateways.split(",") if g.strip()]
    if not gateways or set(gateways) - set(NAMES):
        raise SystemExit(f"--gateways: choose from {', '.join(NAMES)}")

    info = read_info(args.cluster_info)
    signer = Signer(args.access_key, args.secret_key)
    s3g_client = Client(info["s3g"], signer)
    emit({"workload": "env", "cluster_info": args.cluster_info,
          "ozone": info.get("version"), "datanodes": info.get("datanodes"),
          "cpus": os.cpu_count(), "size_MiB": args.size_mib, "ops": args.ops,
          "concurrency": args.concurrency, "verify": "CRC32C of every byte",
          "loadavg_1m": round(os.getloadavg()[0], 2)})  # fmt: skip
    results: dict[str, dict[str, float]] = {}
    work = tempfile.mkdtemp(prefix="ozs3-cluster-bench-")
    args.list_bucket = None
    try:
        if args.list_keys:
            args.list_bucket = fill_list_bucket(info, work, signer, args)
        for gateway in gateways:
            gw = None
            if gateway == "ozs3":
                gw = start_ozs3(info["ozone_site"], work, args.reactor, args.workers)
                endpoint, pid = gw.endpoint, gw.proc.pid
            else:
                endpoint, pid = info["s3g"], s3g_pid(info)
            client = Client(endpoint, signer)
            bucket = f"cb-{gateway}-{os.getpid()}"
            try:
                client.call("PUT", f"/{bucket}")
                if gateway == "ozs3":
                    check_same_cluster(client, s3g_client, bucket)
                emit({"workload": "gateway", "gateway": gateway,
                      "endpoint": endpoint, "pid": pid, "bucket": bucket})  # fmt: skip
                results[gateway] = measure(gateway, client, endpoint, signer,
                                           bucket, pid, args)  # fmt: skip
            finally:
                empty_bucket(Client(endpoint, signer), bucket)
                if gw is not None:
                    if gw.tracebacks():
                        print(gw.log()[-3000:], file=sys.stderr)
                    gw.stop(30)
            if gateway != gateways[-1]:
                time.sleep(2)  # let the cluster settle between gateways
    finally:
        if args.list_bucket:
            empty_bucket(s3g_client, args.list_bucket)
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
