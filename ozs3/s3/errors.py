"""The one S3 error table, and the one mapping from storage errors to it."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ..storage import errors as st


@attrs.frozen
class S3ErrorCode:
    code: str
    status: int
    message: str


def _table(*rows: tuple[str, int, str]) -> dict[str, S3ErrorCode]:
    return {code: S3ErrorCode(code, status, msg) for code, status, msg in rows}


# (AWS code, HTTP status, AWS's default message).  Member names are the codes.
CODES: Mapping[str, S3ErrorCode] = _table(
    ("AccessDenied", 403, "Access Denied"),
    ("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed."),
    ("AccessControlListNotSupported", 400, "The bucket does not allow ACLs"),
    (
        "InvalidBucketAclWithObjectOwnership",
        400,
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced "
        "setting",
    ),
    (
        "MalformedACLError",
        400,
        "The XML you provided was not well-formed or did not validate against our "
        "published schema",
    ),
    ("UnexpectedContent", 400, "This request does not support content"),
    (
        "UnresolvableGrantByEmailAddress",
        400,
        "The e-mail address you provided does not match any account on record.",
    ),
    ("InvalidStorageClass", 400, "The storage class you specified is not valid"),
    ("NoSuchBucketPolicy", 404, "The bucket policy does not exist"),
    ("MalformedPolicy", 400, "This policy contains invalid Json"),
    (
        "MalformedPOSTRequest",
        400,
        "The body of your POST request is not well-formed multipart/form-data.",
    ),
    (
        "MaxPostPreDataLengthExceeded",
        400,
        "Your POST request fields preceding the upload file were too large.",
    ),
    (
        "InvalidPolicyDocument",
        400,
        "The content of the form does not meet the conditions specified in the "
        "policy document.",
    ),
    (
        "NoSuchPublicAccessBlockConfiguration",
        404,
        "The public access block configuration was not found",
    ),
    (
        "OwnershipControlsNotFoundError",
        404,
        "The bucket ownership controls were not found",
    ),
    ("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist"),
    ("NoSuchTagSet", 404, "The TagSet does not exist"),
    ("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist"),
    ("InvalidTag", 400, "The tag provided was not a valid tag."),
    ("BadRequest", 400, "Bad Request"),
    ("InvalidPartNumber", 416, "The requested partnumber is not satisfiable"),
    (
        "ConditionalRequestConflict",
        409,
        "The conditional request cannot succeed due to a conflicting operation "
        "against this resource.",
    ),
    (
        "ServerSideEncryptionConfigurationNotFoundError",
        404,
        "The server side encryption configuration was not found",
    ),
    (
        "AuthorizationHeaderMalformed",
        400,
        "The authorization header you provided is invalid.",
    ),
    (
        "AuthorizationQueryParametersError",
        400,
        "The authorization query parameters you provided are invalid.",
    ),
    ("BadDigest", 400, "The Content-MD5 you specified did not match what we received."),
    (
        "BucketAlreadyExists",
        409,
        "The requested bucket name is not available. The bucket namespace is shared "
        "by all users of the system. Please select a different name and try again.",
    ),
    (
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already "
        "own it.",
    ),
    ("BucketNotEmpty", 409, "The bucket you tried to delete is not empty"),
    ("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"),
    (
        "EntityTooSmall",
        400,
        "Your proposed upload is smaller than the minimum allowed object size.",
    ),
    (
        "IncompleteBody",
        400,
        "You did not provide the number of bytes specified by the Content-Length "
        "HTTP header",
    ),
    ("InternalError", 500, "We encountered an internal error. Please try again."),
    (
        "InvalidAccessKeyId",
        403,
        "The AWS access key Id you provided does not exist in our records.",
    ),
    ("InvalidArgument", 400, "Invalid Argument"),
    ("InvalidBucketName", 400, "The specified bucket is not valid."),
    ("InvalidDigest", 400, "The Content-MD5 you specified is not valid."),
    (
        "InvalidPart",
        400,
        "One or more of the specified parts could not be found. The part might not "
        "have been uploaded, or the specified entity tag might not have matched the "
        "part's entity tag.",
    ),
    (
        "InvalidPartOrder",
        400,
        "The list of parts was not in ascending order. The parts list must be "
        "specified in order by part number.",
    ),
    ("InvalidRange", 416, "The requested range is not satisfiable"),
    ("InvalidRequest", 400, "Invalid Request"),
    ("InvalidURI", 400, "Couldn't parse the specified URI."),
    ("KeyTooLongError", 400, "Your key is too long"),
    (
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our "
        "published schema",
    ),
    ("MaxMessageLengthExceeded", 400, "Your request was too big."),
    (
        "MetadataTooLarge",
        400,
        "Your metadata headers exceed the maximum allowed metadata size.",
    ),
    (
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
    ),
    ("MissingContentLength", 411, "You must provide the Content-Length HTTP header."),
    ("MissingSecurityHeader", 400, "Your request is missing a required header."),
    ("NoSuchBucket", 404, "The specified bucket does not exist"),
    ("NoSuchKey", 404, "The specified key does not exist."),
    (
        "NoSuchUpload",
        404,
        "The specified multipart upload does not exist. The upload ID might be "
        "invalid, or the multipart upload might have been aborted or completed.",
    ),
    (
        "OperationAborted",
        409,
        "A conflicting conditional operation is currently in progress against this "
        "resource. Try again.",
    ),
    (
        "NotImplemented",
        501,
        "A header or query you provided implies functionality that is not implemented.",
    ),
    (
        "PreconditionFailed",
        412,
        "At least one of the pre-conditions you specified did not hold",
    ),
    (
        "RequestTimeTooSkewed",
        403,
        "The difference between the request time and the current time is too large.",
    ),
    ("QuotaExceeded", 403, "The quota of the bucket or its volume is exceeded."),
    ("ServiceUnavailable", 503, "Please reduce your request rate."),
    (
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you "
        "provided. Check your key and signing method.",
    ),
    ("SlowDown", 503, "Please reduce your request rate."),
    (
        "XAmzContentSHA256Mismatch",
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
)


class S3Error(Exception):
    """The one exception type handlers raise for an S3 error response."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        resource: str | None = None,
        extra: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.error = CODES[code]
        self.message = message or self.error.message
        self.resource = resource
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        super().__init__(f"{code}: {self.message}")

    @property
    def code(self) -> str:
        return self.error.code

    @property
    def status(self) -> int:
        return self.error.status


# Ozone's translateResultCode, as data.
STORAGE_TO_S3: Mapping[type[st.StorageError], str] = {
    st.BucketNotFound: "NoSuchBucket",
    st.BucketAlreadyExists: "BucketAlreadyExists",
    st.BucketNotEmpty: "BucketNotEmpty",
    st.KeyNotFound: "NoSuchKey",
    st.NoSpace: "ServiceUnavailable",
    st.ChecksumMismatch: "InternalError",
    st.BlockNotFound: "InternalError",
    st.StorageIOError: "InternalError",
    st.UploadNotFound: "NoSuchUpload",
    st.InvalidPart: "InvalidPart",
    st.InvalidPartOrder: "InvalidPartOrder",
    st.PartTooSmall: "EntityTooSmall",
    st.SourceChanged: "OperationAborted",
    st.Unavailable: "ServiceUnavailable",
    st.NotSupported: "NotImplemented",
    st.PermissionDenied: "AccessDenied",
    st.QuotaExceeded: "QuotaExceeded",
    st.InvalidBucketName: "InvalidBucketName",
    st.PreconditionFailed: "PreconditionFailed",
}


def to_s3_error(exc: st.StorageError, bucket: str | None, key: str | None) -> S3Error:
    code = "InternalError"
    for cls in type(exc).__mro__:
        if cls in STORAGE_TO_S3:
            code = STORAGE_TO_S3[cls]
            break
    extra: dict[str, str] = {}
    if code in ("NoSuchBucket", "BucketAlreadyExists", "BucketNotEmpty") and bucket:
        extra["BucketName"] = bucket
    elif code == "NoSuchKey" and key is not None:
        extra["Key"] = key
    elif code == "PreconditionFailed" and str(exc):
        extra["Condition"] = str(exc)  # the header that did not hold
    message = None
    if isinstance(exc, st.NoSpace):
        message = "The storage is out of space; the request was not stored."
    elif isinstance(exc, st.Unavailable):
        message = "The storage cluster did not answer in time; retry the request."
    elif isinstance(exc, st.NotSupported):
        message = f"Not supported on this storage backend: {exc}"
    # Resource defaults to the request path, as S3 reports it.
    return S3Error(code, message, extra=extra)
