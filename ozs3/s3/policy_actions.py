"""Which policy action an S3 operation is, and which resource it is
judged on (the bucket's ARN or the object's), as AWS's "Actions, resources,
and condition keys for Amazon S3" lists them.  Pure."""

from __future__ import annotations

BUCKET, OBJECT = "bucket", "object"

# operation -> (action, the level of the resource it is judged on)
_BY_OPERATION: dict[str, tuple[str, str]] = {
    "HeadBucket": ("s3:ListBucket", BUCKET),
    "ListObjects": ("s3:ListBucket", BUCKET),
    "ListObjectsV2": ("s3:ListBucket", BUCKET),
    "ListObjectVersions": ("s3:ListBucketVersions", BUCKET),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", BUCKET),
    "GetBucketLocation": ("s3:GetBucketLocation", BUCKET),
    "DeleteBucket": ("s3:DeleteBucket", BUCKET),
    "GetBucketTagging": ("s3:GetBucketTagging", BUCKET),
    "PutBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "DeleteBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", BUCKET),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", BUCKET),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", BUCKET),
    "GetBucketCors": ("s3:GetBucketCORS", BUCKET),
    "PutBucketCors": ("s3:PutBucketCORS", BUCKET),
    "DeleteBucketCors": ("s3:PutBucketCORS", BUCKET),
    "GetBucketPolicy": ("s3:GetBucketPolicy", BUCKET),
    "PutBucketPolicy": ("s3:PutBucketPolicy", BUCKET),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", BUCKET),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", BUCKET),
    "GetBucketAcl": ("s3:GetBucketAcl", BUCKET),
    "PutBucketAcl": ("s3:PutBucketAcl", BUCKET),
    "GetBucketVersioning": ("s3:GetBucketVersioning", BUCKET),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", BUCKET),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", BUCKET),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", BUCKET),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "DeleteObjects": ("s3:DeleteObject", OBJECT),  # each key in turn
    "GetObject": ("s3:GetObject", OBJECT),
    "HeadObject": ("s3:GetObject", OBJECT),
    "PutObject": ("s3:PutObject", OBJECT),
    "CopyObject": ("s3:PutObject", OBJECT),  # + s3:GetObject on the source
    "DeleteObject": ("s3:DeleteObject", OBJECT),
    "CreateMultipartUpload": ("s3:PutObject", OBJECT),
    "UploadPart": ("s3:PutObject", OBJECT),
    "UploadPartCopy": ("s3:PutObject", OBJECT),
    "CompleteMultipartUpload": ("s3:PutObject", OBJECT),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", OBJECT),
    "ListParts": ("s3:ListMultipartUploadParts", OBJECT),
    "GetObjectTagging": ("s3:GetObjectTagging", OBJECT),
    "PutObjectTagging": ("s3:PutObjectTagging", OBJECT),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", OBJECT),
    "GetObjectAcl": ("s3:GetObjectAcl", OBJECT),
    "PutObjectAcl": ("s3:PutObjectAcl", OBJECT),
    "GetObjectAttributes": ("s3:GetObjectAttributes", OBJECT),
}

# Every action a bucket policy may name, by the level of resource it acts
# on (more than the operations above: a policy written for AWS names them).
BUCKET_ACTIONS = frozenset(
    {a for a, level in _BY_OPERATION.values() if level == BUCKET}
    | {
        "s3:CreateBucket",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:GetBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketWebsite",
        "s3:PutBucketWebsite",
        "s3:DeleteBucketWebsite",
        "s3:GetBucketLogging",
        "s3:PutBucketLogging",
        "s3:GetBucketNotification",
        "s3:PutBucketNotification",
        "s3:GetBucketObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:PutReplicationConfiguration",
        "s3:GetAccelerateConfiguration",
        "s3:PutAccelerateConfiguration",
        "s3:GetBucketRequestPayment",
        "s3:PutBucketRequestPayment",
        "s3:GetAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
        "s3:GetInventoryConfiguration",
        "s3:PutInventoryConfiguration",
        "s3:GetMetricsConfiguration",
        "s3:PutMetricsConfiguration",
        "s3:GetIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
    }
)
OBJECT_ACTIONS = frozenset(
    {a for a, level in _BY_OPERATION.values() if level == OBJECT}
    | {
        "s3:GetObjectVersion",
        "s3:DeleteObjectVersion",
        "s3:GetObjectVersionTagging",
        "s3:PutObjectVersionTagging",
        "s3:DeleteObjectVersionTagging",
        "s3:GetObjectVersionAcl",
        "s3:PutObjectVersionAcl",
        "s3:GetObjectVersionAttributes",
        "s3:GetObjectRetention",
        "s3:PutObjectRetention",
        "s3:GetObjectLegalHold",
        "s3:PutObjectLegalHold",
        "s3:BypassGovernanceRetention",
        "s3:RestoreObject",
        "s3:GetObjectTorrent",
        "s3:ReplicateObject",
        "s3:ReplicateDelete",
        "s3:ReplicateTags",
    }
)
SERVICE_ACTIONS = frozenset({"s3:ListAllMyBuckets"})
ALL_ACTIONS = BUCKET_ACTIONS | OBJECT_ACTIONS | SERVICE_ACTIONS


def action_of(operation: str) -> tuple[str, str] | None:
    """(action, BUCKET or OBJECT) that ``operation`` is judged as; None for
    an operation no bucket policy governs (ListBuckets, CreateBucket)."""
    return _BY_OPERATION.get(operation)


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"
