"""Where an EC key's bytes are: the arithmetic of Ozone's striping.  Pure.

A block group of an EC key with ``d`` data and ``p`` parity units holds
the key's bytes in stripes of ``d`` cells of ``cell`` bytes: cell ``c`` of
the group (bytes ``c * cell`` on) is in internal block (replica index)
``c mod d + 1``, at offset ``(c div d) * cell`` there.  The ``p`` parity
cells of a stripe, in replicas ``d + 1 .. d + p``, are as long as its first
data cell; the data cells of a short last stripe are short or absent
(``ECKeyOutputStream``, ``ECBlockInputStream``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .om_types import EcConfig


@dataclass(frozen=True)
class CellPiece:
    """Bytes ``[start, start + length)`` of a group, all in one cell: in
    ``replica`` (1-based) from ``offset`` on, stripe ``stripe`` of the group,
    ``in_cell`` bytes into the cell."""

    start: int
    length: int
    replica: int
    offset: int
    stripe: int
    in_cell: int


def piece_at(ec: EcConfig, start: int, max_length: int) -> CellPiece:
    """The piece of a group that starts at ``start``: at most ``max_length``
    bytes, never past the end of its cell."""
    cell = ec.cell_size
    index, in_cell = divmod(start, cell)
    stripe, column = divmod(index, ec.data)
    length = min(max_length, cell - in_cell)
    return CellPiece(
        start, length, column + 1, stripe * cell + in_cell, stripe, in_cell
    )


def stripe_unit_lengths(ec: EcConfig, group_length: int, stripe: int) -> list[int]:
    """The lengths of stripe ``stripe``'s ``d + p`` cells (data then parity)
    in a group holding ``group_length`` bytes."""
    cell = ec.cell_size
    held = min(ec.data * cell, max(0, group_length - stripe * ec.data * cell))
    data = [min(cell, max(0, held - i * cell)) for i in range(ec.data)]
    return data + [data[0]] * ec.parity


def split_stripe(ec: EcConfig, stripe: bytes) -> list[bytes]:
    """A stripe's bytes (at most ``d`` cells' worth) as its ``d`` data cells,
    the last ones short or empty."""
    cell = ec.cell_size
    if len(stripe) > ec.data * cell:
        raise ValueError(f"{len(stripe)} bytes do not fit one stripe")
    return [stripe[i * cell : (i + 1) * cell] for i in range(ec.data)]
