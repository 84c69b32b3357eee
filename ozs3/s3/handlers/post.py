"""POST Object: a browser form upload.  ``admit_form`` runs when the form's
file part begins (form_sink.py): it checks the form's signature and policy,
authorizes the PutObject the form stands for and opens its key; the handler
then waits for the file to be stored, checks it and commits it, and answers
as S3 does (204, 200, 201 with PostResponse, or a 303 redirect)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .. import checksums
from ..authn import authenticate_form
from ..authz import authorize
from ..context import Call, Headers, S3Response
from ..errors import S3Error
from ..form_sink import FormSink
from ..post_form import (
    check_policy,
    field_headers,
    location_of,
    no_file,
    object_key,
    post_auth,
    success,
)
from ..routing import S3Request
from ..unsupported import refuse_unsupported
from ..upload_sink import UploadSink
from .bucket import bucket_of
from .obj import admit_put_object, receive_body

if TYPE_CHECKING:
    from ..app import S3Gateway


async def admit_form(gw: S3Gateway, form: FormSink) -> tuple[Call, UploadSink]:
    """The form's PutObject, admitted: its key open, its sink attached."""
    post = form.call
    bucket = bucket_of(post)
    fields = form.fields
    auth = post_auth(fields)
    principal = await authenticate_form(gw, auth)
    post.principal, post.access_key = principal, principal.access_key
    key = object_key(fields, form.filename)
    put = Call(
        post.request_id, "PutObject", S3Request("PUT", bucket, key, (), post.s3.style),
        Headers(tuple(field_headers(fields))), principal.access_key,
    )  # fmt: skip
    put.remote, put.secure, put.principal = post.remote, post.secure, principal
    length_range = None
    if "policy" in fields:
        length_range = check_policy(fields["policy"], fields, bucket, time.time())
    await authorize(gw, put)
    refuse_unsupported("PutObject", put.headers)
    algorithm, _ = checksums.requested(put.headers.get)
    upload = UploadSink(
        form.request, gw.hash_executor, aws_chunked=False, want_sha256=False,
        checksum_algorithm=algorithm,
    )  # fmt: skip
    put.upload = upload
    form.length_range = length_range
    writer = await admit_put_object(gw, put)
    if length_range is not None:
        upload.limit(min(length_range[1], gw.config.max_object_size), None)
    upload.attach(writer)
    return put, upload


async def post_object(gw: S3Gateway, call: Call) -> S3Response:
    form = call.form
    if form is None:  # no body at all
        raise no_file()
    put = await form.ready()
    upload = put.upload
    assert upload is not None and put.s3.key is not None
    try:
        digests = await upload.when_done()
        low = form.length_range[0] if form.length_range is not None else 0
        if digests.size < low:
            raise S3Error(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                extra={"ProposedSize": str(digests.size), "MinSizeAllowed": str(low)},
            )  # fmt: skip
        info = await receive_body(gw, put, admit_put_object)
    finally:
        upload.release()
    bucket = bucket_of(call)
    host = call.headers.get("host") or "localhost"
    location = location_of(host, bucket, put.s3.key, call.s3.style)
    status, headers, body = success(
        form.fields, location, bucket, put.s3.key, info.etag
    )
    return S3Response(status, headers, body)
