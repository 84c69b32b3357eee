"""Raw-socket HTTP helpers, for what http.client will not send."""

from __future__ import annotations

import socket


def read_response_head(s: socket.socket) -> bytes:
    """Read until the end of a response's headers (or EOF)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_response(s: socket.socket) -> tuple[bytes, bytes]:
    """A whole response: its head (status line and headers) and the body its
    Content-Length announces (less if the connection closes first)."""
    got = read_response_head(s)
    head, _, body = got.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        more = s.recv(65536)
        if not more:
            break
        body += more
    return head, body
