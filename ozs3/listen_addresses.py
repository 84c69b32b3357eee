"""Listening addresses: Ozone's ``host:port`` keys (and their ``*-bind-host``)
as Twisted endpoint strings.  Pure."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from .config_values import ConfigError


def _escape(value: str) -> str:
    # Twisted endpoint strings separate fields with ":"; escape it in values.
    return value.replace("\\", "\\\\").replace(":", "\\:")


def with_bind_host(address: str, bind_host: str) -> str:
    """``address`` (host:port) with its host replaced by ``bind_host``, if set
    (Ozone's ``*-bind-host`` keys)."""
    if not bind_host.strip():
        return address
    _, _, port = address.strip().rpartition(":")
    host = bind_host.strip().strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def address_to_endpoint(key: str, address: str, tls: str = "") -> str:
    """Turn Ozone's ``host:port`` into a Twisted endpoint string; with
    ``tls`` (``privateKey=...:certKey=...``) an ``ssl:`` one."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not re.fullmatch(r"[0-9]{1,5}", port) or int(port) > 65535:
        raise ConfigError(f"{key}: expected host:port, got {address!r}")
    host = host.strip("[]")
    kind = "ssl" if tls else "tcp"
    endpoint = f"{kind}:{port}"
    if host not in ("", "0.0.0.0"):
        endpoint += f":interface={_escape(host)}"
    return endpoint + (f":{tls}" if tls else "")


# Twisted listens with a backlog of 50: a burst of new connections (200
# clients starting at once) overflows it, and the kernel drops or resets
# some of them.  The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 1024


def with_backlog(description: str) -> str:
    """A tcp/ssl endpoint string with LISTEN_BACKLOG unless it sets one."""
    kind = description.split(":", 1)[0].strip().lower()
    if kind not in ("tcp", "ssl") or re.search(r"(^|:)backlog=", description):
        return description
    return f"{description}:backlog={LISTEN_BACKLOG}"


def listeners(get: Callable[[str], str]) -> tuple[str, ...]:
    policy = get("ozone.http.policy").strip().upper()
    if policy not in ("HTTP_ONLY", "HTTPS_ONLY", "HTTP_AND_HTTPS"):
        raise ConfigError(
            f"ozone.http.policy: {policy!r} is not HTTP_ONLY, HTTPS_ONLY or "
            "HTTP_AND_HTTPS"
        )
    out = []
    if policy != "HTTPS_ONLY":
        out.append(
            address_to_endpoint(
                "ozone.s3g.http-address",
                with_bind_host(
                    get("ozone.s3g.http-address"), get("ozone.s3g.http-bind-host")
                ),
            )
        )
    if policy != "HTTP_ONLY":
        cert = get("ozone.s3g.https.certificate.file")
        key = get("ozone.s3g.https.private.key.file")
        for name, path in (
            ("ozone.s3g.https.certificate.file", cert),
            ("ozone.s3g.https.private.key.file", key),
        ):
            if not path:
                raise ConfigError(f"{name}: required when ozone.http.policy={policy}")
            if not os.path.isfile(path):
                raise ConfigError(f"{name}: no such file: {path}")
        tls = f"privateKey={_escape(key)}:certKey={_escape(cert)}"
        out.append(
            address_to_endpoint(
                "ozone.s3g.https-address", get("ozone.s3g.https-address"), tls
            )
        )
    return tuple(out)
