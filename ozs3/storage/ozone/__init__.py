"""A real Apache Ozone cluster as ozs3's store, spoken to natively: the Ozone
Manager over gRPC (``om_client``), datanodes over gRPC and Ratis.

``proto/`` holds ozs3's own hand-written subsets of Ozone's ``.proto`` files and
the modules generated from them (``proto/generate.sh``).  The pure modules here
(``om_types``, ``om_codec``, ``om_errors``) import neither grpc nor Twisted.
"""
