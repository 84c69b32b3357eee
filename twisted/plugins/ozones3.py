# twistd dropin: `twistd -n ozones3`. No __init__.py may exist beside this file,
# or in twisted/, or the plugin package of Twisted itself would be shadowed.
from twisted.application.service import ServiceMaker

ozones3 = ServiceMaker(
    "ozs3 S3 gateway",
    "ozs3.tap",
    "S3-compatible gateway for an Apache Ozone-style object store",
    "ozones3",
)
