"""compose/ozone/: an Ozone cluster (apache/ozone images) fronted by ozs3.

Static checks only: no Docker engine is needed.  The YAML is read with PyYAML
(those tests skip without it); ``docker-compose config`` validates the file
when docker-compose is installed (that test skips otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from ozs3.config import ENV_PREFIX, load_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(REPO, "compose", "ozone")
COMPOSE = os.path.join(HERE, "docker-compose.yaml")
POM = os.path.join(REPO, "compose", "ozone-local", "pom.xml")

OZONE_SERVICES = {"scm", "om", "dn1", "dn2", "dn3"}
DATANODES = {"dn1", "dn2", "dn3"}


def _yaml() -> Any:
    return pytest.importorskip("yaml", reason="PyYAML reads the compose file")


def _services() -> dict[str, dict]:
    with open(COMPOSE, encoding="utf-8") as f:
        doc = _yaml().safe_load(f)
    return doc["services"]


def _env_file(path: str) -> dict[str, str]:
    """docker-compose's env_file format: KEY=VALUE lines, # comments."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            assert sep, f"{path}: not KEY=VALUE: {line!r}"
            out[key] = value
    return out


def _environment(service: dict) -> dict[str, str]:
    """A service's environment as compose builds it: env_file(s), then
    ``environment`` (a mapping or a KEY=VALUE list) over them."""
    env: dict[str, str] = {}
    files = service.get("env_file", [])
    for name in [files] if isinstance(files, str) else files:
        env.update(_env_file(os.path.join(HERE, name)))
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.partition("=")[::2] for item in given)
    env.update({k: "" if v is None else str(v) for k, v in given.items()})
    return env


def _site(service: dict) -> dict[str, str]:
    """The ozone-site.xml keys a service gets (OZONE-SITE.XML_<key>)."""
    return {
        k[len(ENV_PREFIX) :]: v
        for k, v in _environment(service).items()
        if k.startswith(ENV_PREFIX)
    }


def _command(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else list(cmd)


def _published(service: dict) -> set[int]:
    out = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out.add(int(port["published"]))
        else:
            host, _, target = str(port).rpartition(":")
            out.add(int(host.rpartition(":")[2] or target))
    return out


def _pinned_ozone_version() -> str:
    with open(POM, encoding="utf-8") as f:
        m = re.search(r"<ozone\.version>([^<]+)</ozone\.version>", f.read())
    assert m, "compose/ozone-local/pom.xml pins no ozone.version"
    return m.group(1).strip()


def test_services_are_scm_om_three_datanodes_and_ozs3() -> None:
    services = _services()
    assert set(services) == OZONE_SERVICES | {"ozs3"}
    commands = {name: _command(s) for name, s in services.items()}
    assert commands["scm"] == ["ozone", "scm"]
    assert commands["om"] == ["ozone", "om"]
    assert {n for n, c in commands.items() if c == ["ozone", "datanode"]} == DATANODES
    # Each datanode keeps its data in a volume of its own.
    sources = [services[n]["volumes"][0].split(":")[0] for n in sorted(DATANODES)]
    assert len(set(sources)) == len(DATANODES)


def test_ozone_services_run_the_pinned_published_image() -> None:
    services = _services()
    want = f"apache/ozone:{_pinned_ozone_version()}"
    for name in OZONE_SERVICES:
        assert services[name]["image"] == want, name
        assert "build" not in services[name], name


def test_no_ozone_s3_gateway() -> None:
    """ozs3 replaces Ozone's s3g: no service runs `ozone s3g`."""
    services = _services()
    assert "s3g" not in services
    for name, service in services.items():
        assert "s3g" not in _command(service), name
    apache = {n for n, s in services.items() if "apache/ozone" in s.get("image", "")}
    assert apache == OZONE_SERVICES


def test_ozs3_points_at_the_om_service() -> None:
    services = _services()
    om_site = _site(services["om"])
    gateway = _site(services["ozs3"])
    # The two keys the gateway's cluster backend reads.
    host, _, port = gateway["ozone.om.address"].partition(":")
    om_service = [n for n, s in services.items() if _command(s) == ["ozone", "om"]]
    assert [host] == om_service
    # The ports the OM listens on (its own ozone.om.address / grpc port,
    # Ozone's defaults 9862 and 8981 where it sets none).
    assert port == om_site.get("ozone.om.address", "om:9862").rpartition(":")[2]
    assert gateway["ozone.om.grpc.port"] == om_site.get("ozone.om.grpc.port", "8981")
    # The OM serves gRPC (Ozone 2.2's default is true; false would leave the
    # gateway nothing to talk to).
    assert om_site.get("ozone.om.s3.grpc.server_enabled", "true") == "true"
    # The gateway is built from this repository and started after the OM.
    assert services["ozs3"]["build"]["context"] == "../.."
    assert "om" in services["ozs3"]["depends_on"]


def test_ozs3_publishes_s3_and_admin_ports() -> None:
    assert {9878, 19878} <= _published(_services()["ozs3"])


def test_ozs3_environment_is_a_valid_ozs3_config() -> None:
    env = _environment(_services()["ozs3"])
    config = load_config(None, env)
    assert config.raw["ozone.om.address"] == env[ENV_PREFIX + "ozone.om.address"]
    assert config.volume == "s3v"


def test_replication_three_matches_the_datanodes() -> None:
    services = _services()
    for name in OZONE_SERVICES:
        site = _site(services[name])
        assert site["ozone.replication"] == str(len(DATANODES)), name
        assert site["ozone.server.default.replication"] == str(len(DATANODES)), name
        assert site["hdds.scm.safemode.min.datanode"] == str(len(DATANODES)), name


def test_docker_compose_accepts_the_file() -> None:
    """`docker-compose config` (no engine needed) resolves the anchors and
    env file; its view has the same services and the gateway's two keys."""
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed")
    r = subprocess.run(
        [compose, "-f", COMPOSE, "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=HERE,
    )
    assert r.returncode == 0, r.stderr
    try:
        import yaml
    except ImportError:
        # Without PyYAML: the resolved text still names the gateway's keys.
        assert "OZONE-SITE.XML_ozone.om.address: om:9862" in r.stdout
        assert "OZONE-SITE.XML_ozone.om.grpc.port: '8981'" in r.stdout
        return
    resolved = yaml.safe_load(r.stdout)["services"]
    assert set(resolved) == OZONE_SERVICES | {"ozs3"}
    env = resolved["ozs3"]["environment"]
    assert env[ENV_PREFIX + "ozone.om.address"] == "om:9862"
    assert str(env[ENV_PREFIX + "ozone.om.grpc.port"]) == "8981"
    assert resolved["dn2"]["environment"][ENV_PREFIX + "ozone.scm.names"] == "scm"
