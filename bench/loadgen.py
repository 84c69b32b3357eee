"""A small-request load generator that costs the machine little.

``concurrency`` keep-alive HTTP/1.1 connections driven from one thread with
``selectors``: raw request bytes out, status line + Content-Length in.  On a
2-core machine the load generator shares the cores with the server; the
thread-per-connection ``http.client`` version used about a third of a core
at 700 requests/s, which then was not the server's to use.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable
from urllib.parse import quote

# (method, path, headers) -> the signed headers to send
SignFn = Callable[[str, str, dict[str, str]], dict[str, str]]


class _Conn:
    __slots__ = (
        "expect_body",
        "inbuf",
        "method",
        "out",
        "path",
        "sock",
        "started",
        "todo",
    )  # fmt: skip

    def __init__(self, sock: socket.socket, todo: list[tuple[str, str, bytes]]):
        self.sock = sock
        self.todo = todo
        self.out = memoryview(b"")
        self.inbuf = bytearray()
        self.started = 0.0
        self.method = self.path = ""
        self.expect_body = True


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """A response's status line and headers (without the blank line):
    (status, Content-Length, whether the server closes after it)."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
        elif name == "transfer-encoding":
            raise RuntimeError("chunked responses are not supported here")
    return status, length, close


def run(host: str, port: int, sign: SignFn,
        jobs: list[list[tuple[str, str, bytes]]],
        check: Callable[[str, str, int, bytes], None]) -> tuple[list[float], float]:  # fmt: skip
    """Run each list of (method, path, body) in ``jobs`` on its own
    connection, requests in order; ``check(method, path, status, body)``
    judges every response.  Returns (latencies, elapsed seconds)."""
    sel = selectors.DefaultSelector()
    latencies: list[float] = []
    hostport = f"{host}:{port}"
    conns = []
    for todo in jobs:
        s = socket.create_connection((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        c = _Conn(s, list(reversed(todo)))
        conns.append(c)

    def reconnect(c: _Conn) -> None:
        """The server closes after each response (moto does): a new
        connection for the next request, as any client would open."""
        sel.unregister(c.sock)
        c.sock.close()
        c.sock = socket.create_connection((host, port))
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock.setblocking(False)
        c.inbuf.clear()
        sel.register(c.sock, selectors.EVENT_WRITE, c)

    def send_next(c: _Conn) -> bool:
        if not c.todo:
            sel.unregister(c.sock)
            c.sock.close()
            return False
        method, path, body = c.todo.pop()
        extra = {"content-length": str(len(body))} if method == "PUT" else {}
        headers = sign(method, path, extra)
        head = f"{method} {quote(path, safe='/-_.~')} HTTP/1.1\r\nHost: {hostport}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        c.out = memoryview(head.encode() + body)
        c.method, c.path, c.expect_body = method, path, method != "HEAD"
        c.started = time.perf_counter()
        sel.modify(c.sock, selectors.EVENT_WRITE, c)
        return True

    start = time.perf_counter()
    live = 0
    for c in conns:
        sel.register(c.sock, selectors.EVENT_WRITE, c)
        live += send_next(c)
    while live:
        for key, events in sel.select():
            c = key.data
            if events & selectors.EVENT_WRITE:
                n = c.sock.send(c.out)
                c.out = c.out[n:]
                if not c.out:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            data = c.sock.recv(1 << 20)
            if not data:
                raise RuntimeError("server closed a keep-alive connection")
            c.inbuf += data
            end = c.inbuf.find(b"\r\n\r\n")
            if end < 0:
                continue
            status, length, close = parse_head(bytes(c.inbuf[:end]))
            body_len = length if c.expect_body else 0
            if len(c.inbuf) < end + 4 + body_len:
                continue
            body = bytes(c.inbuf[end + 4 : end + 4 + body_len])
            del c.inbuf[: end + 4 + body_len]
            latencies.append(time.perf_counter() - c.started)
            check(c.method, c.path, status, body)
            if close and c.todo:
                reconnect(c)
            live -= not send_next(c)
    return latencies, time.perf_counter() - start
