"""Storage errors, in Ozone Manager vocabulary.  No HTTP here: the S3 layer maps
these to S3 errors in one table (``ozs3.s3.errors.STORAGE_TO_S3``)."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the storage layer raises on purpose."""

    # Whether the OM transaction that raised it committed: what it wrote
    # stands (a writer's blocks are the OM's now, to keep or to reclaim).
    # False: the transaction took no effect, or there was none.
    after_commit = False


class BucketNotFound(StorageError):
    pass


class BucketAlreadyExists(StorageError):
    """The bucket exists; ``owner`` says who has it."""

    def __init__(self, bucket: str, owner: str) -> None:
        super().__init__(bucket)
        self.owner = owner


class BucketNotEmpty(StorageError):
    pass


class KeyNotFound(StorageError):
    pass


class ChecksumMismatch(StorageError):
    """Stored bytes no longer match their recorded checksum."""


class BlockNotFound(StorageError):
    """A block named by the metadata is missing on the datanode."""


class NoSpace(StorageError):
    """The datanode's disk is full."""


class StorageIOError(StorageError):
    """Any other I/O error from a datanode or the metadata store."""


class Unavailable(StorageIOError):
    """The store could not be asked in time (a cluster's OM or datanodes are
    down or too slow): the request may not have run.  503, retryable."""


class NotSupported(StorageError):
    """The store cannot do this (yet): S3's 501 NotImplemented."""


class PermissionDenied(StorageError):
    """The store refused the caller (a cluster's ACLs)."""


class QuotaExceeded(StorageError):
    """The bucket's or volume's quota is used up."""


class InvalidBucketName(StorageError):
    """The store refuses the bucket's name."""


class NotDurable(StorageIOError):
    """The OM transaction committed (its writes are visible) but making it
    durable failed (the log's fsync raised): it may not survive a power
    failure, and must not be undone as if it had failed."""

    after_commit = True


class UploadNotFound(StorageError):
    """No such multipart upload (never created, aborted or completed)."""


class InvalidPart(StorageError):
    """A listed part was not uploaded, or its ETag does not match."""


class InvalidPartOrder(StorageError):
    """Parts were not listed in ascending order."""


class PartTooSmall(StorageError):
    """A part other than the last is under the 5 MiB minimum."""


class PreconditionFailed(StorageError):
    """The key is not what the write's ``Precondition`` expects (it exists,
    is missing, or is another version): nothing changed."""


class SourceChanged(StorageError):
    """A copy's source was replaced or deleted while the copy ran."""
