"""ozs3's replication names ("RATIS/THREE", as ``ObjectMeta.replication``
holds them) and the OM's type and factor, both ways.  Pure.

S3 storage classes map to these names in ``ozs3.s3.storage_class``
(STANDARD → RATIS/THREE, REDUCED_REDUNDANCY → RATIS/ONE, STANDARD_IA → EC).
"""

from __future__ import annotations

from ..errors import NotSupported

_FACTORS = {"ONE": 1, "THREE": 3}
_NAMES = {1: "ONE", 3: "THREE"}


def replication_args(name: str) -> tuple[str, int] | None:
    """The OM's (type, factor) for a key asked to be written as ``name``;
    None for "" (the bucket's, or the cluster's, default).  EC keys are not
    written by ozs3 yet: ``NotSupported`` (S3's 501)."""
    if not name:
        return None
    kind, _, factor = name.upper().partition("/")
    if kind in ("RATIS", "STAND_ALONE") and factor in _FACTORS:
        return kind, _FACTORS[factor]
    raise NotSupported(f"writing {name} keys on a cluster")


def replication_name(rtype: str, factor: int) -> str:
    """The name of the OM's replication (type name, factor number); "" when
    the OM gave none."""
    if rtype in ("RATIS", "STAND_ALONE") and factor in _NAMES:
        return f"{rtype}/{_NAMES[factor]}"
    if rtype == "EC":
        return "EC"
    return ""
