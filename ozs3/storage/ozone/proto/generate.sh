#!/bin/sh
# Regenerate the Python modules for every .proto in this folder (ours and the
# datanode/Ratis subsets alike).  Needs grpcio-tools (the `test` extra pins the
# version the committed files were made with).  The generated files are committed
# so that installing ozs3 needs no protoc.
#
#   ozs3/storage/ozone/proto/generate.sh [OUTPUT_ROOT]
#
# OUTPUT_ROOT defaults to the repository root (files land next to the .proto files);
# tests/cluster/test_proto_subset.py passes a temporary folder and compares.
# The .proto files import each other by their repository path
# (`import "ozs3/storage/ozone/proto/hdds.proto"`), so the generated modules import
# each other as `ozs3.storage.ozone.proto.hdds_pb2`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
out=${1:-$root}
PYTHON=${PYTHON:-python3}
cd "$root"
mkdir -p "$out"
protos=$(ls ozs3/storage/ozone/proto/*.proto | LC_ALL=C sort)
# shellcheck disable=SC2086
"$PYTHON" -m grpc_tools.protoc -I . --python_out="$out" $protos
# gRPC stubs only for the files that define a service.
services=$(grep -l '^service ' $protos || true)
if [ -n "$services" ]; then
    # shellcheck disable=SC2086
    "$PYTHON" -m grpc_tools.protoc -I . --grpc_python_out="$out" $services
fi
