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
