"""Operation name -> handler.  Handlers take ``(gateway, call)``, return an
``S3Response`` or raise ``S3Error``/``StorageError``; they never touch HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import (
    access,
    acl,
    attributes,
    browser,
    bucket,
    compat,
    copy,
    cors,
    lifecycle,
    multipart,
    obj,
    policy,
    post,
    read,
    service,
    tagging,
)

if TYPE_CHECKING:
    from ..context import Call, S3Response

Handler = Callable[[Any, "Call"], Awaitable["S3Response"]]

HANDLERS: dict[str, Handler] = {
    "ListBuckets": service.list_buckets,
    "ListObjects": bucket.list_objects,
    "GetBucketLocation": bucket.get_bucket_location,
    "HeadBucket": bucket.head_bucket,
    "CreateBucket": bucket.create_bucket,
    "DeleteBucket": bucket.delete_bucket,
    "DeleteObjects": bucket.delete_objects,
    "GetObject": read.get_object,
    "HeadObject": read.get_object,
    "PutObject": obj.put_object,
    "DeleteObject": obj.delete_object,
    "CopyObject": copy.copy_object,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": copy.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
    "ListMultipartUploads": multipart.list_multipart_uploads,
    "GetBucketVersioning": compat.get_bucket_versioning,
    "ListObjectVersions": compat.list_object_versions,
    "GetBucketAcl": acl.get_bucket_acl,
    "PutBucketAcl": acl.put_bucket_acl,
    "GetObjectAcl": acl.get_object_acl,
    "PutObjectAcl": acl.put_object_acl,
    "GetBucketPolicy": policy.get_bucket_policy,
    "PutBucketPolicy": policy.put_bucket_policy,
    "DeleteBucketPolicy": policy.delete_bucket_policy,
    "GetBucketPolicyStatus": policy.get_bucket_policy_status,
    "PostObject": post.post_object,
    "GetPublicAccessBlock": access.get_public_access_block,
    "PutPublicAccessBlock": access.put_public_access_block,
    "DeletePublicAccessBlock": access.delete_public_access_block,
    "GetBucketOwnershipControls": acl.get_ownership_controls,
    "PutBucketOwnershipControls": acl.put_ownership_controls,
    "DeleteBucketOwnershipControls": acl.delete_ownership_controls,
    "GetBucketCors": cors.get_bucket_cors,
    "PutBucketCors": cors.put_bucket_cors,
    "DeleteBucketCors": cors.delete_bucket_cors,
    "PreflightRequest": cors.preflight,
    "GetBucketEncryption": compat.get_bucket_encryption,
    "GetBucketTagging": tagging.get_bucket_tagging,
    "PutBucketTagging": tagging.put_bucket_tagging,
    "DeleteBucketTagging": tagging.delete_bucket_tagging,
    "GetObjectTagging": tagging.get_object_tagging,
    "PutObjectTagging": tagging.put_object_tagging,
    "DeleteObjectTagging": tagging.delete_object_tagging,
    "GetBucketLifecycleConfiguration": lifecycle.get_bucket_lifecycle,
    "PutBucketLifecycleConfiguration": lifecycle.put_bucket_lifecycle,
    "DeleteBucketLifecycle": lifecycle.delete_bucket_lifecycle,
    "GetObjectAttributes": attributes.get_object_attributes,
    "BucketBrowser": browser.bucket_browser,
}

# Pre-body admission for streamed operations: returns the open KeyWriter.
ADMIT: dict[str, Callable[[Any, Call], Awaitable[Any]]] = {
    "PutObject": obj.admit_put_object,
    "UploadPart": multipart.admit_upload_part,
}
