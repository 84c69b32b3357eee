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
from typing import IO, Any


class AuditLog:
    """Written to its own file only: echoing every request into twistd's
    log as well cost a formatted line and a write per request."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # Line-buffered: each record reaches the file as it is written.
        self._file: IO[str] | None = open(path, "a", buffering=1)  # noqa: SIM115

    def record(self, **fields: Any) -> None:
        fields = {"time": round(time.time(), 3), **fields}
        if self._file is not None:
            self._file.write(json.dumps(fields, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
