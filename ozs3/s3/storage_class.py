"""S3 storage classes and Ozone replication configs, mapped as Ozone's S3
gateway maps them.  Pure.

Three classes are accepted (``x-amz-storage-class``): ``STANDARD``
(RATIS/THREE), ``REDUCED_REDUNDANCY`` (RATIS/ONE) and ``STANDARD_IA``
(EC rs-3-2-1024k).  Any other class, GLACIER and the like included, is
refused: their semantics (restore, retrieval tiers) are not provided.
"""

from __future__ import annotations

from .errors import S3Error

STANDARD = "STANDARD"
REDUCED_REDUNDANCY = "REDUCED_REDUNDANCY"
STANDARD_IA = "STANDARD_IA"

_REPLICATION = {
    STANDARD: "RATIS/THREE",
    REDUCED_REDUNDANCY: "RATIS/ONE",
    STANDARD_IA: "EC/rs-3-2-1024k",
}
STORAGE_CLASSES = tuple(_REPLICATION)


def parse_storage_class(value: str) -> str:
    """An ``x-amz-storage-class`` value, checked: exactly one of the three
    classes (case-sensitive), else ``InvalidStorageClass``.  A missing
    header is the caller's (the bucket's default replication)."""
    if value not in _REPLICATION:
        raise S3Error("InvalidStorageClass", extra={"StorageClassRequested": value})
    return value


def replication_of(storage_class: str) -> str:
    """The replication config a key of ``storage_class`` is written with."""
    return _REPLICATION[parse_storage_class(storage_class)]


def storage_class_of(replication: str) -> str:
    """The class S3 reports for a key's replication config (``ObjectMeta.
    replication``): any EC scheme is STANDARD_IA, one replica or
    STAND_ALONE is REDUCED_REDUNDANCY, anything else ("" included, the
    default RATIS/THREE) is STANDARD."""
    kind, _, factor = replication.upper().partition("/")
    if kind == "EC":
        return STANDARD_IA
    if kind == "STAND_ALONE" or factor == "ONE":
        return REDUCED_REDUNDANCY
    return STANDARD
