"""Our hand-written .proto subsets (ozs3/storage/ozone/proto) against Ozone's own.

1. Every message, field, enum value and service method of ours exists in the
   .proto files shipped inside the resolved Ozone/Ratis jars with the same name,
   number, type, label, default and oneof (both sides compiled with
   grpc_tools.protoc to descriptor sets).  Skipped when the jars are absent
   (``compose/ozone-local/cluster resolve`` fetches them; CI does).
2. Regenerating the Python modules (generate.sh) gives the committed files.
"""

from __future__ import annotations

import filecmp
import glob
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "ozs3" / "storage" / "ozone" / "proto"
CACHE = Path(os.environ.get("OZS3_OZONE_CACHE", Path.home() / ".cache" / "ozs3-ozone"))
# The jars with Ozone's and Ratis' client-side .proto files.
JAR_PATTERNS = (
    "ozone-interface-client-*.jar",
    "hdds-interface-client-*.jar",
    "ratis-proto-*.jar",
)
# Ozone's files whose closure (with imports) our subsets are drawn from.
UPSTREAM_ROOTS = (
    "OmClientProtocol.proto",
    "hdds.proto",
    "DatanodeClientProtocol.proto",
    "Raft.proto",
    "Grpc.proto",
)


def _lib_dir() -> Path:
    if (CACHE / "lib").is_dir():
        return CACHE / "lib"
    libs = sorted(glob.glob(str(CACHE / "*" / "lib")))
    if not libs:
        pytest.skip(
            f"Ozone's jars are not resolved under {CACHE} (compose/ozone-local/cluster resolve)"
        )
    return Path(libs[-1])


def _compile(
    include: Path, files: list[str], out: Path
) -> descriptor_pb2.FileDescriptorSet:
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{include}",
        "--include_imports",
        f"--descriptor_set_out={out}",
        *files,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(out.read_bytes())
    return fds


def _index(fds: descriptor_pb2.FileDescriptorSet, only: set[str] | None = None) -> dict:
    """Full name -> descriptor proto, for messages (nested too), enums, services."""
    out: dict[str, object] = {}

    def messages(prefix: str, msgs) -> None:
        for m in msgs:
            name = f"{prefix}.{m.name}"
            out[name] = m
            messages(name, m.nested_type)
            for e in m.enum_type:
                out[f"{name}.{e.name}"] = e

    for f in fds.file:
        if only is not None and f.name not in only:
            continue
        prefix = f".{f.package}" if f.package else ""
        messages(prefix, f.message_type)
        for e in f.enum_type:
            out[f"{prefix}.{e.name}"] = e
        for s in f.service:
            out[f"{prefix}.{s.name}"] = s
    return out


def _field_signature(message, field) -> tuple:
    oneof = (
        message.oneof_decl[field.oneof_index].name
        if field.HasField("oneof_index")
        else None
    )
    return (
        field.number,
        descriptor_pb2.FieldDescriptorProto.Type.Name(field.type),
        descriptor_pb2.FieldDescriptorProto.Label.Name(field.label),
        field.type_name,
        field.default_value,
        oneof,
        field.proto3_optional,
    )


def subset_mismatches(ours: dict, theirs: dict) -> list[str]:
    problems = []
    for name, ours_d in sorted(ours.items()):
        theirs_d = theirs.get(name)
        if theirs_d is None:
            problems.append(f"{name}: not in Ozone's .proto files")
            continue
        if type(ours_d) is not type(theirs_d):
            problems.append(
                f"{name}: a {type(ours_d).__name__} here, {type(theirs_d).__name__} there"
            )
        elif isinstance(ours_d, descriptor_pb2.DescriptorProto):
            their_fields = {f.name: f for f in theirs_d.field}
            for f in ours_d.field:
                t = their_fields.get(f.name)
                if t is None:
                    problems.append(f"{name}.{f.name}: no such field")
                elif _field_signature(ours_d, f) != _field_signature(theirs_d, t):
                    problems.append(
                        f"{name}.{f.name}: {_field_signature(ours_d, f)} != {_field_signature(theirs_d, t)}"
                    )
        elif isinstance(ours_d, descriptor_pb2.EnumDescriptorProto):
            their_values = {v.name: v.number for v in theirs_d.value}
            for v in ours_d.value:
                if their_values.get(v.name) != v.number:
                    problems.append(
                        f"{name}.{v.name} = {v.number}: Ozone has {their_values.get(v.name)}"
                    )
            # proto2: the first value is the default of a field of this type.
            if ours_d.value[0].name != theirs_d.value[0].name:
                problems.append(
                    f"{name}: first value {ours_d.value[0].name} != {theirs_d.value[0].name}"
                )
        else:  # service
            their_methods = {m.name: m for m in theirs_d.method}
            for m in ours_d.method:
                t = their_methods.get(m.name)
                sig = (
                    m.input_type,
                    m.output_type,
                    m.client_streaming,
                    m.server_streaming,
                )
                if t is None or sig != (
                    t.input_type,
                    t.output_type,
                    t.client_streaming,
                    t.server_streaming,
                ):
                    problems.append(f"{name}.{m.name}: {sig} differs")
    return problems


def our_protos() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in PROTO_DIR.glob("*.proto"))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> dict:
    lib = _lib_dir()
    src = tmp_path_factory.mktemp("upstream-proto")
    for pattern in JAR_PATTERNS:
        for jar in glob.glob(str(lib / pattern)):
            with zipfile.ZipFile(jar) as z:
                for member in z.namelist():
                    if member.endswith(".proto") and "/" not in member:
                        (src / member).write_bytes(z.read(member))
    roots = [r for r in UPSTREAM_ROOTS if (src / r).exists()]
    assert "OmClientProtocol.proto" in roots and "hdds.proto" in roots, sorted(
        os.listdir(src)
    )
    return _index(_compile(src, roots, src / "upstream.pb"))


def test_our_subset_matches_ozones_protos(upstream, tmp_path):
    fds = _compile(ROOT, our_protos(), tmp_path / "ours.pb")
    ours = _index(fds, only=set(our_protos()))
    assert ".hadoop.ozone.OMRequest" in ours and ".hadoop.hdds.Pipeline" in ours
    assert subset_mismatches(ours, upstream) == []


def test_a_wrong_field_number_is_caught(upstream, tmp_path):
    """The comparison itself: a subset with one field renumbered is reported."""
    fds = _compile(ROOT, our_protos(), tmp_path / "ours.pb")
    ours = _index(fds, only=set(our_protos()))
    key_location = ours[".hadoop.ozone.KeyLocation"]
    offset = next(f for f in key_location.field if f.name == "offset")
    offset.number = 2
    assert subset_mismatches(ours, upstream) == [
        ".hadoop.ozone.KeyLocation.offset: "
        "(2, 'TYPE_UINT64', 'LABEL_REQUIRED', '', '', None, False) != "
        "(3, 'TYPE_UINT64', 'LABEL_REQUIRED', '', '', None, False)"
    ]


def test_generated_modules_are_up_to_date(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable)
    subprocess.run(
        ["sh", str(PROTO_DIR / "generate.sh"), str(tmp_path)], check=True, env=env
    )
    fresh = tmp_path / "ozs3" / "storage" / "ozone" / "proto"
    generated = sorted(p.name for p in fresh.glob("*_pb2*.py"))
    committed = sorted(p.name for p in PROTO_DIR.glob("*_pb2*.py"))
    assert generated == committed
    _, mismatch, errors = filecmp.cmpfiles(fresh, PROTO_DIR, generated, shallow=False)
    assert (mismatch, errors) == ([], []), "run ozs3/storage/ozone/proto/generate.sh"
