"""Compact binary encoding of a sequence of ARC grids, for the experience store's blobs.

Layout (all unsigned bytes): ``n`` (number of grids, < 256), then ``n`` pairs ``(h, w)``, then
the cells of every grid in row-major order, one byte each. ARC grids are at most 30x30 with
colors 0..9, so a byte holds every dimension and every cell; a typical 10x10 grid takes 102
bytes instead of ~300 for its JSON. Encoding and decoding are plain ``bytes`` operations, which
The codec runs in C++ (``codeit._sumtree.encode_grids`` / ``decode_grids``) for grids given as
tuples or lists of rows; the Python code below is the fallback for numpy arrays and other
sequences, and the reference for the layout.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from codeit._sumtree import decode_grids as _decode_native
from codeit._sumtree import encode_grids as _encode_native

Grid = tuple[tuple[int, ...], ...]

_MAX_GRIDS = 255
_MAX_SIDE = 255


def encode_grids(grids: Sequence) -> bytes:
    """Encode grids (tuples/lists of rows, or 2-D integer numpy arrays) into one blob."""
    try:
        return _encode_native(grids)
    except TypeError:
        return _encode_python(grids)  # numpy arrays, other sequences; a real type error re-raises there


def decode_grids(blob: bytes) -> tuple[Grid, ...]:
    """Decode a blob from :func:`encode_grids` into DSL grids (tuples of tuples of ints)."""
    return _decode_native(bytes(blob))


def _encode_python(grids: Sequence) -> bytes:
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
            if grid.dtype != np.uint8 and grid.size and (grid.min() < 0 or grid.max() > 255):
                raise ValueError(f"encode_grids: grid {k} has a cell outside 0..255")
            cells = np.ascontiguousarray(grid, dtype=np.uint8).tobytes()
        else:
            h = len(grid)
            w = len(grid[0]) if h else 0
            try:
                # bytes() of a whole row is one C call; rows of ints are the DSL's grids.
                cells = b"".join(map(bytes, grid))
            except (TypeError, ValueError) as err:
                raise ValueError(f"encode_grids: grid {k} is not rows of integers in 0..255 ({err})") from None
            if len(cells) != h * w or (h > 1 and len(set(map(len, grid))) != 1):
                raise ValueError(f"encode_grids: grid {k} is ragged (rows of unequal length)")
        if h > _MAX_SIDE or w > _MAX_SIDE:
            raise ValueError(f"encode_grids: grid {k} is {h}x{w}; sides are limited to {_MAX_SIDE}")
        shape_bytes.append(h)
        shape_bytes.append(w)
        cell_parts.append(cells)
    return bytes(shape_bytes) + b"".join(cell_parts)


def _decode_python(blob: bytes) -> tuple[Grid, ...]:
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
        cells = tuple(blob[offset:end])  # one C call; the rows below are tuple slices of it
        grids.append(tuple([cells[i : i + w] for i in range(0, h * w, w)]) if w else ((),) * h)
        offset = end
    if offset != len(blob):
        raise ValueError(f"decode_grids: {len(blob) - offset} trailing bytes after {n} grids")
    return tuple(grids)
