"""The Reed-Solomon codec's algebra (its parity is checked against Ozone's
Java coder in tests/cluster/test_ec_codec.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.storage.ozone import ec_codec

SCHEMES = [(3, 2), (6, 3), (10, 4)]


@given(st.integers(1, 255), st.integers(1, 255), st.integers(0, 255))
def test_field(a: int, b: int, c: int) -> None:
    mul = ec_codec.gf_mul
    assert mul(a, ec_codec.gf_inv(a)) == 1
    assert mul(a, b) == mul(b, a)
    assert mul(a, b ^ c) == mul(a, b) ^ mul(a, c)
    assert ec_codec.MUL[a][c] == mul(a, c)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_p_losses_are_recovered(data: st.DataObject) -> None:
    k, p = data.draw(st.sampled_from(SCHEMES))
    size = data.draw(st.integers(1, 300))
    units = [data.draw(st.binary(min_size=size, max_size=size)) for _ in range(k)]
    parity = ec_codec.encode(units, p)
    lost = data.draw(
        st.lists(st.integers(0, k + p - 1), min_size=0, max_size=p, unique=True)
    )
    damaged = [None if i in lost else u for i, u in enumerate([*units, *parity])]
    assert ec_codec.decode(damaged, k, p) == units


def test_too_many_losses_and_bad_shapes() -> None:
    units = [b"ab", b"cd", b"ef"]
    parity = ec_codec.encode(units, 2)
    with pytest.raises(ValueError, match="3 are needed"):
        ec_codec.decode([None, None, None, *parity], 3, 2)
    with pytest.raises(ValueError, match="different lengths"):
        ec_codec.encode([b"a", b"bc", b"d"], 2)
    with pytest.raises(ValueError):
        ec_codec.encode_matrix(250, 10)
