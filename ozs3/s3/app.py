"""The S3 front door: one resource that takes every request, and the one
place that writes HTTP responses.

Request flow: ``S3HTTPRequest`` (streaming.py) -> ``S3Gateway.handle`` ->
routing.parse_request -> operations.operation_name -> authn (a request with
a body: at admission, before the body) -> payload.verify_buffered ->
handlers.HANDLERS[op] -> ``S3Response`` -> ``_emit``.  Errors of every kind
end in ``_emit`` too, as S3 XML with a request id.
"""

from __future__ import annotations

import base64
import random
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.server import Request as IRequest

from .._executor import Executor
from ..config import Config
from ..lifecycle.bucket_rules import BucketLifecycles
from ..storage.errors import StorageError
from ..storage.interfaces import ObjectStore
from ..storage.model import (
    BUCKET_ACL,
    BUCKET_CORS,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS,
)
from . import checksums, cors
from .authn import Principal, authenticate
from .authz import authorize
from .bucket_access import decode_block, decode_control
from .bucket_settings import CachedBucketSetting
from .buffered import BufferedBody
from .context import Call, S3Response
from .errors import S3Error, to_s3_error
from .form_sink import FormSink, form_boundary
from .headers import is_aws_chunked, payload_sha256
from .operations import PREFLIGHT, STREAMED, lookup, operation_name
from .payload import verify_buffered
from .policy_json import decode_policy
from .producer import ReaderProducer
from .request_facts import declared_length, headers_of, request_id, resource_of
from .routing import parse_request
from .streaming import S3HTTPRequest
from .unsupported import refuse_unsupported
from .upload_sink import UploadSink
from .xml import error_xml


class S3Resource(Resource):
    """Every request, whatever its path, Host and method, goes to
    ``S3Gateway.handle``, which routes it (routing.py, operations.py).

    Not Klein: its resource decodes the path as UTF-8 and matches it with
    werkzeug, binds the Host header with IDNA, and answers what fails in
    HTML (a key with a newline: 404; Host ``a..b``: 500; ``/b/%ff``: 400)
    before any of our code runs.  An S3 gateway has one catch-all route, so
    a URL map has nothing to add, and every refusal must be S3's own.
    """

    isLeaf = True

    def __init__(self, gateway: S3Gateway) -> None:
        super().__init__()
        self._gateway = gateway

    def render(self, request: IRequest) -> object:
        # Not cancelled when the client goes away: a commit in progress must
        # still complete (or be aborted) cleanly; handle() notices
        # disconnects by itself and renders every error it meets.
        done = Deferred.fromCoroutine(self._gateway.handle(request))
        done.addErrback(
            lambda f: self._gateway.log.failure("request handling failed", f)
        )
        return NOT_DONE_YET


class S3Gateway:
    log = Logger()

    def __init__(
        self,
        store: ObjectStore,
        config: Config,
        hash_executor: Executor,
        clock: Any,  # IReactorTime
    ) -> None:
        self.store = store
        self.config = config
        self.hash_executor = hash_executor
        self.clock = clock
        # Requests being served (for metrics and graceful shutdown), and who
        # hears of each one as it ends (metrics, audit log).
        self.active: set[Any] = set()
        self.observers: list[Any] = []
        # Lifecycle rules for x-amz-expiration, CORS rules for the requests
        # that name an Origin (both cached per bucket).
        self.lifecycle_rules = BucketLifecycles(store, clock, config.lifecycle_day)
        self.cors_rules = CachedBucketSetting(store, clock, BUCKET_CORS, cors.decode)
        self.bucket_policies = CachedBucketSetting(
            store, clock, BUCKET_POLICY, decode_policy
        )
        self.public_access = CachedBucketSetting(
            store, clock, BUCKET_PUBLIC_ACCESS, decode_block
        )
        self.bucket_acls = CachedBucketSetting(store, clock, BUCKET_ACL, decode_control)

    def resource(self) -> IResource:
        resource: IResource = S3Resource(self)  # type: ignore[assignment]
        return resource

    # -- classification, shared by the pre-body and the normal path ----------

    def new_call(self, request: IRequest, method: bytes, uri: bytes) -> Call:
        headers = headers_of(request)
        s3 = parse_request(
            method.decode("latin-1"), headers.get("host"), uri, self.config.domains
        )
        # Named even when it will be refused (501, 405): the refusal comes
        # after authentication, and the audit line names what was asked.
        op = operation_name(
            s3, copy_source=headers.get("x-amz-copy-source") is not None
        )
        raw_path, _, raw_query = uri.partition(b"?")
        # Nobody until authentication says who: "-" is what the audit log
        # shows for a request refused before (or by) it.
        call = Call(request_id(request), op, s3, headers, "-", raw_path, raw_query)
        call.remote = getattr(request.getClientAddress(), "host", "-")
        call.secure = bool(request.isSecure())
        return call

    async def _authenticate(self, call: Call) -> None:
        if call.op == "PostObject":
            return  # authenticated by its form (handlers/post.py)
        if call.op in ("BucketBrowser", PREFLIGHT):
            # A static page (the S3 requests it makes are authenticated), a
            # CORS preflight (answered from the bucket's rules alone, as S3
            # answers it: a browser sends no credentials with it).
            call.principal = Principal("-", admin=False)
            return
        principal = await authenticate(self, call)
        call.principal = principal
        call.access_key = principal.access_key
        await authorize(self, call)

    def plan_body(
        self, request: S3HTTPRequest, method: bytes, uri: bytes, length: int | None
    ) -> UploadSink | BufferedBody | FormSink | None:
        """Called with the headers, before the body: stream it into storage,
        or buffer it in memory, either only once admission has authenticated
        the request.  None: there is no body.  An S3Error refuses the request
        before its body."""
        if length == 0:
            return None
        call = self.new_call(request, method, uri)
        call.length = length
        request.s3_call = call
        if call.op == "PostObject":
            boundary = form_boundary(call.headers.get("content-type"))
            call.form = FormSink(request, call, boundary, self._admit_form)
            return call.form
        if call.op not in STREAMED:
            return BufferedBody(request, call, self.config.max_xml_body)
        try:
            algorithm, _ = checksums.requested(call.headers.get)
        except S3Error:
            algorithm = None  # admission refuses it, before the body
        sink = UploadSink(
            request,
            self.hash_executor,
            aws_chunked=is_aws_chunked(call.headers.get),
            want_sha256=payload_sha256(call.headers.get("x-amz-content-sha256"))
            is not None,
            checksum_algorithm=algorithm,
        )
        call.upload = sink
        return sink

    async def _admit_form(self, form: FormSink) -> tuple[Call, UploadSink]:
        from .handlers.post import admit_form

        return await admit_form(self, form)

    def admit(self, request: S3HTTPRequest) -> Deferred[None]:
        return Deferred.fromCoroutine(self._admit(request))

    async def _admit(self, request: S3HTTPRequest) -> None:
        from .handlers import ADMIT

        call: Call = request.s3_call
        # A refusal before the body is read carries the CORS headers too.
        await self._cors_headers(call)
        if call.op == "PostObject":
            return  # the form says who signs: admitted when its file begins
        await self._authenticate(call)
        assert call.principal is not None
        if isinstance(request.sink, BufferedBody):
            _check_served(call)
            if call.length is not None and call.length > self.config.max_xml_body:
                raise S3Error("MaxMessageLengthExceeded")
            request.sink.start()
            return
        assert call.upload is not None
        signed_chunks = (call.headers.get("x-amz-content-sha256") or "").startswith(
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        )
        if call.principal.signing is not None and signed_chunks:
            call.upload.verify_chunks(call.principal.signing)
        elif signed_chunks and call.principal.anonymous and not call.principal.admin:
            # Chunk signatures with no signed request to chain from: they
            # could not be checked, so they are not taken.
            raise S3Error(
                "AccessDenied",
                "Signed chunks need a signed request (AWS4-HMAC-SHA256).",
            )
        refuse_unsupported(call.op, call.headers)
        writer = await ADMIT[call.op](self, call)
        call.upload.attach(writer)

    # -- the normal path --------------------------------------------------------

    async def handle(self, request: IRequest) -> None:
        from .handlers import HANDLERS

        call: Call | None = getattr(request, "s3_call", None)
        try:
            if call is None:
                call = self.new_call(request, request.method, request.uri)
                request.s3_call = call  # type: ignore[attr-defined]
                call.length = declared_length(request)
                call.body = request.content.read() if request.content else b""
            await self._cors_headers(call)
            if call.principal is None:
                await self._authenticate(call)
            _check_served(call)
            if _has_buffered_body(call):
                verify_buffered(call.headers.get, call.body)
            response = await HANDLERS[call.op](self, call)
            await self._write_response(request, response, call)
        except Exception:
            error = self.to_s3_error(Failure(), call, request)
            self._write_error(request, error, close=False)
            _finish(request)
        finally:
            if call is not None and call.upload is not None:
                call.upload.release()  # aborts it unless the handler committed

    async def _cors_headers(self, call: Call) -> None:
        """A request from a page (``Origin``) to a bucket with CORS rules:
        the Access-Control-* headers of the rule that allows it go on its
        answer, error or not (a preflight answers its own)."""
        origin = call.headers.get("origin")
        bucket = call.s3.bucket
        if not origin or bucket is None or call.op == PREFLIGHT or call.cors:
            return
        try:
            rules = await self.cors_rules.get(bucket, None)
        except StorageError:
            return  # no bucket, no rules: the request's own answer says so
        if rules is None:
            return
        rule = cors.find_rule(rules, origin, call.s3.method)
        call.cors = cors.response_headers(rule, origin) if rule else {"vary": cors.VARY}

    def to_s3_error(self, f: Failure, call: Call | None, request: IRequest) -> S3Error:
        exc = f.value
        if isinstance(exc, S3Error):
            return exc
        if isinstance(exc, StorageError):
            error = to_s3_error(
                exc, call.s3.bucket if call else None, call.s3.key if call else None
            )
            if error.code != "InternalError":
                return error
        self.log.failure(
            "internal error in request {request_id}",
            f,
            request_id=request_id(request),
        )
        return S3Error("InternalError")

    async def _write_response(
        self, request: IRequest, response: S3Response, call: Call
    ) -> None:
        headers = {**call.cors, **response.headers}
        if response.reader is None:
            headers.setdefault("content-length", str(len(response.body)))
            self._emit(request, response.status, headers, response.body)
            _finish(request)
            return
        reader = response.reader
        try:
            ReaderProducer.check_capacity()
        except S3Error:
            reader.close()
            raise
        self._emit(request, response.status, headers, b"")
        if request.method == b"HEAD" or _disconnected(request):
            reader.close()
            _finish(request)
            return
        producer = ReaderProducer(
            request, reader, response.first, self.clock, self.config.request_timeout
        )
        complete = await producer.start()
        if complete:
            _finish(request)

    # -- errors ------------------------------------------------------------------

    def write_early_error(
        self, request: S3HTTPRequest, error: S3Error, body_read: bool
    ) -> None:
        """Refuse a request whose body is (partly) unread: the connection
        cannot be reused, so it is marked to close."""
        self._write_error(request, error, close=not body_read)

    def write_early_failure(
        self, request: S3HTTPRequest, f: Failure, body_read: bool
    ) -> None:
        self.write_early_error(
            request, self.to_s3_error(f, request.s3_call, request), body_read
        )

    def _write_error(self, request: IRequest, error: S3Error, close: bool) -> None:
        if _disconnected(request) or getattr(request, "startedWriting", False):
            return
        call = getattr(request, "s3_call", None)
        headers = {**(call.cors if call is not None else {}), **error.headers}
        headers["content-type"] = "application/xml"
        if error.code == "MethodNotAllowed":
            headers["allow"] = "GET, HEAD, PUT, POST, DELETE"
        body = error_xml(
            error.code,
            error.message,
            error.resource or resource_of(request.uri or b"/"),
            request_id(request),
            error.extra,
        )
        headers["content-length"] = str(len(body))
        if close:
            request.channel.persistent = False
            headers["connection"] = "close"
        self._emit(request, error.status, headers, body)

    def _emit(
        self, request: IRequest, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        """The one place a status line, headers and a small body are written."""
        request.setResponseCode(status)
        request.setHeader(b"x-amz-request-id", request_id(request).encode())
        # Unique, not secret (as the request id): no getrandom() per response.
        id2 = random.getrandbits(96).to_bytes(12, "big")
        request.setHeader(b"x-amz-id-2", base64.b64encode(id2))
        request.setHeader(b"server", b"ozs3")
        for name, value in headers.items():
            request.setHeader(name.encode("latin-1"), value.encode("utf-8"))
        if body and request.method != b"HEAD":
            request.write(body)
        elif not body:
            # Make Twisted send the headers now (with our Content-Length).
            request.write(b"")


def _check_served(call: Call) -> None:
    """The 501 (or 405) for an operation this gateway does not serve, or
    for a feature its headers ask for that it does not have: only once the
    request is authenticated, so that an unsigned request learns nothing
    but 403."""
    from .handlers import HANDLERS

    if call.op not in HANDLERS:
        copy = call.headers.get("x-amz-copy-source") is not None
        lookup(call.s3, copy_source=copy)  # raises the refusal
        raise S3Error("NotImplemented")
    refuse_unsupported(call.op, call.headers)


def _has_buffered_body(call: Call) -> bool:
    """Is there a body in memory for the operation to read?  PutObject and
    UploadPart stream theirs (checked as it is stored); a GET, HEAD or DELETE
    without one has nothing to check (and the 4 KiB GETs pay nothing)."""
    if call.upload is not None or call.op in STREAMED or call.op == "PostObject":
        return False
    return bool(call.body) or call.s3.method in ("PUT", "POST")


def _disconnected(request: IRequest) -> bool:
    return bool(getattr(request, "_disconnected", False))


def _finish(request: IRequest) -> None:
    if not _disconnected(request) and not getattr(request, "finished", False):
        request.finish()
