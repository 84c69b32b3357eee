"""Ozone's configuration values: sizes (``256MB``), durations (``60s``),
booleans, fractions and ``hdds.datanode.dir.du.reserved``.  Pure."""

from __future__ import annotations

import os
import re


class ConfigError(ValueError):
    """A configuration problem, explained in one line."""


_UNITS = {
    "": 1,
    "B": 1,
    "KB": 1 << 10,
    "MB": 1 << 20,
    "GB": 1 << 30,
    "TB": 1 << 40,
}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMGT]?B?)\s*$", re.IGNORECASE)
_TIME_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_size(key: str, text: str) -> int:
    """Parse Ozone storage sizes like ``256MB``, ``16KB`` or ``4096``."""
    m = _SIZE_RE.match(text)
    if not m:
        raise ConfigError(f"{key}: not a size: {text!r} (use e.g. 4MB)")
    unit = m.group(2).upper()
    if unit and not unit.endswith("B"):
        unit += "B"
    return int(m.group(1)) * _UNITS[unit]


def parse_seconds(key: str, text: str) -> float:
    m = _TIME_RE.match(text)
    if not m:
        raise ConfigError(f"{key}: not a duration: {text!r} (use e.g. 60s)")
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) * factor


def positive(key: str, value: float) -> float:
    if value <= 0:
        raise ConfigError(f"{key}: must be more than 0")
    return value


def parse_bool(key: str, text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    raise ConfigError(f"{key}: expected true or false, got {text!r}")


def parse_reserved(key: str, text: str, data_dir: str) -> int:
    """``hdds.datanode.dir.du.reserved``: a size, or Ozone's comma list of
    ``dir:size`` where the entry for ``data_dir`` counts (none: 0)."""
    entries = [e.strip() for e in text.split(",") if e.strip()]
    if len(entries) == 1 and ":" not in entries[0]:
        return parse_size(key, entries[0])
    mine = os.path.abspath(data_dir)
    for entry in entries:
        path, sep, size = entry.rpartition(":")
        if not sep or not path:
            raise ConfigError(f"{key}: expected dir:size pairs, got {entry!r}")
        reserved = parse_size(key, size)
        if os.path.abspath(path) in (mine, os.path.join(mine, "hdds")):
            return reserved
    return 0


def parse_fraction(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{key}: not a number: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{key}: must be at least 0 and below 1, got {text!r}")
    return value
