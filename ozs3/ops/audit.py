"""The access/audit log: one JSON line per request.

Fields: time, request_id, remote, user, operation, bucket, key, style (path
or virtual addressing), status, bytes_in, bytes_out, duration_ms.  Never a
query string, header, secret or signature: nothing that could carry one is
logged.
"""

from __future__ import annotations

import json
import os
import time
from typing import IO, Any

from twisted.logger import Logger


class AuditLog:
    log = Logger(namespace="ozs3.audit")

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # Line-buffered: each record reaches the file as it is written.
        self._file: IO[str] | None = open(path, "a", buffering=1)  # noqa: SIM115

    def record(self, **fields: Any) -> None:
        fields = {"time": round(time.time(), 3), **fields}
        if self._file is not None:
            self._file.write(json.dumps(fields, separators=(",", ":")) + "\n")
        self.log.info(
            "{request_id} {user} {operation} {bucket}/{key} {status} "
            "in={bytes_in} out={bytes_out} {duration_ms}ms",
            **fields,
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
