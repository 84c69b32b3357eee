"""The storage interface's contract, one suite for every backend: the
embedded store and a real Ozone cluster (skipped without one, see
tests/cluster/conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import pytest_twisted

from ozs3._executor import SyncExecutor
from ozs3.storage.client import EmbeddedObjectStore
from ozs3.storage.datanode.store import LocalBlockStore
from ozs3.storage.errors import StorageError
from ozs3.storage.model import ListQuery
from ozs3.storage.om.manager import OzoneManager
from tests.cluster.conftest import Cluster, cluster  # noqa: F401 (a fixture)

KiB = 1024
MiB = 1024 * KiB
# Small blocks and chunks: every backend's multi-block paths in a few MiB.
BLOCK_SIZE = 1 * MiB
CHUNK_SIZE = 256 * KiB
BYTES_PER_CHECKSUM = 16 * KiB


@attrs.define
class Backend:
    name: str
    store: Any
    block_size: int
    buckets: list[str] = attrs.Factory(list)

    def new_bucket_name(self) -> str:
        name = f"ct-{uuid.uuid4().hex[:12]}"
        self.buckets.append(name)
        return name


async def _cleanup(backend: Backend) -> None:
    for name in backend.buckets:
        try:
            while True:
                page = await backend.store.list_keys(name, ListQuery(max_keys=1000))
                if page.keys:
                    await backend.store.delete_keys(name, [k.key for k in page.keys])
                if not page.truncated:
                    break
            await backend.store.delete_bucket(name)
        except StorageError:
            pass


def _embedded(path: str) -> EmbeddedObjectStore:
    ex = SyncExecutor()
    om = OzoneManager(os.path.join(path, "om", "om.db"), "s3v", ex)
    dn = LocalBlockStore(
        os.path.join(path, "hdds"), CHUNK_SIZE, BYTES_PER_CHECKSUM, "CRC32C"
    )
    return EmbeddedObjectStore(om, dn, ex, BLOCK_SIZE)


def _cluster_store(c: Cluster) -> Any:
    from twisted.internet import reactor

    from ozs3.storage.ozone.key_writer import WriteSettings
    from ozs3.storage.ozone.om_client import OMClient
    from ozs3.storage.ozone.store import ClusterObjectStore

    om = OMClient.connect(c.om_grpc, reactor, access_id="ozs3-contract", deadline=60)
    settings = WriteSettings(BLOCK_SIZE, CHUNK_SIZE, "CRC32", BYTES_PER_CHECKSUM)
    return ClusterObjectStore(om, reactor, settings, deadline=60)


@pytest.fixture(params=["embedded", "cluster"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Which backend; the cluster's absence skips here, in a plain fixture
    (a skip raised inside the async one below broke pytest's bookkeeping of
    finalizers, and the next test errored at setup)."""
    if request.param == "cluster":
        request.getfixturevalue("cluster")
    return str(request.param)


@pytest_twisted.async_yield_fixture
async def backend(
    request: pytest.FixtureRequest, backend_name: str, tmp_path: Any
) -> Iterator[Backend]:
    if backend_name == "embedded":
        store = _embedded(str(tmp_path))
    else:
        store = _cluster_store(request.getfixturevalue("cluster"))
    await store.start()
    b = Backend(backend_name, store, BLOCK_SIZE)
    yield b
    await _cleanup(b)
    if backend_name == "cluster":
        await store.close()
