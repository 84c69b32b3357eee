"""One version per response: GETs racing overwrites on ``--workers 2``.

Writers overwrite one key over and over (objects of one to three small
blocks), bulk writers of 8 MiB keep both workers' I/O pools busy, and the
block-deleting task of either worker reclaims the replaced versions' blocks
while readers are between looking a key up and opening its blocks.  Every
answer must be one whole version: the body's MD5 is the ETag, its length the
Content-Length, a range is exactly those bytes of the version its ETag names,
and a copy holds the version its CopyObject answered.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import re
import socket
import threading
import time

from tests.support.gateway import GatewayProcess, free_port

KiB = 1024
MiB = 1024 * KiB
DURATION = 20.0  # seconds of load
BLOCK = 256 * KiB
BUCKET = "race"


def _in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _start_two_workers(tmp_path) -> GatewayProcess:  # type: ignore[no-untyped-def]
    admin = free_port()
    while any(_in_use(admin + i) for i in range(2)):  # worker i: admin port + i
        admin = free_port()
    return GatewayProcess(
        str(tmp_path / "data"),
        args=["--workers", "2"],
        env={
            "OZONE-SITE.XML_ozone.s3g.webadmin.http-address": f"127.0.0.1:{admin}",
            # Small blocks and chunks: most versions span several blocks.
            "OZONE-SITE.XML_ozone.scm.block.size": str(BLOCK),
            "OZONE-SITE.XML_ozone.scm.chunk.size": str(64 * KiB),
        },
    ).start(timeout=60)


class Load:
    """Shared state of the threads: the versions written, what went wrong."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.versions: dict[str, bytes] = {}  # md5 hex -> body
        self.lock = threading.Lock()
        self.wrong: list[str] = []
        self.checked = {"get": 0, "range": 0, "copy": 0}
        self.stop = threading.Event()

    def conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def fail(self, what: str) -> None:
        with self.lock:
            self.wrong.append(what)

    def count(self, kind: str) -> None:
        with self.lock:
            self.checked[kind] += 1


def _put(conn: http.client.HTTPConnection, key: str, body: bytes) -> int:
    conn.request("PUT", f"/{BUCKET}/{key}", body=body)
    r = conn.getresponse()
    r.read()
    return r.status


def _overwriter(load: Load, seed: int) -> None:
    rng = random.Random(seed)
    conn = load.conn()
    while not load.stop.is_set():
        body = rng.randbytes(rng.randrange(20 * KiB, 3 * BLOCK))
        with load.lock:
            load.versions[hashlib.md5(body).hexdigest()] = body
        status = _put(conn, "hot", body)
        if status != 200:
            load.fail(f"PUT hot: {status}")


def _bulk_writer(load: Load, n: int) -> None:
    body = os.urandom(8 * MiB)
    conn = load.conn()
    while not load.stop.is_set():
        status = _put(conn, f"bulk-{n}", body)
        if status != 200:
            load.fail(f"PUT bulk: {status}")


def _read(
    load: Load, conn: http.client.HTTPConnection, key: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes] | None:
    """One GET; None (recorded as wrong) if the body is not what the headers
    said it would be, or never arrives."""
    try:
        conn.request("GET", f"/{BUCKET}/{key}", headers=headers)
        r = conn.getresponse()
        body = r.read()
    except (http.client.IncompleteRead, OSError) as e:
        load.fail(f"GET {key} {headers}: body cut short or hung: {e!r}")
        conn.close()
        return None
    got = {k.lower(): v for k, v in r.getheaders()}
    if "content-length" in got and int(got["content-length"]) != len(body):
        load.fail(f"GET {key}: {len(body)} bytes, Content-Length {got}")
        return None
    return r.status, got, body


def _reader(load: Load, seed: int, ranged: bool) -> None:
    rng = random.Random(seed)
    conn = load.conn()
    while not load.stop.is_set():
        headers = {}
        if ranged:
            start = rng.randrange(0, 2 * BLOCK)
            headers["range"] = f"bytes={start}-{start + rng.randrange(1, 2 * BLOCK)}"
        answer = _read(load, conn, "hot", headers)
        if answer is None:
            continue
        status, got, body = answer
        etag = got.get("etag", "").strip('"')
        with load.lock:
            version = load.versions.get(etag)
        if status == 416 and ranged:
            continue  # a version shorter than the range's start
        if version is None or status not in (200, 206):
            load.fail(f"GET hot: {status}, ETag {etag!r} names no version")
            continue
        if status == 200:
            ok = not ranged and body == version
        else:
            m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", got.get("content-range", ""))
            ok = (
                ranged
                and m is not None
                and int(m.group(3)) == len(version)
                and body == version[int(m.group(1)) : int(m.group(2)) + 1]
            )
        if not ok:
            load.fail(f"GET hot {headers}: {status}, body is not version {etag}")
        else:
            load.count("range" if ranged else "get")


def _copier(load: Load) -> None:
    conn = load.conn()
    while not load.stop.is_set():
        conn.request(
            "PUT", f"/{BUCKET}/copied", headers={"x-amz-copy-source": f"/{BUCKET}/hot"}
        )
        r = conn.getresponse()
        text = r.read().decode()
        m = re.search(r"<ETag>&quot;(\w+)&quot;</ETag>|<ETag>\"(\w+)\"</ETag>", text)
        if r.status != 200 or m is None:
            load.fail(f"CopyObject: {r.status} {text[:200]}")
            continue
        copied = m.group(1) or m.group(2)
        answer = _read(load, conn, "copied", {})
        if answer is None:
            continue
        status, got, body = answer
        with load.lock:
            version = load.versions.get(copied)
        # Only this thread writes "copied": it holds what the copy answered.
        if status != 200 or got.get("etag", "").strip('"') != copied or body != version:
            load.fail(f"GET copied: {status}, not the version copied ({copied})")
        else:
            load.count("copy")


def test_get_racing_overwrites_serves_one_version(tmp_path) -> None:
    """--workers 2: 6 overwriters of one key, 3 writers of 8 MiB, 6 whole and
    3 ranged readers and a copier for DURATION s: zero wrong bodies."""
    gw = _start_two_workers(tmp_path)
    try:
        load = Load(gw.port)
        conn = load.conn()
        conn.request("PUT", f"/{BUCKET}")
        assert conn.getresponse().read() is not None
        first = os.urandom(BLOCK + 1)
        load.versions[hashlib.md5(first).hexdigest()] = first
        assert _put(conn, "hot", first) == 200
        threads = [
            *(threading.Thread(target=_overwriter, args=(load, i)) for i in range(6)),
            *(threading.Thread(target=_bulk_writer, args=(load, i)) for i in range(3)),
            *(
                threading.Thread(target=_reader, args=(load, 100 + i, i % 3 == 2))
                for i in range(9)
            ),
            threading.Thread(target=_copier, args=(load,)),
        ]
        for t in threads:
            t.daemon = True
            t.start()
        time.sleep(DURATION)  # the load runs for a fixed time; nothing is awaited
        load.stop.set()
        for t in threads:
            t.join(120)
            assert not t.is_alive(), "a client thread is stuck"
        assert load.wrong == [], (len(load.wrong), load.checked, load.wrong[:20])
        # The load really ran: every kind of check passed many times.
        assert min(load.checked.values()) >= 20, load.checked
        assert not gw.tracebacks(), gw.log()[-5000:]
    finally:
        gw.stop()
