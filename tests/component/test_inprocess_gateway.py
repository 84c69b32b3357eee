"""The whole gateway service in the test's own reactor (pytest-twisted),
driven over loopback by treq: what a subprocess cannot show, the gateway's
own state while a request is under way, is asserted here.

- A body streams into storage with backpressure: however fast a client
  sends, no upload ever holds more than the sink's high-water mark plus the
  piece that crossed it.
- /health and /prom on the admin port tell what the S3 port did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from ozs3.config import load_config
from ozs3.s3.upload_sink import HIGH_WATER, UploadSink
from ozs3.service import GatewayService
from tests.support.gateway import free_port

MiB = 1 << 20
PIECE = 256 << 10


@implementer(IBodyProducer)
class FastBody:
    """Sends ``size`` bytes as fast as the transport takes them, one
    ``PIECE`` per reactor turn, sampling what the gateway's uploads hold."""

    def __init__(self, size: int, gateway: Any) -> None:
        self.length = size
        self._gateway = gateway
        self._paused: Deferred[None] | None = None
        self.sha = hashlib.sha256()
        self.md5 = hashlib.md5()
        self.most_held = 0

    def _sample(self) -> None:
        for request in self._gateway.active:
            sink = getattr(request, "sink", None)
            if isinstance(sink, UploadSink):
                self.most_held = max(self.most_held, sink.held)

    async def _produce(self, consumer: Any) -> None:
        sent = 0
        n = 0
        while sent < self.length:
            while self._paused is not None:
                await self._paused
            piece = bytes([n % 251]) * min(PIECE, self.length - sent)
            n += 1
            self.sha.update(piece)
            self.md5.update(piece)
            consumer.write(piece)
            sent += len(piece)
            self._sample()
            await deferLater(reactor, 0, lambda: None)

    def startProducing(self, consumer: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(self._produce(consumer))

    def pauseProducing(self) -> None:
        if self._paused is None:
            self._paused = Deferred()

    def resumeProducing(self) -> None:
        paused, self._paused = self._paused, None
        if paused is not None:
            paused.callback(None)

    def stopProducing(self) -> None:
        self.resumeProducing()


def slow_disk(svc: GatewayService) -> None:
    """Every block write of the store waits 5 ms first: a client on
    loopback then sends faster than the store takes its body."""
    open_key = svc.store.open_key

    def slow_writer(writer: Any) -> Any:
        write = writer.write

        def slow_write(data: bytes, last: bool = False) -> Deferred[None]:
            return deferLater(reactor, 0.005, write, data, last)

        writer.write = slow_write
        return writer

    def slow_open(*args: Any, **kwargs: Any) -> Any:
        return open_key(*args, **kwargs).addCallback(slow_writer)

    svc.store.open_key = slow_open  # type: ignore[method-assign]


@pytest_twisted.async_yield_fixture
async def service(tmp_path: Any) -> AsyncIterator[tuple[GatewayService, str, str]]:
    port, admin = free_port(), free_port()
    config = load_config(
        None,
        {},
        {
            "ozone.metadata.dirs": str(tmp_path / "data"),
            "ozone.s3g.webadmin.http-address": f"127.0.0.1:{admin}",
        },
        (f"tcp:{port}:interface=127.0.0.1",),
    )
    svc = GatewayService(config, reactor)
    svc.startService()
    await svc.ready
    try:
        yield svc, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}"
    finally:
        await svc.stopService()


@pytest_twisted.ensureDeferred
async def test_streamed_put_is_held_to_the_high_water_mark(
    service: tuple[GatewayService, str, str],
) -> None:
    svc, s3, _ = service
    response = await treq.put(f"{s3}/inproc")
    assert response.code == 200, await treq.text_content(response)

    slow_disk(svc)
    body = FastBody(24 * MiB, svc.gateway)
    response = await treq.put(f"{s3}/inproc/big", data=body)
    assert response.code == 200, await treq.text_content(response)
    assert response.headers.getRawHeaders("etag") == [f'"{body.md5.hexdigest()}"']
    # The client could send far faster than the (slowed) store took it.
    assert body.most_held > 0
    assert body.most_held <= HIGH_WATER + PIECE, body.most_held

    response = await treq.get(f"{s3}/inproc/big")
    assert response.code == 200
    got = await treq.content(response)
    assert hashlib.sha256(got).digest() == body.sha.digest()


@pytest_twisted.ensureDeferred
async def test_admin_port_reports_the_s3_traffic(
    service: tuple[GatewayService, str, str],
) -> None:
    _, s3, admin = service
    response = await treq.get(f"{admin}/health")
    assert response.code == 200
    assert json.loads(await treq.text_content(response)) == {"status": "ready"}
    for key in ("a", "b", "c"):
        if key == "a":
            assert (await treq.put(f"{s3}/metered")).code == 200
        response = await treq.put(f"{s3}/metered/{key}", data=b"x")
        assert response.code == 200
        await treq.content(response)
    response = await treq.get(f"{s3}/metered/missing")
    assert response.code == 404
    await treq.content(response)
    text = await treq.text_content(await treq.get(f"{admin}/prom"))
    assert 'ozs3_requests_total{operation="PutObject",status="200"} 3.0' in text
    assert 'ozs3_requests_total{operation="GetObject",status="404"} 1.0' in text
