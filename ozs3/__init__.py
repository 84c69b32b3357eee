"""ozs3: an S3-compatible gateway for an Apache Ozone-style object store."""

__version__ = "0.1.0"
