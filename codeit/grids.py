"""Packed grid batches and the numba kernels that score and hash many grids at once.

A batch of N grids is two arrays: ``data`` uint8 [N, 30, 30] (cells outside a grid's shape are
zero) and ``shapes`` int32 [N, 2] (rows, columns; 0 x 0 marks "no grid", e.g. a failed run). The
native interpreter returns its outputs in this layout, so scoring never loops in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numba
import numpy as np

SIDE = 30


@dataclass(frozen=True)
class GridBatch:
    """N grids packed into fixed 30x30 slots."""

    data: np.ndarray
    shapes: np.ndarray

    def __len__(self) -> int:
        return len(self.shapes)

    def grid(self, k: int) -> np.ndarray | None:
        """Grid k as an array view, or None where slot k holds no grid."""
        h, w = self.shapes[k]
        if h == 0:
            return None
        return self.data[k, :h, :w]


def pack(grids: Iterable[np.ndarray | Sequence[Sequence[int]] | None]) -> GridBatch:
    """Pack grids (arrays, tuples of tuples, or None for "no grid") into a GridBatch."""
    grids = list(grids)
    data = np.zeros((len(grids), SIDE, SIDE), dtype=np.uint8)
    shapes = np.zeros((len(grids), 2), dtype=np.int32)
    for k, g in enumerate(grids):
        if g is None:
            continue
        a = np.asarray(g, dtype=np.uint8)
        h, w = a.shape
        data[k, :h, :w] = a
        shapes[k] = (h, w)
    return GridBatch(data, shapes)


@numba.njit(cache=True, nogil=True)
def _exact_match(data, shapes, target_data, target_shapes, target_index):
    n = shapes.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        t = target_index[k]
        h = shapes[k, 0]
        w = shapes[k, 1]
        if h == 0 or h != target_shapes[t, 0] or w != target_shapes[t, 1]:
            continue
        same = True
        for i in range(h):
            for j in range(w):
                if data[k, i, j] != target_data[t, i, j]:
                    same = False
                    break
            if not same:
                break
        out[k] = same
    return out


@numba.njit(cache=True, nogil=True)
def _pixel_accuracy(data, shapes, target_data, target_shapes, target_index):
    n = shapes.shape[0]
    out = np.zeros(n, dtype=np.float32)
    for k in range(n):
        t = target_index[k]
        h = shapes[k, 0]
        w = shapes[k, 1]
        if h == 0 or h != target_shapes[t, 0] or w != target_shapes[t, 1]:
            continue
        same = 0
        for i in range(h):
            for j in range(w):
                if data[k, i, j] == target_data[t, i, j]:
                    same += 1
        out[k] = same / (h * w)
    return out


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True)
def _grid_hashes(data, shapes):
    n = shapes.shape[0]
    out = np.zeros(n, dtype=np.uint64)
    for k in range(n):
        h = shapes[k, 0]
        w = shapes[k, 1]
        x = _FNV_OFFSET
        x = (x ^ np.uint64(h)) * _FNV_PRIME
        x = (x ^ np.uint64(w)) * _FNV_PRIME
        for i in range(h):
            for j in range(w):
                x = (x ^ np.uint64(data[k, i, j])) * _FNV_PRIME
        out[k] = x
    return out


@numba.njit(cache=True, nogil=True)
def _combine_hashes(hashes, group_starts):
    """One hash per group of consecutive entries (an order-sensitive combination)."""
    g = group_starts.shape[0] - 1
    out = np.zeros(g, dtype=np.uint64)
    for k in range(g):
        x = _FNV_OFFSET
        for m in range(group_starts[k], group_starts[k + 1]):
            x = (x ^ hashes[m]) * _FNV_PRIME
            x = x ^ (x >> np.uint64(29))
        out[k] = x
    return out


def _index(batch: GridBatch, target_index: np.ndarray | None) -> np.ndarray:
    if target_index is None:
        return np.arange(len(batch), dtype=np.int64)
    return np.ascontiguousarray(target_index, dtype=np.int64)


def exact_match(outputs: GridBatch, targets: GridBatch, target_index: np.ndarray | None = None) -> np.ndarray:
    """Per output grid k: does it equal ``targets[target_index[k]]`` exactly (bool [N])."""
    return _exact_match(outputs.data, outputs.shapes, targets.data, targets.shapes, _index(outputs, target_index))


def pixel_accuracy(outputs: GridBatch, targets: GridBatch, target_index: np.ndarray | None = None) -> np.ndarray:
    """Per output grid: share of cells equal to its target; 0 where the shapes differ (float32 [N])."""
    return _pixel_accuracy(outputs.data, outputs.shapes, targets.data, targets.shapes, _index(outputs, target_index))


def grid_hashes(batch: GridBatch) -> np.ndarray:
    """A 64-bit hash of each grid's shape and cells (uint64 [N]); equal grids hash equal."""
    return _grid_hashes(batch.data, batch.shapes)


def group_hashes(hashes: np.ndarray, group_starts: np.ndarray) -> np.ndarray:
    """Combine consecutive hashes: group k covers ``hashes[group_starts[k]:group_starts[k+1]]``."""
    return _combine_hashes(np.ascontiguousarray(hashes, dtype=np.uint64), np.ascontiguousarray(group_starts, dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def _single_colour(data, shapes):
    """Per grid: is it a single colour (False for "no grid")."""
    n = shapes.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        h = shapes[k, 0]
        w = shapes[k, 1]
        if h == 0:
            continue
        c = data[k, 0, 0]
        same = True
        for i in range(h):
            for j in range(w):
                if data[k, i, j] != c:
                    same = False
                    break
            if not same:
                break
        out[k] = same
    return out


def single_colour(batch: GridBatch) -> np.ndarray:
    """bool [N]: grid k is one colour throughout (False where slot k holds no grid)."""
    return _single_colour(batch.data, batch.shapes)
