"""Values passed between the HTTP shell and the handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ..storage.interfaces import ObjectReader
from .routing import S3Request

if TYPE_CHECKING:
    from .authn import Principal
    from .form_sink import FormSink
    from .policy import Policy
    from .upload_sink import UploadSink


@attrs.frozen
class Headers:
    """Request headers: lower-cased names, first value wins for ``get``."""

    pairs: tuple[tuple[str, str], ...]
    # name -> its first value, made once: a request asks ~30 times.
    _first: dict[str, str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        first: dict[str, str] = {}
        for k, v in self.pairs:
            first.setdefault(k, v)
        object.__setattr__(self, "_first", first)

    def get(self, name: str) -> str | None:
        return self._first.get(name)

    def as_dict(self) -> dict[str, str]:
        return dict(self._first)


@attrs.define
class Call:
    """One S3 request as the handlers see it."""

    request_id: str
    op: str
    s3: S3Request
    headers: Headers
    access_key: str
    # The request target exactly as sent (signatures cover these bytes).
    raw_path: bytes = b"/"
    raw_query: bytes = b""
    # Set by authentication, before any handler or admission runs.
    principal: Principal | None = None
    # The declared body length (None: chunked), known before the body.
    length: int | None = None
    # A buffered (small) body; streamed bodies arrive through ``upload``.
    body: bytes = b""
    upload: UploadSink | None = None
    # Bucket name -> id of each bucket authorization let this request reach
    # (security on): every store call names that bucket by its id too, so
    # the request acts on the bucket it was authorized for or on none.
    bucket_ids: dict[str, int] = attrs.field(factory=dict)
    # The Access-Control-* headers its answer gets (an Origin and the
    # bucket's CORS rules): set before authentication, so errors get them.
    cors: dict[str, str] = attrs.field(factory=dict)
    # The peer's address and whether it came over TLS (policy conditions
    # aws:SourceIp, aws:SecureTransport).
    remote: str = "-"
    secure: bool = False
    # DeleteObjects by someone not owning the bucket: the policy each key is
    # judged by (authz.may), and whether the caller owns the bucket.
    policy: Policy | None = None
    bucket_owner: bool = False
    # POST Object: the form body being parsed (its file streams into the
    # PutObject call it stands for).
    form: FormSink | None = None

    def bucket_id(self, bucket: str) -> int | None:
        return self.bucket_ids.get(bucket)


@attrs.define
class S3Response:
    """What a handler returns; ``ozs3.s3.app`` alone turns it into HTTP."""

    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    # A streamed body: ``first`` is already read (so an unreadable object
    # fails before any header is sent), the rest comes from ``reader``.
    reader: ObjectReader | None = None
    first: bytes = b""
