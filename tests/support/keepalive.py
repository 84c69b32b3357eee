"""An http.client connection that is reused across requests and, like
botocore (urllib3), retries a request once on a fresh connection when the
server closed the reused, idle one before sending any byte of a response.

Nothing else is retried: a refused connection, a reset on a new connection,
a timeout, or any response at all (an error status included) is the
caller's to see.
"""

from __future__ import annotations

import http.client

# What a request on a connection the server has already closed meets: the
# send fails (the peer's RST), or the status line read finds EOF
# (RemoteDisconnected: no byte at all) or the RST.
_CLOSED_BEFORE_RESPONSE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
)


class KeepAliveConnection:
    def __init__(self, host: str, port: int, timeout: float = 60) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._conn: http.client.HTTPConnection | None = None
        self.retries = 0  # requests resent after the server closed an idle one

    def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, bytes]:
        """Status and whole body of one request."""
        reused = self._conn is not None and self._conn.sock is not None
        try:
            return self._send(method, path, body)
        except _CLOSED_BEFORE_RESPONSE:
            self.close()
            if not reused:
                raise
            self.retries += 1
            return self._send(method, path, body)
        except BaseException:
            self.close()
            raise

    def _send(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        self._conn.request(method, path, body=body)
        response = self._conn.getresponse()
        data = response.read()
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
