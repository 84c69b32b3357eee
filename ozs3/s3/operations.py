"""Dispatch as a table: (method, level, sub-resource) -> S3 operation.  Pure.

A request naming any S3 sub-resource that is not in the table gets 501
NotImplemented; it never falls through to another operation (Ozone's
``DELETE /bucket?cors`` deletes the bucket; ours refuses).
"""

from __future__ import annotations

from .errors import S3Error
from .routing import S3Request

# Every sub-resource S3 defines.  Query parameters outside this set are
# arguments (prefix, max-keys, partNumber, response-*, x-id, ...).
SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "attributes", "compose", "cors",
        "delete", "encryption", "intelligent-tiering", "inventory", "legal-hold",
        "lifecycle", "location", "logging", "metadataConfiguration",
        "metadataTable", "metrics", "notification", "object-lock",
        "ownershipControls", "policy", "policyStatus", "publicAccessBlock",
        "renameObject", "replication", "requestPayment", "restore", "retention",
        "select", "session", "tagging", "torrent", "uploadId", "uploads",
        "versioning", "versions", "website",
    }
)  # fmt: skip

# (method, level, sub-resource or None) -> operation name.
OPERATIONS: dict[tuple[str, str, str | None], str] = {
    ("GET", "service", None): "ListBuckets",
    ("GET", "bucket", None): "ListObjects",
    ("GET", "bucket", "location"): "GetBucketLocation",
    ("HEAD", "bucket", None): "HeadBucket",
    ("PUT", "bucket", None): "CreateBucket",
    ("DELETE", "bucket", None): "DeleteBucket",
    ("POST", "bucket", "delete"): "DeleteObjects",
    # A browser form upload (multipart/form-data): a PutObject of its key.
    ("POST", "bucket", None): "PostObject",
    ("GET", "object", None): "GetObject",
    ("HEAD", "object", None): "HeadObject",
    ("PUT", "object", None): "PutObject",
    ("DELETE", "object", None): "DeleteObject",
    ("GET", "bucket", "uploads"): "ListMultipartUploads",
    ("POST", "object", "uploads"): "CreateMultipartUpload",
    ("PUT", "object", "uploadId"): "UploadPart",
    ("POST", "object", "uploadId"): "CompleteMultipartUpload",
    ("DELETE", "object", "uploadId"): "AbortMultipartUpload",
    ("GET", "object", "uploadId"): "ListParts",
    # Features these buckets do not have, answered as S3 answers for them.
    ("GET", "bucket", "versioning"): "GetBucketVersioning",
    ("GET", "bucket", "versions"): "ListObjectVersions",
    ("GET", "bucket", "acl"): "GetBucketAcl",
    ("PUT", "bucket", "acl"): "PutBucketAcl",
    ("GET", "object", "acl"): "GetObjectAcl",
    ("PUT", "object", "acl"): "PutObjectAcl",
    ("GET", "bucket", "policy"): "GetBucketPolicy",
    ("PUT", "bucket", "policy"): "PutBucketPolicy",
    ("DELETE", "bucket", "policy"): "DeleteBucketPolicy",
    ("GET", "bucket", "policyStatus"): "GetBucketPolicyStatus",
    ("GET", "bucket", "publicAccessBlock"): "GetPublicAccessBlock",
    ("PUT", "bucket", "publicAccessBlock"): "PutPublicAccessBlock",
    ("DELETE", "bucket", "publicAccessBlock"): "DeletePublicAccessBlock",
    ("GET", "bucket", "ownershipControls"): "GetBucketOwnershipControls",
    ("PUT", "bucket", "ownershipControls"): "PutBucketOwnershipControls",
    ("DELETE", "bucket", "ownershipControls"): "DeleteBucketOwnershipControls",
    ("GET", "bucket", "cors"): "GetBucketCors",
    ("PUT", "bucket", "cors"): "PutBucketCors",
    ("DELETE", "bucket", "cors"): "DeleteBucketCors",
    ("GET", "bucket", "encryption"): "GetBucketEncryption",
    # Tags, lifecycle and object attributes.
    ("GET", "bucket", "tagging"): "GetBucketTagging",
    ("PUT", "bucket", "tagging"): "PutBucketTagging",
    ("DELETE", "bucket", "tagging"): "DeleteBucketTagging",
    ("GET", "object", "tagging"): "GetObjectTagging",
    ("PUT", "object", "tagging"): "PutObjectTagging",
    ("DELETE", "object", "tagging"): "DeleteObjectTagging",
    ("GET", "bucket", "lifecycle"): "GetBucketLifecycleConfiguration",
    ("PUT", "bucket", "lifecycle"): "PutBucketLifecycleConfiguration",
    ("DELETE", "bucket", "lifecycle"): "DeleteBucketLifecycle",
    ("GET", "object", "attributes"): "GetObjectAttributes",
}

# S3 operations this gateway does not serve, by the names AWS gives them: the
# audit log and metrics name them even when the answer is 501 (or 405).
UNSERVED: dict[tuple[str, str, str | None], str] = {
    ("GET", "bucket", "session"): "CreateSession",
    ("GET", "object", "torrent"): "GetObjectTorrent",
    ("POST", "object", "restore"): "RestoreObject",
    ("POST", "object", "select"): "SelectObjectContent",
    ("PUT", "object", "renameObject"): "RenameObject",
    ("PUT", "bucket", "versioning"): "PutBucketVersioning",
    ("GET", "bucket", "object-lock"): "GetObjectLockConfiguration",
    ("PUT", "bucket", "object-lock"): "PutObjectLockConfiguration",
    ("POST", "bucket", "metadataTable"): "CreateBucketMetadataTableConfiguration",
    ("POST", "bucket", "metadataConfiguration"): "CreateBucketMetadataConfiguration",
}
# Sub-resources whose Get/Put/Delete operations AWS names
# <Verb>Bucket<Name> (or <Verb><Name> when the name says "Bucket" itself).
_BUCKET_NAMED = {
    "accelerate": "BucketAccelerateConfiguration",
    "acl": "BucketAcl",
    "analytics": "BucketAnalyticsConfiguration",
    "cors": "BucketCors",
    "encryption": "BucketEncryption",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    "inventory": "BucketInventoryConfiguration",
    "lifecycle": "BucketLifecycleConfiguration",
    "logging": "BucketLogging",
    "metadataConfiguration": "BucketMetadataConfiguration",
    "metadataTable": "BucketMetadataTableConfiguration",
    "metrics": "BucketMetricsConfiguration",
    "notification": "BucketNotificationConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "policy": "BucketPolicy",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "BucketReplication",
    "requestPayment": "BucketRequestPayment",
    "tagging": "BucketTagging",
    "website": "BucketWebsite",
}
_OBJECT_NAMED = {
    "acl": "ObjectAcl",
    "legal-hold": "ObjectLegalHold",
    "retention": "ObjectRetention",
    "tagging": "ObjectTagging",
}
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}

# With x-amz-copy-source, these operations become copies.
COPIES = {"PutObject": "CopyObject", "UploadPart": "UploadPartCopy"}

# Operations whose request body is streamed into storage as it arrives.
STREAMED = frozenset({"PutObject", "UploadPart"})

_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"})
# A browser's CORS preflight, on any bucket or object URL.
PREFLIGHT = "PreflightRequest"


def subresource_of(req: S3Request) -> str | None:
    found = sorted({k for k, _ in req.query if k in SUBRESOURCES})
    if len(found) > 1:
        raise S3Error(
            "NotImplemented",
            f"The combination of sub-resources {', '.join(found)} is not implemented.",
        )
    return found[0] if found else None


def lookup(req: S3Request, copy_source: bool = False) -> str:
    """The operation ``req`` asks for, or the S3 error that refuses it."""
    if req.method not in _METHODS:
        raise S3Error("MethodNotAllowed", extra={"Method": req.method})
    if req.method == "OPTIONS":
        if req.level == "service":
            extra = {"Method": req.method, "ResourceType": "SERVICE"}
            raise S3Error("MethodNotAllowed", extra=extra)
        return PREFLIGHT
    sub = subresource_of(req)
    if (req.method, req.level, sub) == ("GET", "bucket", None) and req.arg(
        "browser"
    ) == "true":
        return "BucketBrowser"
    op = OPERATIONS.get((req.method, req.level, sub))
    if op is not None and copy_source:
        op = COPIES.get(op, op)
    if op is not None:
        return op
    if sub is not None or (req.method == "POST" and req.level != "service"):
        what = f"?{sub}" if sub else "POST"
        raise S3Error(
            "NotImplemented",
            f"{req.method} {what} on a {req.level} is not implemented.",
        )
    raise S3Error(
        "MethodNotAllowed",
        extra={"Method": req.method, "ResourceType": req.level.upper()},
    )


def operation_name(req: S3Request, copy_source: bool = False) -> str:
    """The S3 operation ``req`` names, served or not; never raises.

    What ``lookup`` returns when it dispatches; else the AWS name of the
    operation asked for (``PutBucketCors`` for ``PUT /bucket?cors``), so
    that the refusal, which comes only after authentication, is logged
    under it; "Invalid" when the request names no S3 operation at all.
    """
    try:
        return lookup(req, copy_source)
    except S3Error:
        pass
    try:
        sub = subresource_of(req)
    except S3Error:
        return "Invalid"  # several sub-resources at once
    name = UNSERVED.get((req.method, req.level, sub))
    if name is not None:
        return name
    verb = _VERBS.get(req.method)
    table = {"bucket": _BUCKET_NAMED, "object": _OBJECT_NAMED}.get(req.level, {})
    if verb is None or sub not in table:
        return "Invalid"
    return verb + table[sub]
