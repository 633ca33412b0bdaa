"""The native sum tree, with checkpoints as plain arrays plus versioned metadata.

``SumTree`` is the C++ tree (``codeit._sumtree.NativeSumTree``) with ``save``/``load`` added;
every sampling and update method is the native one, called with no Python layer in between.

Where alpha is applied: the tree stores the raw priorities it is given and turns each into a
sampling weight ``priority ** alpha`` in one place, when the priority enters a leaf (C++
``SumTree::weight_of``). A zero priority has weight 0 for every alpha. ``set_alpha`` reweights
all leaves from the stored raw priorities. Checkpoints store raw priorities and alpha.

Checkpoint format (``.npz``, no pickles): ``priorities`` (float64, raw, index order),
``rng_state`` (uint64[4], the xoshiro256** state, so draws continue identically after a
restore) and ``metadata`` (a JSON string: format, schema_version, size, capacity, alpha).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from codeit._sumtree import FANOUT, SCHEMA_VERSION, NativeSumTree, SumTreeValueError

__all__ = ["SumTree", "SumTreeValueError", "CheckpointError", "SCHEMA_VERSION", "FANOUT"]

_FORMAT = "codeit.sumtree"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: wrong format, newer schema, inconsistent arrays."""


class SumTree(NativeSumTree):
    """Prioritized sampling over items 0..size-1 (see the module docstring and the methods'
    docstrings: add, update, get, priorities, sample, sample_into, sample_without_replacement,
    total, set_alpha, clear, assign, rng_state, set_rng_state, reseed)."""

    def __init__(self, capacity: int = 1024, alpha: float = 1.0, seed: int = 0):
        super().__init__(capacity, alpha, seed)

    def __repr__(self) -> str:
        return f"SumTree(size={self.size}, capacity={self.capacity}, alpha={self.alpha}, total={self.total():.6g})"

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The tree as plain arrays (what ``save`` writes), for embedding in a larger checkpoint."""
        metadata = {
            "format": _FORMAT,
            "schema_version": SCHEMA_VERSION,
            "size": int(self.size),
            "capacity": int(self.capacity),
            "alpha": float(self.alpha),
        }
        return {
            "priorities": self.priorities(),
            "rng_state": self.rng_state(),
            "metadata": np.array(json.dumps(metadata)),
        }

    @classmethod
    def from_state_arrays(cls, arrays, source: str = "<arrays>") -> "SumTree":
        """Rebuild a tree from ``state_arrays`` output; ``source`` names the origin in errors."""
        for key in ("priorities", "rng_state", "metadata"):
            if key not in arrays:
                raise CheckpointError(f"{source}: missing array {key!r}; not a sum-tree checkpoint")
        try:
            metadata = json.loads(str(arrays["metadata"][()]))
        except (json.JSONDecodeError, TypeError) as err:
            raise CheckpointError(f"{source}: metadata is not valid JSON ({err})") from None
        if metadata.get("format") != _FORMAT:
            raise CheckpointError(f"{source}: format {metadata.get('format')!r} is not {_FORMAT!r}")
        version = metadata.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise CheckpointError(
                f"{source}: schema_version {version!r} is newer than this codeit reads ({SCHEMA_VERSION}); "
                "upgrade codeit to load it"
            )
        priorities = np.asarray(arrays["priorities"], dtype=np.float64)
        if priorities.ndim != 1 or priorities.shape[0] != metadata["size"]:
            raise CheckpointError(
                f"{source}: priorities has shape {priorities.shape}, metadata says size {metadata['size']}"
            )
        tree = cls(max(int(metadata["capacity"]), 1), float(metadata["alpha"]))
        try:
            tree.assign(priorities)
        except ValueError as err:
            raise CheckpointError(f"{source}: {err}") from None
        tree.set_rng_state(np.asarray(arrays["rng_state"], dtype=np.uint64))
        return tree

    def save(self, path: str | os.PathLike) -> None:
        """Write a checkpoint atomically (a temporary file renamed over ``path``)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **self.state_arrays())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SumTree":
        """Read a checkpoint written by ``save``."""
        with np.load(path, allow_pickle=False) as arrays:
            return cls.from_state_arrays({k: arrays[k] for k in arrays.files}, source=str(path))
