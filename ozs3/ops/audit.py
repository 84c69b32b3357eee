"""The access/audit log: one JSON line per request.

Fields: time, request_id, remote, user, operation, bucket, key, style (path
or virtual addressing), status, bytes_in, bytes_out, duration_ms, and with
``--workers``, the worker that served it.  Never a
query string, header, secret or signature: nothing that could carry one is
logged.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

# json.dumps with separators makes a new JSONEncoder per call.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


class AuditLog:
    """Written to its own file only: echoing every request into twistd's
    log as well cost a formatted line and a write per request."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # One write(2) per record on an O_APPEND file: each line reaches the
        # file whole (workers share it), and a line a full disk refused is
        # lost alone, with no half-written buffer to trip the next one.
        self._fd: int | None = os.open(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640
        )
        self.dropped = 0  # records a write error lost

    def record(self, **fields: Any) -> None:
        fields = {"time": round(time.time(), 3), **fields}
        if self._fd is not None:
            line = _ENCODE(fields) + "\n"
            try:
                os.write(self._fd, line.encode())
            except OSError:
                self.dropped += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
