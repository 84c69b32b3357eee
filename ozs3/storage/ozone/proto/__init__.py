"""Generated protobuf/gRPC modules for ozs3's subsets of Ozone's protocols
(regenerate with ``generate.sh``; never edit the ``*_pb2*.py`` files by hand)."""
