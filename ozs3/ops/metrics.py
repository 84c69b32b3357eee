"""Prometheus metrics (prometheus-client, in a registry of our own)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, int], tuple[Any, Any]] = {}
        r = self.registry
        self.requests = Counter(
            "ozs3_requests", "S3 requests by operation and HTTP status",
            ["operation", "status"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "ozs3_request_duration_seconds", "S3 request latency by operation",
            ["operation"], registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                     2.5, 5, 10, 30, 60, 300),
        )  # fmt: skip
        self.bytes_in = Counter(
            "ozs3_received_bytes", "Request body bytes received", registry=r
        )
        self.bytes_out = Counter(
            "ozs3_sent_bytes", "Response body bytes sent", registry=r
        )
        self.in_flight = Gauge(
            "ozs3_requests_in_flight", "Requests being served", registry=r
        )
        self.open_uploads = Gauge(
            "ozs3_open_multipart_uploads", "Multipart uploads not completed or aborted",
            registry=r,
        )  # fmt: skip
        self.om_commits = Gauge(
            "ozs3_om_commits", "OM write transactions committed (group commits)",
            registry=r,
        )  # fmt: skip
        self.om_writes = Gauge(
            "ozs3_om_writes", "OM writes those transactions carried", registry=r
        )
        self.lifecycle_runs = Counter(
            "ozs3_lifecycle_runs", "Lifecycle service runs completed", registry=r
        )
        self.lifecycle_expired = Counter(
            "ozs3_lifecycle_expired_objects", "Objects expired by lifecycle rules",
            registry=r,
        )  # fmt: skip
        self.lifecycle_expired_bytes = Counter(
            "ozs3_lifecycle_expired_bytes", "Bytes of the objects lifecycle expired",
            registry=r,
        )  # fmt: skip
        self.lifecycle_aborted = Counter(
            "ozs3_lifecycle_aborted_uploads",
            "Multipart uploads aborted by lifecycle rules", registry=r,
        )  # fmt: skip
        self.lifecycle_seconds = Gauge(
            "ozs3_lifecycle_last_run_seconds", "How long the last lifecycle run took",
            registry=r,
        )  # fmt: skip
        self.store_keys = Gauge("ozs3_store_keys", "Committed keys", registry=r)
        self.store_bytes = Gauge(
            "ozs3_store_bytes", "Bytes in committed keys", registry=r
        )

    def observe(
        self, operation: str, status: int, seconds: float, got: int, sent: int
    ) -> None:
        children = self._children.get((operation, status))
        if children is None:
            # labels() looks the child up under a lock each time (~10 µs a
            # request for the two): looked up once per operation and status.
            children = (
                self.requests.labels(operation, str(status)),
                self.latency.labels(operation),
            )
            self._children[operation, status] = children
        children[0].inc()
        children[1].observe(seconds)
        if got:
            self.bytes_in.inc(got)
        if sent:
            self.bytes_out.inc(sent)

    def set_store(self, keys: int, size: int, uploads: int) -> None:
        self.store_keys.set(keys)
        self.store_bytes.set(size)
        self.open_uploads.set(uploads)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))
