#!/usr/bin/env python3
"""ozs3 benchmark: throughput, small-object ops/s, listing, peak RSS.

Runs against a gateway it starts itself (fresh data directory, default
reactor), or against any S3 endpoint given with --endpoint (signed with
SigV4 and UNSIGNED-PAYLOAD, so the client does not hash bodies).  Prints one
JSON line per workload; every byte read back is verified (CRC32).

    python bench/bench.py                      # everything, our gateway
    python bench/bench.py --size-mib 256 --ops 2000
    python bench/bench.py --endpoint http://127.0.0.1:9000 --access-key minio \
        --secret-key minio123 --skip-list
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote, unquote, urlsplit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

MiB = 1024 * 1024


class Signer:
    """Minimal SigV4 (UNSIGNED-PAYLOAD) so any S3 endpoint can be measured."""

    def __init__(self, access: str, secret: str, region: str = "us-east-1") -> None:
        self.access, self.secret, self.region = access, secret, region
        self._keys: dict[str, bytes] = {}  # signing key by day

    def headers(self, method: str, host: str, path: str, query: str = "",
                extra: dict[str, str] | None = None) -> dict[str, str]:  # fmt: skip
        now = datetime.datetime.now(datetime.UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        headers = {"host": host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                   "x-amz-date": amz_date, **(extra or {})}  # fmt: skip
        names = sorted(k.lower() for k in headers)
        canonical_headers = "".join(f"{k}:{headers[k].strip()}\n" for k in names)
        signed = ";".join(names)
        cq = "&".join(
            sorted(
                # The query arrives encoded: canonical form encodes it once.
                f"{quote(unquote(k), safe='-_.~')}={quote(unquote(v), safe='-_.~')}"
                for k, _, v in (p.partition("=") for p in query.split("&") if p)
            )
        )
        creq = "\n".join([method, quote(path, safe="/-_.~"), cq, canonical_headers,
                          signed, "UNSIGNED-PAYLOAD"])  # fmt: skip
        scope = f"{day}/{self.region}/s3/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])  # fmt: skip
        key = self._keys.get(day)
        if key is None:
            key = ("AWS4" + self.secret).encode()
            for part in (day, self.region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys[day] = key
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access}/{scope}, "
            f"SignedHeaders={signed}, Signature={sig}"
        )
        del headers["host"]
        return headers


class Client:
    def __init__(self, endpoint: str, signer: Signer) -> None:
        u = urlsplit(endpoint)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.hostport = f"{self.host}:{self.port}"
        self.signer = signer
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)

    def request(self, method: str, path: str, body: object = None, query: str = "",
                headers: dict[str, str] | None = None) -> http.client.HTTPResponse:  # fmt: skip
        h = self.signer.headers(method, self.hostport, path, query, headers)
        url = quote(path, safe="/-_.~") + (f"?{query}" if query else "")
        try:
            self.conn.request(method, url, body=body, headers=h)  # type: ignore[arg-type]
            return self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the kept-alive connection while it idled
            # (gateways time idle clients out): once more on a new one,
            # unless the body was a stream that is spent now.
            if body is not None and not isinstance(body, bytes | str):
                raise
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
            self.conn.request(method, url, body=body, headers=h)  # type: ignore[arg-type]
            return self.conn.getresponse()

    def call(self, method: str, path: str, body: object = None, query: str = "",
             headers: dict[str, str] | None = None, ok: tuple[int, ...] = (200, 204)) -> bytes:  # fmt: skip
        r = self.request(method, path, body, query, headers)
        data = r.read()
        if r.status not in ok:
            raise RuntimeError(f"{method} {path}?{query}: {r.status} {data[:300]!r}")
        return data


def crc(data: bytes | memoryview, value: int = 0) -> int:
    """CRC32C with the CPU's instruction: verifying what is read back must
    not be what limits the measured rate."""
    from awscrt import checksums

    return int(checksums.crc32c(data, value))


def read_body(r: http.client.HTTPResponse) -> tuple[int, int]:
    """Drain a response into one reused buffer: (bytes, their CRC32C)."""
    buf = bytearray(4 * MiB)
    view = memoryview(buf)
    n = value = 0
    while got := r.readinto(buf):
        value = crc(view[:got], value)
        n += got
    return n, value


def raw_get(client: Client, path: str) -> tuple[int, int, int]:
    """GET over a plain socket, the body received into one reused buffer:
    (status, bytes, CRC32C).  The loopback limit is measured the same way,
    so the ratio compares like with like (http.client costs the client
    ~15% more CPU, which on two cores the server then lacks)."""
    import socket

    from loadgen import parse_head

    headers = client.signer.headers("GET", client.hostport, path)
    head = f"GET {quote(path, safe='/-_.~')} HTTP/1.1\r\nHost: {client.hostport}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock = socket.create_connection((client.host, client.port))
    try:
        sock.sendall(head.encode())
        buf = bytearray(4 * MiB)
        view = memoryview(buf)
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                raise RuntimeError("connection closed before the headers")
            data += more
        top, _, rest = data.partition(b"\r\n\r\n")
        status, length, _ = parse_head(top)
        n, value = len(rest), crc(rest)
        while n < length:
            got = sock.recv_into(buf, min(len(buf), length - n))
            if not got:
                break
            value = crc(view[:got], value)
            n += got
        return status, n, value
    finally:
        sock.close()


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


# -- limits measured on the same machine, in the same run --------------------


def limit_hash(size: int) -> dict[str, object]:
    from awscrt import checksums

    block = os.urandom(4 * MiB)
    t = time.perf_counter()
    md5, value = hashlib.md5(), 0
    for _ in range(size // len(block)):
        md5.update(block)
        value = checksums.crc32c(block, value)
    dt = time.perf_counter() - t
    return {"workload": "limit_md5_crc32c_one_core", "MBps": round(size / dt / 1e6, 1)}


def limit_loopback(size: int) -> dict[str, object]:
    """Raw TCP over 127.0.0.1, one connection, 4 MiB sends."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    block = os.urandom(4 * MiB)

    def send() -> None:
        c = socket.create_connection(server.getsockname())
        for _ in range(size // len(block)):
            c.sendall(block)
        c.close()

    sender = threading.Thread(target=send)
    t = time.perf_counter()
    sender.start()
    conn, _ = server.accept()
    got = 0
    buf = bytearray(4 * MiB)
    while n := conn.recv_into(buf):
        got += n
    dt = time.perf_counter() - t
    sender.join()
    conn.close()
    server.close()
    return {"workload": "limit_loopback_tcp", "MBps": round(got / dt / 1e6, 1)}


GATEWAY_BLOCK = 256 * MiB  # ozone.scm.block.size, the gateway's default
GATEWAY_WRITE = 1 * MiB  # the upload sink's batch: one os.write each


def _write_like_the_gateway(directory: str, size: int, recycle: bool) -> float:
    """MB/s of writing ``size`` bytes the way the embedded store writes a
    body: new block files of GATEWAY_BLOCK in one directory, GATEWAY_WRITE
    per write, each block fsync'd and then its directory.  ``recycle``
    drops each block's pages once durable (the gateway keeps them cached)."""
    piece = os.urandom(GATEWAY_WRITE)
    os.mkdir(directory)
    t = time.perf_counter()
    left, n = size, 0
    while left:
        fd = os.open(os.path.join(directory, f"{n}.block"),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # fmt: skip
        in_block = min(left, GATEWAY_BLOCK)
        for _ in range(in_block // GATEWAY_WRITE):
            os.write(fd, piece)
        os.fsync(fd)
        if recycle:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        dfd = os.open(directory, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
        left -= in_block
        n += 1
    return size / (time.perf_counter() - t) / 1e6


def limit_disk(path: str, size: int, runs: int = 3) -> list[dict[str, object]]:
    """The disk's limits as the gateway meets them.

    Write: ``runs`` passes of ``size`` bytes written as the gateway writes
    (see _write_like_the_gateway), each into new files kept until all passes
    are done, as stored objects are; the median.  On a VM whose free memory
    goes back to the host (virtio-balloon free page reporting), a page the
    page cache takes fresh costs a host fault: writing into new pages runs
    ~300 MB/s here (3 s of system time per GiB) where the same writes with
    each block's pages dropped once durable (so the kernel hands them
    straight back) run ~1,000+ MB/s; fio and a loop overwriting one file
    measure the latter.  Both are reported; the first is the limit a stored
    body meets, and the ratio uses it.

    Read: one file read twice in 4 MiB reads; the second (cached) pass."""
    writes, recycled = [], []
    with tempfile.TemporaryDirectory(dir=path, prefix="disk-probe-") as probe:
        for i in range(runs):
            writes.append(_write_like_the_gateway(f"{probe}/kept{i}", size, False))
        for i in range(runs):
            recycled.append(_write_like_the_gateway(f"{probe}/dropped{i}", size, True))
        name = os.path.join(probe, "kept0", "0.block")
        reads = []
        for _ in range(2):
            t = time.perf_counter()
            n = 0
            with open(name, "rb", buffering=0) as f:
                while chunk := f.read(4 * MiB):
                    n += len(chunk)
            reads.append(n / (time.perf_counter() - t) / 1e6)
    return [
        {"workload": "limit_disk_write_fsync", "MBps": round(statistics.median(writes), 1),
         "runs": [round(w) for w in writes]},
        {"workload": "limit_disk_write_fsync_recycled",
         "MBps": round(statistics.median(recycled), 1),
         "runs": [round(w) for w in recycled]},
        {"workload": "limit_disk_read_cached", "MBps": round(reads[-1], 1)},
    ]  # fmt: skip


# -- workloads ----------------------------------------------------------------


def body_iter(size: int, block: bytes) -> Iterator[bytes]:
    left = size
    while left:
        n = min(left, len(block))
        yield block if n == len(block) else block[:n]
        left -= n


def big_put_get(
    client: Client, bucket: str, size: int, gw: object, crc_compare: bool = True,
    headers: dict[str, str] | None = None,
) -> list[dict[str, object]]:  # fmt: skip
    block = os.urandom(4 * MiB)
    want = 0
    for piece in body_iter(size, block):
        want = crc(piece, want)
    t = time.perf_counter()
    client.call("PUT", f"/{bucket}/big", body=body_iter(size, block),
                headers={"content-length": str(size), **(headers or {})})  # fmt: skip
    put = size / (time.perf_counter() - t) / 1e6
    t = time.perf_counter()
    status, n, got = raw_get(client, f"/{bucket}/big")
    get = size / (time.perf_counter() - t) / 1e6
    if status != 200 or n != size or got != want:
        raise RuntimeError("GET returned different bytes")
    out: list[dict[str, object]] = [
        {"workload": "put_single", "size_MiB": size // MiB, "MBps": round(put, 1)},
        {"workload": "get_single", "size_MiB": size // MiB, "MBps": round(get, 1),
         "verified": True},
    ]  # fmt: skip
    if not crc_compare:
        client.call("DELETE", f"/{bucket}/big")
        return out
    # The same PUT with an x-amz-checksum-crc32c header the gateway verifies.
    import base64

    value = 0
    for piece in body_iter(size, block):
        value = crc(piece, value)
    crc_header = base64.b64encode(value.to_bytes(4, "big")).decode()
    # Alternate plain and checksummed PUTs (best of three each): disk
    # write-back of the previous GiB otherwise decides the comparison.
    rates: dict[bool, list[float]] = {False: [], True: []}
    for with_crc in (False, True) * 3:
        headers = {"content-length": str(size)}
        if with_crc:
            headers["x-amz-checksum-crc32c"] = crc_header
        client.call("DELETE", f"/{bucket}/big")
        time.sleep(2)
        t = time.perf_counter()
        client.call("PUT", f"/{bucket}/big", body=body_iter(size, block),
                    headers=headers)  # fmt: skip
        rates[with_crc].append(size / (time.perf_counter() - t) / 1e6)
    plain, put_crc = max(rates[False]), max(rates[True])
    out.append({"workload": "put_single_crc32c", "size_MiB": size // MiB,
                "MBps": round(put_crc, 1), "plain_MBps": round(plain, 1),
                "slowdown_pct": round(100 * (plain / put_crc - 1), 1)})  # fmt: skip
    client.call("DELETE", f"/{bucket}/big")
    return out


def small_ops(endpoint: str, signer: Signer, bucket: str, ops: int,
              concurrency: int,
              methods: tuple[str, ...] = ("PUT", "GET", "HEAD", "DELETE"),
              payload: bytes | None = None) -> list[dict[str, object]]:  # fmt: skip
    """4 KiB PUT, GET (verified), HEAD, DELETE of ``ops`` keys over
    ``concurrency`` keep-alive connections (see loadgen: one thread).
    ``payload``: the bytes PUT wrote (and GET checks), when the calls are
    split."""
    from loadgen import run

    payload = payload or os.urandom(4096)
    per = max(1, ops // concurrency)
    u = urlsplit(endpoint)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    hostport = f"{host}:{port}"

    def sign(method: str, path: str, extra: dict[str, str]) -> dict[str, str]:
        return signer.headers(method, hostport, path, "", extra)

    def check(method: str, path: str, status: int, body: bytes) -> None:
        if status not in (200, 204):
            raise RuntimeError(f"{method} {path}: {status} {body[:200]!r}")
        if method == "GET" and body != payload:
            raise RuntimeError(f"GET {path} returned different bytes")

    out = []
    for method in methods:
        jobs = [
            [(method, f"/{bucket}/small/{n}/{i}", payload if method == "PUT" else b"")
             for i in range(per)]
            for n in range(concurrency)
        ]  # fmt: skip
        lat, dt = run(host, port, sign, jobs, check)
        lat.sort()
        out.append({
            "workload": f"{method.lower()}_4KiB", "concurrency": concurrency,
            "ops_per_s": round(len(lat) / dt, 1), "seconds": round(dt, 3),
            "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
        })  # fmt: skip
    return out


def _each_part(endpoint: str, signer: Signer, nparts: int, parallel: int,
               job: Callable[[Client, int], None]) -> None:  # fmt: skip
    """Run ``job(client, part_number)`` for parts 1..nparts on ``parallel``
    threads, each with its own connection; the first error is raised."""
    todo = list(range(1, nparts + 1))
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        c = Client(endpoint, signer)
        while True:
            with lock:
                if not todo or errors:
                    return
                n = todo.pop(0)
            try:
                job(c, n)
            except Exception as e:  # reported below
                errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise RuntimeError(errors[0])


def multipart(endpoint: str, signer: Signer, bucket: str, size: int, part: int,
              parallel: int, keep: bool = False) -> list[dict[str, object]]:  # fmt: skip
    """Multipart upload (``parallel`` parts at once) and a parallel ranged
    download of the same object, every range verified; ``keep``: the object
    (``multi``) stays."""
    from xml.etree import ElementTree

    base = os.urandom(part)
    nparts = size // part

    def body(n: int) -> bytes:
        return n.to_bytes(8, "big") + base[8:]  # distinct, cheap

    c = Client(endpoint, signer)
    root = ElementTree.fromstring(c.call("POST", f"/{bucket}/multi", query="uploads"))
    uid = next(e.text for e in root.iter() if e.tag.endswith("UploadId"))
    etags: dict[int, str] = {}

    def up(cc: Client, n: int) -> None:
        r = cc.request("PUT", f"/{bucket}/multi",
                       query=f"partNumber={n}&uploadId={uid}", body=body(n))  # fmt: skip
        r.read()
        if r.status != 200:
            raise RuntimeError(f"part {n}: {r.status}")
        etags[n] = r.getheader("ETag") or ""

    t = time.perf_counter()
    _each_part(endpoint, signer, nparts, parallel, up)
    xml_body = (
        "<CompleteMultipartUpload>"
        + "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>"
            for n in sorted(etags)
        )
        + "</CompleteMultipartUpload>"
    )
    c.call("POST", f"/{bucket}/multi", query=f"uploadId={uid}", body=xml_body.encode())
    up_rate = size / (time.perf_counter() - t) / 1e6
    want = {n: crc(body(n)) for n in range(1, nparts + 1)}

    def down(cc: Client, n: int) -> None:
        lo = (n - 1) * part
        r = cc.request("GET", f"/{bucket}/multi",
                       headers={"range": f"bytes={lo}-{lo + part - 1}"})  # fmt: skip
        _, value = read_body(r)
        if r.status != 206 or value != want[n]:
            raise RuntimeError(f"range {n}: status {r.status}, bytes differ")

    t = time.perf_counter()
    _each_part(endpoint, signer, nparts, parallel, down)
    down_rate = size / (time.perf_counter() - t) / 1e6
    if not keep:
        c.call("DELETE", f"/{bucket}/multi")
    common = {"size_MiB": size // MiB, "part_MiB": part // MiB, "parallel": parallel}
    return [
        {"workload": "put_multipart", **common, "MBps": round(up_rate, 1)},
        {"workload": "get_ranged_parallel", **common, "MBps": round(down_rate, 1),
         "verified": True},
    ]  # fmt: skip


def list_all(client: Client, bucket: str, count: int) -> dict[str, object]:
    """Page through a whole bucket with ListObjectsV2 (1,000 keys a page)."""
    import re
    from urllib.parse import quote as q

    t = time.perf_counter()
    seen, token = 0, None
    while True:
        query = "list-type=2&max-keys=1000" + (
            f"&continuation-token={q(token, safe='')}" if token else ""
        )
        body = client.call("GET", f"/{bucket}", query=query)
        seen += body.count(b"<Key>")
        m = re.search(rb"<NextContinuationToken>([^<]+)<", body)
        if not m:
            break
        token = m.group(1).decode()
    dt = time.perf_counter() - t
    if seen != count:
        raise RuntimeError(f"listed {seen} keys, expected {count}")
    return {"workload": "list_objects_v2_all", "bucket_keys": count,
            "keys_per_s": round(seen / dt), "seconds": round(dt, 2)}  # fmt: skip


def populate_keys(data_dir: str, bucket: str, count: int) -> None:
    """Fill the embedded OM directly (HTTP would take far too long)."""
    import sqlite3

    db = sqlite3.connect(os.path.join(data_dir, "om", "om.db"))
    (bucket_id,) = db.execute(
        "SELECT id FROM buckets WHERE name=?", (bucket,)
    ).fetchone()
    now = time.time()
    meta = json.dumps({"ct": "binary/octet-stream", "h": [], "u": []})
    # As the gateway writes a key: its owner and replication columns filled
    # ('': the bucket owner's, the default), where the schema has them.
    columns = {row[1] for row in db.execute("PRAGMA table_info(keys)")}
    extra = ", owner, replication" if "owner" in columns else ""
    values = ", '', ''" if extra else ""
    with db:
        db.executemany(
            f"INSERT INTO keys(bucket_id, key, size, etag, modified, meta, blocks"
            f"{extra}) VALUES(?, ?, 0, 'd41d8cd98f00b204e9800998ecf8427e', ?, ?,"
            f" '[]'{values})",
            ((bucket_id, f"dir{i % 100:02d}/key-{i:08d}".encode(), now, meta)
             for i in range(count)),
        )  # fmt: skip
    db.close()


def listing(client: Client, bucket: str, count: int) -> list[dict[str, object]]:
    out = []
    cases = [
        ("first_page", "list-type=2&max-keys=1000"),
        ("middle_page", "list-type=2&max-keys=1000&start-after="
         + quote(f"dir50/key-{count // 2:08d}", safe="")),
        ("prefix_page", "list-type=2&max-keys=1000&prefix=dir77%2F"),
        ("delimiter_page", "list-type=2&max-keys=1000&delimiter=%2F"),
    ]  # fmt: skip
    for name, query in cases:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            body = client.call("GET", f"/{bucket}", query=query)
            times.append(time.perf_counter() - t)
        times.sort()
        out.append({
            "workload": f"list_{name}", "bucket_keys": count,
            "median_ms": round(times[2] * 1000, 2),
            "entries": body.count(b"<Key>") + body.count(b"<Prefix>") - 1,
        })  # fmt: skip
    return out


def scaling(work: str, signer: Signer, ops: int, reactor: str,
            counts: tuple[int, ...] = (1, 2)) -> list[dict[str, object]]:  # fmt: skip
    """4 KiB PUT then GET at concurrency 64 against ``--workers 1`` and
    ``--workers 2`` gateways (each on a fresh store): the scaling ratio."""
    from tests.support.gateway import GatewayProcess

    out: list[dict[str, object]] = []
    rates = {}
    for n in counts:
        gw = GatewayProcess(os.path.join(work, f"scale-{n}"), reactor=reactor,
                            args=["--workers", str(n)]).start()  # fmt: skip
        try:
            Client(gw.endpoint, signer).call("PUT", "/scale")
            recs = small_ops(gw.endpoint, signer, "scale", ops, 64, ("PUT", "GET"))
        finally:
            gw.stop(60)
        total = sum(float(r["seconds"]) for r in recs)
        done = sum(float(r["ops_per_s"]) * float(r["seconds"]) for r in recs)
        rates[n] = done / total
        out.append({"workload": "put_get_4KiB_workers", "workers": n,
                    "concurrency": 64, "ops_per_s": round(rates[n], 1),
                    **{f"{r['workload']}_ops_per_s": r["ops_per_s"] for r in recs}})  # fmt: skip
    if len(counts) > 1:
        out.append({"workload": "workers_scaling", "from": counts[0], "to": counts[-1],
                    "ratio": round(rates[counts[-1]] / rates[counts[0]], 2)})  # fmt: skip
    return out


def moto_small_ops(signer: Signer, ops: int) -> list[dict[str, object]]:
    """moto's S3 server (pip install 'moto[server]') on this machine, same
    4 KiB workloads at concurrency 64: the reference the targets name."""
    import subprocess

    from tests.support.gateway import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                Client(endpoint, signer).call("PUT", "/moto-bench")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        recs = small_ops(endpoint, signer, "moto-bench", ops, 64)
    finally:
        proc.terminate()
        proc.wait(10)
    for r in recs:
        r["workload"] = "moto_" + str(r["workload"])
    return recs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", help="benchmark this S3 endpoint instead")
    ap.add_argument("--access-key", default="bench")
    ap.add_argument("--secret-key", default="bench")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--ops", type=int, default=4000)
    ap.add_argument(
        "--concurrency",
        default="1,16,64",
        help="comma list of concurrencies for the 4 KiB workloads",
    )
    ap.add_argument("--multipart-mib", type=int, default=3072)
    ap.add_argument("--part-mib", type=int, default=64)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--list-all-keys", type=int, default=100_000)
    ap.add_argument("--list-keys", type=int, default=1_000_000)
    ap.add_argument("--skip-list", action="store_true")
    ap.add_argument("--skip-crc-compare", action="store_true",
                    help="skip the 3+3 PUTs comparing a verified CRC32C")  # fmt: skip
    ap.add_argument("--reactor", default="default")
    ap.add_argument("--workers", type=int, default=1,
                    help="gateway processes (ours): --workers N")  # fmt: skip
    ap.add_argument("--scaling", action="store_true",
                    help="also measure 4 KiB PUT+GET with 1 and 2 workers")  # fmt: skip
    ap.add_argument("--moto", action="store_true",
                    help="also measure moto's server here (4 KiB, c=64)")  # fmt: skip
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="ozs3-bench-")
    gw = None
    if args.endpoint is None:
        from tests.support.gateway import GatewayProcess

        gw = GatewayProcess(os.path.join(work, "data"), reactor=args.reactor,
                            args=["--workers", str(args.workers)]).start()  # fmt: skip
        endpoint = gw.endpoint
    else:
        endpoint = args.endpoint
    signer = Signer(args.access_key, args.secret_key)
    client = Client(endpoint, signer)
    bucket = f"bench-{os.getpid()}"
    client.call("PUT", f"/{bucket}")
    emit({"workload": "env", "endpoint": endpoint, "cpus": os.cpu_count(),
          "ours": gw is not None, "workers": args.workers,
          "fsync": "every commit (durable)"})  # fmt: skip
    limit_records = [limit_hash(512 * MiB), limit_loopback(1024 * MiB),
                     *limit_disk(work, 1024 * MiB)]  # fmt: skip
    limits = {str(r["workload"]): float(str(r["MBps"])) for r in limit_records}
    for record in limit_records:
        emit(record)
    put_limit = min(
        limits["limit_md5_crc32c_one_core"], limits["limit_disk_write_fsync"]
    )
    get_limit = min(limits["limit_loopback_tcp"], limits["limit_disk_read_cached"])
    # RSS is a process's: measured with one worker (the supervisor of
    # several holds no data).
    rss = gw if args.workers == 1 else None
    if rss:
        rss.reset_peak_rss()
    for rec in big_put_get(client, bucket, args.size_mib * MiB, gw,
                           not args.skip_crc_compare):  # fmt: skip
        # ours / limit, as the performance targets are stated.
        if rec["workload"] in ("put_single", "put_single_crc32c"):
            rec["ratio"] = round(float(rec["MBps"]) / put_limit, 2)
        elif rec["workload"] == "get_single":
            rec["ratio"] = round(float(rec["MBps"]) / get_limit, 2)
        emit(rec)
    if args.multipart_mib:
        for rec in multipart(endpoint, signer, bucket, args.multipart_mib * MiB,
                             args.part_mib * MiB, args.parallel):  # fmt: skip
            emit(rec)
    if rss:
        emit(
            {"workload": "peak_rss_big_transfer", "MiB": round(rss.peak_rss() / MiB, 1)}
        )
    ours_put_64 = None
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        for rec in small_ops(endpoint, signer, bucket, args.ops, concurrency):
            if rec["workload"] == "put_4KiB" and concurrency == 64:
                ours_put_64 = float(rec["ops_per_s"])
            emit(rec)
    moto_put_64 = None
    if args.moto:
        for rec in moto_small_ops(signer, args.ops):
            emit(rec)
            if rec["workload"] == "moto_put_4KiB":
                moto_put_64 = float(rec["ops_per_s"])  # type: ignore[arg-type]
        if ours_put_64 and moto_put_64:
            emit({"workload": "put_4KiB_vs_moto", "concurrency": 64,
                  "workers": args.workers,
                  "ratio": round(ours_put_64 / moto_put_64, 2)})  # fmt: skip
    if args.scaling:
        for rec in scaling(work, signer, args.ops, args.reactor):
            emit(rec)
            if moto_put_64 and rec.get("workers") == 2:
                put = float(rec["put_4KiB_ops_per_s"])  # type: ignore[arg-type]
                emit({"workload": "put_4KiB_vs_moto", "concurrency": 64,
                      "workers": 2, "ratio": round(put / moto_put_64, 2)})  # fmt: skip
    if gw and not args.skip_list:
        gw.stop()
        lbucket = "listing"
        gw2 = type(gw)(gw.data_dir, reactor=args.reactor).start()
        Client(gw2.endpoint, signer).call("PUT", f"/{lbucket}")
        Client(gw2.endpoint, signer).call("PUT", "/listing-all")
        gw2.stop()
        populate_keys(gw.data_dir, "listing-all", args.list_all_keys)
        t = time.perf_counter()
        populate_keys(gw.data_dir, lbucket, args.list_keys)
        emit({"workload": "populate_keys_direct", "keys": args.list_keys,
              "seconds": round(time.perf_counter() - t, 1)})  # fmt: skip
        gw = type(gw)(gw.data_dir, reactor=args.reactor).start()
        for rec in listing(Client(gw.endpoint, signer), lbucket, args.list_keys):
            emit(rec)
        emit(list_all(Client(gw.endpoint, signer), "listing-all", args.list_all_keys))
        emit({"workload": "peak_rss_total", "MiB": round(gw.peak_rss() / MiB, 1)})
    elif gw:
        emit({"workload": "peak_rss_total", "MiB": round(gw.peak_rss() / MiB, 1)})
    if gw:
        gw.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
