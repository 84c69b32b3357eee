"""ozs3's Reed-Solomon codec (``ozs3.storage.ozone.ec_codec``) against
Ozone's own Java coder (``RSRawEncoder`` from the resolved hdds-erasurecode
jar, run through tests/cluster/java/EcVectors.java): the same parity, byte
for byte, for each of Ozone's RS schemes, and every data unit recovered
from any ``p`` losses of Java-made units."""

from __future__ import annotations

import itertools
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from ozs3.storage.ozone import ec_codec

from .test_proto_subset import _lib_dir

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def java_encoder(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    if shutil.which("javac") is None:
        pytest.skip("no javac (Java 17 runs the cluster tests)")
    lib = _lib_dir()
    out = tmp_path_factory.mktemp("ecvectors")
    classpath = f"{lib}/*"
    subprocess.run(
        ["javac", "-d", str(out), "-cp", classpath, str(HERE / "java" / "EcVectors.java")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return ["java", "-cp", f"{out}:{classpath}", "EcVectors"]


def java_parity(cmd: list[str], data: list[bytes], p: int) -> list[bytes]:
    done = subprocess.run(
        [*cmd, str(len(data)), str(p)],
        input="".join(unit.hex() + "\n" for unit in data),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return [bytes.fromhex(line) for line in done.stdout.split()]


@pytest.mark.parametrize(("k", "p"), [(3, 2), (6, 3), (10, 4)])
def test_parity_is_ozones(java_encoder: list[str], k: int, p: int) -> None:
    rng = random.Random(k * 100 + p)
    # Odd sizes too: Ozone's coder works 8 bytes at a time plus a tail.
    for size in (1, 13, 4096 + 7):
        data = [rng.randbytes(size) for _ in range(k)]
        theirs = java_parity(java_encoder, data, p)
        assert ec_codec.encode(data, p) == theirs, (k, p, size)
        units: list[bytes | None] = [*data, *theirs]
        # Any p units lost (all of them for the small codes): recovered.
        losses = list(itertools.combinations(range(k + p), p))
        for lost in rng.sample(losses, min(len(losses), 30)):
            damaged = [None if i in lost else u for i, u in enumerate(units)]
            assert ec_codec.decode(damaged, k, p) == data, lost
