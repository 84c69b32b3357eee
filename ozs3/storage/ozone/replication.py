"""ozs3's replication names ("RATIS/THREE", "EC/rs-3-2-1024k", as
``ObjectMeta.replication`` holds them) and the OM's type and factor or EC
scheme, both ways.  Pure.

S3 storage classes map to these names in ``ozs3.s3.storage_class``
(STANDARD → RATIS/THREE, REDUCED_REDUNDANCY → RATIS/ONE, STANDARD_IA →
EC/rs-3-2-1024k).
"""

from __future__ import annotations

import re

from ..errors import NotSupported
from .om_types import EcConfig, Replication

_FACTORS = {"ONE": 1, "THREE": 3}
_NAMES = {1: "ONE", 3: "THREE"}
# Ozone's EC names: codec-data-parity-cell ("rs-3-2-1024k", "xor-2-1-512k").
_EC_NAME = re.compile(r"(rs|xor)-([1-9][0-9]*)-([1-9][0-9]*)-([1-9][0-9]*)k")
# What ozs3 encodes: Reed-Solomon, as Ozone's RS coder computes it
# (``ec_codec``); cells of whole checksum windows.
_CODECS = ("rs",)


def replication_args(name: str) -> Replication | None:
    """The OM's (type, factor), or EC scheme, for a key asked to be written as
    ``name``; None for "" (the bucket's, or the cluster's, default).  A scheme
    ozs3 cannot encode is ``NotSupported`` (S3's 501)."""
    if not name:
        return None
    kind, _, rest = name.partition("/")
    kind = kind.upper()
    if kind in ("RATIS", "STAND_ALONE") and rest.upper() in _FACTORS:
        return kind, _FACTORS[rest.upper()]
    if kind == "EC":
        match = _EC_NAME.fullmatch(rest.lower())
        if match and match[1] in _CODECS:
            return EcConfig(
                int(match[2]), int(match[3]), match[1], int(match[4]) * 1024
            )
    raise NotSupported(f"writing {name} keys on a cluster")


def replication_name(rtype: str, factor: int, ec: EcConfig | None = None) -> str:
    """The name of the OM's replication (type name, factor number, EC scheme);
    "" when the OM gave none."""
    if rtype in ("RATIS", "STAND_ALONE") and factor in _NAMES:
        return f"{rtype}/{_NAMES[factor]}"
    if rtype == "EC":
        return f"EC/{ec.name}" if ec is not None else "EC"
    return ""
