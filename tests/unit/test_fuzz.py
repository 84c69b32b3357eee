"""A bounded atheris run of every parser fuzz target (fuzz/fuzz_parsers.py);
longer runs: ``python fuzz/fuzz_parsers.py all -max_total_time=600``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

FUZZ = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "fuzz", "fuzz_parsers.py")  # fmt: skip
RUNS = int(os.environ.get("OZS3_FUZZ_RUNS", "50000"))


@pytest.mark.parametrize("target", ["chunked", "route", "signatures", "ranges", "xml",
                                    "config", "access", "post"])  # fmt: skip
def test_fuzz_target_finds_no_crash(target: str) -> None:
    """The target survives RUNS coverage-guided inputs."""
    r = subprocess.run([sys.executable, FUZZ, target, f"-atheris_runs={RUNS}"],
                       capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    m = re.search(r"Done (\d+) in", r.stderr + r.stdout)
    assert m and int(m.group(1)) >= RUNS
