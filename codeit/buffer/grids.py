"""Compact binary encoding of a sequence of ARC grids, for the experience store's blobs.

Layout (all unsigned bytes): ``n`` (number of grids, < 256), then ``n`` pairs ``(h, w)``, then
the cells of every grid in row-major order, one byte each. ARC grids are at most 30x30 with
colors 0..9, so a byte holds every dimension and every cell; a typical 10x10 grid takes 102
bytes instead of ~300 for its JSON. Encoding and decoding are plain ``bytes`` operations, which
CPython runs in C, so a store append is bounded by SQLite rather than by this codec.
"""

from __future__ import annotations

from itertools import chain
from typing import Sequence

import numpy as np

Grid = tuple[tuple[int, ...], ...]

_MAX_GRIDS = 255
_MAX_SIDE = 255


def encode_grids(grids: Sequence) -> bytes:
    """Encode grids (tuples/lists of rows, or 2-D integer numpy arrays) into one blob."""
    n = len(grids)
    if n > _MAX_GRIDS:
        raise ValueError(f"encode_grids: {n} grids exceed the limit of {_MAX_GRIDS} per blob")
    shape_bytes = bytearray([n])
    cell_parts = []
    for k, grid in enumerate(grids):
        if isinstance(grid, np.ndarray):
            if grid.ndim != 2:
                raise ValueError(f"encode_grids: grid {k} has {grid.ndim} dimensions, expected 2")
            h, w = grid.shape
            if grid.size and (grid.min() < 0 or grid.max() > 255):
                raise ValueError(f"encode_grids: grid {k} has a cell outside 0..255")
            cells = grid.astype(np.uint8, copy=False).tobytes()
        else:
            h = len(grid)
            w = len(grid[0]) if h else 0
            try:
                cells = bytes(chain.from_iterable(grid))
            except (TypeError, ValueError) as err:
                raise ValueError(f"encode_grids: grid {k} is not rows of integers in 0..255 ({err})") from None
            if len(cells) != h * w:
                raise ValueError(f"encode_grids: grid {k} is ragged (rows of unequal length)")
        if h > _MAX_SIDE or w > _MAX_SIDE:
            raise ValueError(f"encode_grids: grid {k} is {h}x{w}; sides are limited to {_MAX_SIDE}")
        shape_bytes.append(h)
        shape_bytes.append(w)
        cell_parts.append(cells)
    return bytes(shape_bytes) + b"".join(cell_parts)


def decode_grids(blob: bytes) -> tuple[Grid, ...]:
    """Decode a blob from :func:`encode_grids` into DSL grids (tuples of tuples of ints)."""
    if not blob:
        raise ValueError("decode_grids: empty blob")
    n = blob[0]
    offset = 1 + 2 * n
    if len(blob) < offset:
        raise ValueError(f"decode_grids: blob of {len(blob)} bytes is too short for {n} grid shapes")
    grids = []
    for k in range(n):
        h, w = blob[1 + 2 * k], blob[2 + 2 * k]
        end = offset + h * w
        if end > len(blob):
            raise ValueError(f"decode_grids: blob is truncated in grid {k}")
        grids.append(tuple(tuple(blob[offset + r * w : offset + (r + 1) * w]) for r in range(h)))
        offset = end
    if offset != len(blob):
        raise ValueError(f"decode_grids: {len(blob) - offset} trailing bytes after {n} grids")
    return tuple(grids)
