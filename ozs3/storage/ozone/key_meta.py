"""An S3 object's metadata as an Ozone key's metadata map, both ways.  Pure.

Written so that Ozone's own S3 gateway (2.2.0, checked on the cluster) reads
what ozs3 writes and the other way round:

- the ETag (unquoted MD5 hex, or ``hex-N`` for multipart) under ``ETag``;
- user metadata (``x-amz-meta-<name>``) under ``<name>``; a user name that
  collides with a system key is stored as ``<name>-custom``, as Ozone's
  gateway stores ``x-amz-meta-etag`` (as ``etag-custom``);
- Content-Type and the stored representation headers under their HTTP names
  (``Content-Type``, ``Cache-Control``, ...).  Ozone 2.2's gateway keeps none
  of them (it answers ``binary/octet-stream``) and would show these entries as
  ``x-amz-meta-content-type`` etc.; S3 keeps them, so ozs3 does.

Entries written by other clients (Hadoop FS, ``ozone sh``) come back as user
metadata, as Ozone's gateway returns them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import ObjectMeta

ETAG = "ETag"
# ozs3's own: an S3 additional checksum ("algorithm:base64").
CHECKSUM = "ozs3-checksum"
CONTENT_TYPE = "Content-Type"
# S3 header name (lower case, as ObjectMeta.headers has it) -> metadata key.
HEADER_KEYS = {
    "cache-control": "Cache-Control",
    "content-disposition": "Content-Disposition",
    "content-encoding": "Content-Encoding",
    "content-language": "Content-Language",
    "expires": "Expires",
}
# Keys never shown as user metadata (Ozone's gateway's reserved entries too).
_SYSTEM = {
    ETAG,
    CHECKSUM,
    CONTENT_TYPE,
    *HEADER_KEYS.values(),
    "gdprEnabled",
    "storage-config",
}
_SYSTEM_LOWER = {k.lower() for k in _SYSTEM}
COLLISION_SUFFIX = "-custom"


def ozone_metadata(meta: ObjectMeta, etag: str | None = None) -> dict[str, str]:
    """The key's metadata map for ``meta`` (and ``etag``, unquoted)."""
    out: dict[str, str] = {}
    for name, value in meta.user:
        stored = name + COLLISION_SUFFIX if name.lower() in _SYSTEM_LOWER else name
        out[stored] = value
    if meta.content_type:
        out[CONTENT_TYPE] = meta.content_type
    for name, value in meta.headers:
        out[HEADER_KEYS[name]] = value
    if etag is not None:
        out[ETAG] = etag
    return out


def object_meta(metadata: Mapping[str, str]) -> ObjectMeta:
    """The S3 view of a key's metadata map (ETag aside: see ``etag_of``)."""
    headers = []
    for name, key in HEADER_KEYS.items():
        if key in metadata:
            headers.append((name, metadata[key]))
    user = []
    for key, value in metadata.items():
        if key in _SYSTEM:
            continue
        name = key.lower()
        if name.endswith(COLLISION_SUFFIX):
            base = name[: -len(COLLISION_SUFFIX)]
            if base in _SYSTEM_LOWER:
                name = base
        user.append((name, value))
    return ObjectMeta(
        content_type=metadata.get(CONTENT_TYPE),
        headers=tuple(headers),
        user=tuple(sorted(user)),
    )


def etag_of(metadata: Mapping[str, str]) -> str:
    """The stored ETag; "" for a key written without one (``ozone sh``)."""
    return metadata.get(ETAG, "")
