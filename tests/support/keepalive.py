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
            response = self._send(method, path, body)
        except _CLOSED_BEFORE_RESPONSE:
            if not reused:
                raise
            self.retries += 1
            response = self._send(method, path, body)
        try:
            # A response has begun: whatever happens now is not retried.
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def _send(
        self, method: str, path: str, body: bytes | None
    ) -> http.client.HTTPResponse:
        """Send the request, read the response's status line and headers
        (RemoteDisconnected: the server closed before sending any byte)."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        try:
            self._conn.request(method, path, body=body)
            return self._conn.getresponse()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
