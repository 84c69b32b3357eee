"""Reed-Solomon erasure coding as Ozone's RS coder computes it.  Pure.

Ozone's ``RSRawEncoder``/``RSRawDecoder`` (``hdds-erasurecode``) are a port
of Intel ISA-L's: GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d), the
encoding matrix an identity of ``k`` rows (the data units pass as they are)
over a Cauchy matrix, row ``i`` (k <= i < k + p), column ``j`` being
1 / (i XOR j).  A parity unit is the sum over the data units of the row's
coefficient times the unit; decoding inverts the rows of any ``k`` units
that survive.  tests/cluster/test_ec_codec.py checks both against vectors
made by Ozone's own Java coder from the resolved jars.

Whole units are worked on at C speed without a library: a multiplication by
a constant is ``bytes.translate`` with that constant's 256-entry table, a
sum is an XOR of the units as big integers.
"""

from __future__ import annotations

from collections.abc import Sequence

POLY = 0x11D

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= POLY
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def gf_inv(a: int) -> int:
    if a == 0:
        raise ZeroDivisionError("0 has no inverse in GF(256)")
    return _EXP[255 - _LOG[a]]


# MUL[c] maps every byte x to c * x: a unit times c is unit.translate(MUL[c]).
MUL: tuple[bytes, ...] = tuple(
    bytes(gf_mul(c, x) for x in range(256)) for c in range(256)
)

Matrix = list[list[int]]


def encode_matrix(k: int, p: int) -> Matrix:
    """The (k + p) x k matrix: identity, then Cauchy rows (ISA-L's
    ``gf_gen_cauchy1_matrix``, Ozone's ``RSUtil.genCauchyMatrix``)."""
    if k < 1 or p < 0 or k + p > 256:
        raise ValueError(f"no RS code of {k} data and {p} parity units")
    rows = [[int(i == j) for j in range(k)] for i in range(k)]
    rows += [[gf_inv(i ^ j) for j in range(k)] for i in range(k, k + p)]
    return rows


def combine(coefficients: Sequence[int], units: Sequence[bytes]) -> bytes:
    """sum(c * unit): the units must be of one length."""
    size = len(units[0])
    acc = 0
    for c, unit in zip(coefficients, units, strict=True):
        if len(unit) != size:
            raise ValueError("units of different lengths")
        if c:
            acc ^= int.from_bytes(unit if c == 1 else unit.translate(MUL[c]), "little")
    return acc.to_bytes(size, "little")


def encode(data: Sequence[bytes], p: int) -> list[bytes]:
    """The ``p`` parity units of the ``k = len(data)`` data units."""
    k = len(data)
    return [combine(row, data) for row in encode_matrix(k, p)[k:]]


def invert(m: Matrix) -> Matrix:
    """The inverse of a square matrix over GF(256) (Gauss-Jordan)."""
    n = len(m)
    a = [list(row) + [int(i == j) for j in range(n)] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if a[r][col]), None)
        if pivot is None:
            raise ValueError("singular matrix")
        a[col], a[pivot] = a[pivot], a[col]
        scale = gf_inv(a[col][col])
        a[col] = [gf_mul(scale, v) for v in a[col]]
        for r in range(n):
            if r != col and a[r][col]:
                f = a[r][col]
                a[r] = [v ^ gf_mul(f, w) for v, w in zip(a[r], a[col], strict=True)]
    return [row[n:] for row in a]


def decode(units: Sequence[bytes | None], k: int, p: int) -> list[bytes]:
    """The ``k`` data units from ``units`` (data units then parity units, in
    order; None where one is lost): any ``k`` that survive will do."""
    if len(units) != k + p:
        raise ValueError(f"{len(units)} units for a {k}+{p} code")
    have = [i for i, u in enumerate(units) if u is not None]
    if len(have) < k:
        raise ValueError(f"{len(have)} units survive; {k} are needed")
    if all(units[i] is not None for i in range(k)):
        return [bytes(units[i] or b"") for i in range(k)]  # nothing to decode
    use = have[:k]
    rows = encode_matrix(k, p)
    inverse = invert([rows[i] for i in use])
    present = [bytes(units[i] or b"") for i in use]
    return [
        bytes(units[j] or b"") if units[j] is not None else combine(inverse[j], present)
        for j in range(k)
    ]
