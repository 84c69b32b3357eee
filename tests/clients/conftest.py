"""One gateway for the real-client tests, with virtual-host style on for
``localhost`` (so ``bucket.localhost:port`` works) and a few bucket names
mapped to 127.0.0.1 in /etc/hosts (clients resolve them with the system
resolver; *.localhost does not resolve by itself here)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.gateway import GatewayProcess

VHOST_BUCKETS = ("vhost-fuse", "vhost-js")


def _ensure_hosts() -> None:
    wanted = [f"{b}.localhost" for b in VHOST_BUCKETS]
    with open("/etc/hosts") as f:
        text = f.read()
    missing = [h for h in wanted if h not in text.split()]
    if missing:
        try:
            with open("/etc/hosts", "a") as f:
                f.write("".join(f"\n127.0.0.1 {h}" for h in missing) + "\n")
        except OSError as e:
            pytest.fail(f"cannot map {missing} to 127.0.0.1 in /etc/hosts: {e}")


@pytest.fixture(scope="session")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    _ensure_hosts()
    g = GatewayProcess(
        str(tmp_path_factory.mktemp("clients") / "data"),
        env={"OZONE-SITE.XML_ozone.s3g.domain.name": "localhost"},
    ).start()
    yield g
    g.stop()
    assert not g.tracebacks(), g.log()


@pytest.fixture
def creds() -> dict[str, str]:
    return {"key": "clientuser", "secret": "clientsecret"}


@pytest.fixture
def client_env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="clientuser",
        AWS_SECRET_ACCESS_KEY="clientsecret",
        AWS_DEFAULT_REGION="us-east-1",
        HOME=str(tmp_path),
    )
    return env
