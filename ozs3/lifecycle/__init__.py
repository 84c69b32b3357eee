"""S3 lifecycle carried out: each bucket's rules as requests need them
(``bucket_rules``) and the background service that expires objects and
aborts stale multipart uploads (``service``).  The rules themselves
(parsing, validation, evaluation) are the pure ``ozs3.s3.lifecycle``."""
