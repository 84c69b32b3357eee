#!/usr/bin/env python3
"""Lifecycle expiry under load (issue 14): how long the lifecycle service
takes to expire half of a bucket's small keys, and what that does to
concurrent 4 KiB GETs of the other half.

Starts its own gateway (fresh data directory) with a short lifecycle
interval and a short test "day", fills a bucket with ``--keys`` keys of
0-1 KiB (half under ``old/``, half under ``keep/``, of which ``--get-keys``
are 4 KiB objects under ``keep/get/`` for the GETs), measures GET latency
for ``--baseline`` s, puts a rule expiring ``old/`` after 1 day (by then
every key is due) and measures again while the service works.  Prints
JSON lines, then a table.

    python bench/lifecycle_bench.py                      # 100,000 keys
    python bench/lifecycle_bench.py --keys 20000 --get-rate 0   # GETs flat out
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import REPO, Client, Signer, emit

sys.path.insert(0, REPO)
from tests.support.gateway import scrape_prom

KiB = 1024


def fill(endpoint: str, signer: Signer, bucket: str, sizes: dict[str, int],
         threads: int, conns: int) -> float:  # fmt: skip
    """PUT every key (``sizes``: key -> bytes) from ``threads`` threads of
    ``conns`` keep-alive connections each (bench/loadgen.py); seconds."""
    from loadgen import run

    u = urlsplit(endpoint)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    hostport = f"{host}:{port}"
    block = os.urandom(4 * KiB)
    keys = list(sizes)
    random.Random(1).shuffle(keys)  # old/ and keep/ written interleaved
    errors: list[BaseException] = []
    done = [0]
    lock = threading.Lock()

    def sign(method: str, path: str, extra: dict[str, str]) -> dict[str, str]:
        return signer.headers(method, hostport, path, "", extra)

    def check(method: str, path: str, status: int, body: bytes) -> None:
        if status != 200:
            raise RuntimeError(f"{method} {path}: {status} {body[:200]!r}")

    def work(mine: list[str]) -> None:
        try:
            for lo in range(0, len(mine), 5000):
                chunk = mine[lo : lo + 5000]
                jobs = [
                    [("PUT", f"/{bucket}/{k}", block[: sizes[k]])
                     for k in chunk[i::conns]]
                    for i in range(conns)
                ]  # fmt: skip
                run(host, port, sign, [j for j in jobs if j], check)
                with lock:
                    done[0] += len(chunk)
        except BaseException as e:
            errors.append(e)

    t = time.perf_counter()
    ts = [threading.Thread(target=work, args=(keys[i::threads],))
          for i in range(threads)]  # fmt: skip
    for th in ts:
        th.start()
    for th in ts:
        while th.is_alive():
            th.join(10)
            print(f"  filled {done[0]}/{len(keys)}", file=sys.stderr, flush=True)
    if errors:
        raise errors[0]
    return time.perf_counter() - t


class Getters:
    """``threads`` threads GETting random 4 KiB keys, each on its own
    keep-alive connection, paced to ``rate`` GETs/s in all (0: flat out).
    Latency is from send to the last body byte (service time)."""

    def __init__(self, endpoint: str, signer: Signer, bucket: str,
                 keys: list[str], threads: int, rate: float) -> None:  # fmt: skip
        self.samples: list[tuple[float, float]] = []  # (wall time done, seconds)
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        period = threads / rate if rate > 0 else 0.0

        def work(seed: int) -> None:
            rnd = random.Random(seed)
            client = Client(endpoint, signer)
            next_at = time.monotonic()
            try:
                while not self._stop.is_set():
                    if period:
                        next_at += period
                        delay = next_at - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        else:
                            next_at = time.monotonic()  # behind: no catching up
                    key = rnd.choice(keys)
                    t = time.perf_counter()
                    r = client.request("GET", f"/{bucket}/{key}")
                    body = r.read()
                    dt = time.perf_counter() - t
                    if r.status != 200 or len(body) != 4 * KiB:
                        raise RuntimeError(f"GET {key}: {r.status} {len(body)} bytes")
                    with self._lock:
                        self.samples.append((time.time(), dt))
            except BaseException as e:
                self.errors.append(e)

        self._threads = [
            threading.Thread(target=work, args=(i,), daemon=True)
            for i in range(threads)
        ]
        for th in self._threads:
            th.start()

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join()
        if self.errors:
            raise self.errors[0]

    def stats(self, start: float, end: float) -> dict[str, object]:
        with self._lock:
            lat = sorted(dt for when, dt in self.samples if start <= when < end)
        if not lat:
            return {"gets": 0}

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(len(lat) * p))] * 1000, 2)

        return {
            "gets": len(lat), "seconds": round(end - start, 2),
            "gets_per_s": round(len(lat) / (end - start), 1),
            "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "max_ms": round(lat[-1] * 1000, 2),
        }  # fmt: skip


def count_keys(client: Client, bucket: str, prefix: str) -> int:
    """Keys under ``prefix``, by paging ListObjectsV2."""
    import re

    n, token = 0, ""
    while True:
        query = f"list-type=2&max-keys=1000&prefix={prefix}"
        if token:
            from urllib.parse import quote

            query += f"&continuation-token={quote(token, safe='')}"
        body = client.call("GET", f"/{bucket}", query=query)
        n += int(re.search(rb"<KeyCount>(\d+)</KeyCount>", body).group(1))  # type: ignore[union-attr]
        m = re.search(rb"<NextContinuationToken>([^<]+)</NextContinuationToken>", body)
        if m is None:
            return n
        token = m.group(1).decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--get-keys", type=int, default=1000,
                    help="4 KiB keys under keep/get/ (among the keep/ half)")  # fmt: skip
    ap.add_argument("--fill-threads", type=int, default=4)
    ap.add_argument("--fill-conns", type=int, default=8,
                    help="connections per fill thread")  # fmt: skip
    ap.add_argument("--get-threads", type=int, default=4)
    ap.add_argument("--get-rate", type=float, default=200.0,
                    help="GETs/s from all GET threads (0: as fast as they go)")  # fmt: skip
    ap.add_argument("--baseline", type=float, default=10.0)
    ap.add_argument("--interval", default="2s", help="ozone.s3g.lifecycle.interval")
    ap.add_argument("--day", type=float, default=5.0,
                    help="ozone.s3g.lifecycle.test.day.length, seconds")  # fmt: skip
    ap.add_argument("--reactor", default="default")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--keep-data", action="store_true")
    args = ap.parse_args()

    from tests.support.gateway import GatewayProcess
    from tests.support.storecheck import assert_clean, stored_blocks

    work = tempfile.mkdtemp(prefix="ozs3-lcbench-")
    env = {
        "OZONE-SITE.XML_ozone.s3g.lifecycle.interval": args.interval,
        "OZONE-SITE.XML_ozone.s3g.lifecycle.test.day.length": f"{args.day}s",
    }
    gw = GatewayProcess(os.path.join(work, "data"), reactor=args.reactor, env=env,
                        args=["--workers", str(args.workers)]).start()  # fmt: skip
    try:
        admin = [gw.admin_port + i for i in range(args.workers)]
        signer = Signer("bench", "bench")
        client = Client(gw.endpoint, signer)
        bucket = "lifecycle-bench"
        client.call("PUT", f"/{bucket}")
        emit({"workload": "env", "cpus": os.cpu_count(), "workers": args.workers,
              "keys": args.keys, "interval": args.interval, "day_s": args.day,
              "get_threads": args.get_threads, "get_rate": args.get_rate})  # fmt: skip

        rnd = random.Random(0)
        half = args.keys // 2
        sizes = {f"old/{i:06d}": rnd.randint(0, KiB) for i in range(half)}
        get_keys = [f"keep/get/{i:05d}" for i in range(args.get_keys)]
        sizes.update({f"keep/{i:06d}": rnd.randint(0, KiB)
                      for i in range(args.keys - half - args.get_keys)})  # fmt: skip
        sizes.update(dict.fromkeys(get_keys, 4 * KiB))
        blocks_before = len(stored_blocks(gw.data_dir))
        seconds = fill(gw.endpoint, signer, bucket, sizes, args.fill_threads,
                       args.fill_conns)  # fmt: skip
        filled_at = time.time()
        fill_rec = {"workload": "fill", "keys": len(sizes), "seconds": round(seconds, 1),
                    "puts_per_s": round(len(sizes) / seconds, 1),
                    "threads": args.fill_threads,
                    "connections": args.fill_threads * args.fill_conns}  # fmt: skip
        emit(fill_rec)
        old_blocks = sum(1 for k, n in sizes.items() if k.startswith("old/") and n)
        blocks = len(stored_blocks(gw.data_dir)) - blocks_before
        emit({"workload": "blocks_after_fill", "stored_blocks": blocks,
              "nonempty_keys": sum(1 for n in sizes.values() if n)})  # fmt: skip

        getters = Getters(gw.endpoint, signer, bucket, get_keys, args.get_threads,
                          args.get_rate)  # fmt: skip
        base_start = time.time()
        # Every key due (written by filled_at: due by the second day boundary
        # after it) and a baseline of at least --baseline seconds.
        due = filled_at + 2 * args.day + 0.5
        time.sleep(max(args.baseline, due - time.time()))
        base_end = rule_at = time.time()
        expired_before = sum(
            scrape_prom(p)["ozs3_lifecycle_expired_objects_total"] for p in admin
        )
        runs_before = sum(scrape_prom(p)["ozs3_lifecycle_runs_total"] for p in admin)
        body = (
            b'<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<Rule><ID>old</ID><Filter><Prefix>old/</Prefix></Filter>"
            b"<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
            b"</LifecycleConfiguration>"
        )
        import base64
        import hashlib

        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        # A new connection: the first one idled through the fill.
        client = Client(gw.endpoint, signer)
        client.call("PUT", f"/{bucket}", body=body, query="lifecycle=",
                    headers={"content-md5": md5})  # fmt: skip
        first = last = None
        progress = []
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            n = sum(
                scrape_prom(p)["ozs3_lifecycle_expired_objects_total"] for p in admin
            )
            n -= expired_before
            now = time.time()
            if n and first is None:
                first = now
            progress.append((now - rule_at, n))
            if n >= half:
                last = now
                break
            time.sleep(0.1)
        getters.stop()
        if first is None or last is None:
            raise RuntimeError(f"not expired within the hour: {progress[-1]}")
        metrics = [scrape_prom(p) for p in admin]
        runs = sum(m["ozs3_lifecycle_runs_total"] for m in metrics) - runs_before
        run_seconds = max(m["ozs3_lifecycle_last_run_seconds"] for m in metrics)
        client = Client(gw.endpoint, signer)
        left_old = count_keys(client, bucket, "old/")
        left_keep = count_keys(client, bucket, "keep/")
        if left_old or left_keep != args.keys - half:
            raise RuntimeError(f"old/ left {left_old}, keep/ {left_keep}")
        # Their blocks are freed by the block deleting service, after.
        freed = None
        while freed is None and time.time() < last + 600:
            if len(stored_blocks(gw.data_dir)) - blocks_before <= blocks - old_blocks:
                freed = time.time()
            else:
                time.sleep(0.5)

        expiry = {
            "workload": "lifecycle_expire", "keys": half,
            "rule_to_first_s": round(first - rule_at, 2),
            "first_to_last_s": round(last - first, 2),
            "rule_to_last_s": round(last - rule_at, 2),
            "keys_per_s": round(half / (last - first), 1) if last > first else None,
            "service_run_s": round(run_seconds, 2), "runs": int(runs),
            "blocks_freed_after_rule_s": None if freed is None else round(freed - rule_at, 2),
        }  # fmt: skip
        emit(expiry)
        base = getters.stats(base_start, base_end)
        during = getters.stats(first, last)
        emit({"workload": "get_4KiB_baseline", **base})
        emit({"workload": "get_4KiB_during_expiry", **during})

    finally:
        code = gw.stop(timeout=60)
    assert_clean(gw.data_dir)  # every expired key's block freed, nothing else
    if not args.keep_data:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"fill: {len(sizes)} keys (0-1 KiB, {args.get_keys} of 4 KiB) in "
          f"{seconds:.1f} s = {len(sizes) / seconds:.0f} PUT/s "
          f"({args.fill_threads} threads x {args.fill_conns} connections)")  # fmt: skip
    print(f"expiry of {half} keys under old/: first deletion "
          f"{expiry['rule_to_first_s']} s after the rule was put, all "
          f"{expiry['rule_to_last_s']} s after ({expiry['keys_per_s']} keys/s); "
          f"the service's run: {expiry['service_run_s']} s in {expiry['runs']} "
          f"run(s); block files freed {expiry['blocks_freed_after_rule_s']} s "
          f"after the rule")  # fmt: skip
    rate = f"{args.get_rate:.0f}/s" if args.get_rate else "flat out"
    print(f"\n4 KiB GETs on keep/ ({args.get_threads} threads, {rate}):")
    print(f"{'phase':<16}{'GETs':>8}{'GET/s':>9}{'p50 ms':>9}{'p90 ms':>9}"
          f"{'p99 ms':>9}{'max ms':>9}")  # fmt: skip
    for name, s in (("baseline", base), ("during expiry", during)):
        print(f"{name:<16}{s.get('gets', 0):>8}{s.get('gets_per_s', 0):>9}"
              f"{s.get('p50_ms', '-'):>9}{s.get('p90_ms', '-'):>9}"
              f"{s.get('p99_ms', '-'):>9}{s.get('max_ms', '-'):>9}")  # fmt: skip
    print(f"\ngateway exit status {code}; data directory audited clean")


if __name__ == "__main__":
    main()
