"""Fixtures that start the real gateway process and real clients."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.browser import PageServer, chromium
from tests.support.gateway import GatewayProcess

# Every integration test runs against the gateway on Twisted's default
# reactor and on the asyncio reactor (which a gRPC Ozone backend will need).
REACTORS = os.environ.get("OZS3_TEST_REACTORS", "default,asyncio").split(",")


@pytest.fixture(scope="module", params=REACTORS)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    base = tmp_path_factory.mktemp("gw")
    gw = GatewayProcess(str(base / "data"), reactor=request.param)
    gw.start()
    if request.param == "asyncio":
        assert "AsyncioSelectorReactor" in gw.log()
    yield gw
    code = gw.stop()
    problems = gw.tracebacks()
    # twistd re-raises SIGTERM after a clean shutdown: -15 is a clean stop.
    assert code in (0, -15), gw.log()
    assert not problems, gw.log()


def make_client(endpoint: str, **config: object) -> object:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testuser",
        aws_secret_access_key="testsecret",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, **config),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def s3(gateway: GatewayProcess):  # type: ignore[no-untyped-def]
    return make_client(gateway.endpoint)


@pytest.fixture
def bucket(s3) -> Iterator[str]:  # type: ignore[no-untyped-def]
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name


class AwsCli:
    """The aws CLI against the gateway, with its own config files."""

    def __init__(self, endpoint: str, home: str, s3_settings: str = "") -> None:
        self.endpoint = endpoint
        config = os.path.join(home, "config")
        with open(config, "w") as f:
            f.write("[default]\nregion = us-east-1\n")
            if s3_settings:
                f.write(f"s3 =\n{s3_settings}")
        creds = os.path.join(home, "credentials")
        with open(creds, "w") as f:
            f.write(
                "[default]\naws_access_key_id = testuser\n"
                "aws_secret_access_key = testsecret\n"
            )
        self.env = dict(os.environ)
        self.env.update(
            AWS_CONFIG_FILE=config,
            AWS_SHARED_CREDENTIALS_FILE=creds,
            AWS_EC2_METADATA_DISABLED="true",
        )

    def __call__(
        self, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            # `python -m awscli`: the CLI of this interpreter, whether or not
            # an `aws` script is on PATH (pyenv shims need a rehash).
            [sys.executable, "-m", "awscli", "--endpoint-url", self.endpoint, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


@pytest.fixture(scope="module")
def aws(gateway: GatewayProcess, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    return AwsCli(gateway.endpoint, str(tmp_path_factory.mktemp("awscli")))


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    """A web server on another origin, for pages that call the gateway."""
    server = PageServer()
    yield server
    server.close()


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium of its own (profile and downloads in tmp_path)."""
    d = chromium(tmp_path)
    yield d
    d.quit()


# Security-on modules (policies, ACLs): users of a module's ``gw`` gateway.


def user(gw: GatewayProcess, name: str) -> Any:
    """A boto3 client signing as ``name`` (its secret made on first ask)."""
    from tests.integration.test_security import client, getsecret

    return client(gw, name, getsecret(gw.data_dir, name))


@pytest.fixture(scope="module")
def mate(gw: GatewayProcess) -> Any:
    return user(gw, "mate")


@pytest.fixture(scope="module")
def eve(gw: GatewayProcess) -> Any:
    return user(gw, "eve")


@pytest.fixture(scope="module")
def anonymous(gw: GatewayProcess) -> Any:
    """Unsigned boto3: an anonymous caller."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=gw.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )  # fmt: skip
