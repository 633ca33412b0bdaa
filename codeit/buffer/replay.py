"""The replay buffer: the durable experience store plus one native sum tree per origin.

The process that trains owns the trees; any number of other processes may append to the same
store (they open an :class:`ExperienceStore` and call ``add_experiences``). The owner calls
``refresh()`` to read rows with an id above the last it has seen and add them to the trees.

One tree per origin (seed, mutation, policy, relabel) serves both ways CodeIt draws:
``sample`` draws a training batch with replacement across the chosen origins (an origin is
chosen in proportion to its tree's total, then an item within it, so each item's chance is its
weight over the weight of all chosen origins), and ``draw_without_replacement`` draws a
meta-iteration's training set as a fixed number of distinct items per origin (e.g. 90,000
policy and 10,000 mutation experiences).

Priorities: the store and the trees hold raw priorities; alpha is applied inside the trees
(see :mod:`codeit.buffer.sumtree`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from codeit.buffer.store import ORIGIN_CODE, ORIGINS, Experience, ExperienceStore, StoreConfig
from codeit.buffer.sumtree import CheckpointError, SumTree

_STATE_FORMAT = "codeit.replaybuffer"
STATE_SCHEMA_VERSION = 1


@dataclass
class BufferConfig:
    """Settings of a ReplayBuffer."""

    alpha: float = 1.0
    """Sampling weight = priority ** alpha (0: uniform over positive-priority items; 1: proportional)."""
    seed: int = 0
    """Seeds the trees' generators and the origin split, so a run's draws are reproducible."""
    initial_capacity: int = 1 << 16
    """Starting capacity of each origin's tree (it grows by doubling)."""
    refresh_chunk: int = 200_000
    """Rows read from the store per query in refresh(), to bound memory while catching up."""
    persist_priorities: bool = True
    """Whether update_priorities writes the new priorities to the store at once (one
    transaction per call, milliseconds). When False the changed ids are remembered and written
    by flush_priorities(), which save_state() and close() call: the fast choice when priorities
    change every training step."""
    store: StoreConfig = field(default_factory=StoreConfig)
    """SQLite settings."""


@dataclass
class Batch:
    """A prioritized draw."""

    ids: np.ndarray
    """Experience ids (int64), in draw order."""
    probabilities: np.ndarray
    """Probability with which each was drawn (weight / total weight of the origins drawn from)."""
    population: int
    """Number of items in the origins drawn from (N in the importance weight (N * P) ** -beta)."""
    experiences: list[Experience] | None = None
    """Decoded rows, parallel to ids (None when drawn with decode=False)."""

    def importance_weights(self, beta: float) -> np.ndarray:
        """Prioritized-replay importance weights (N * P) ** -beta, scaled so the largest is 1."""
        w = (self.population * self.probabilities) ** (-beta)
        return w / w.max() if w.size else w


class ReplayBuffer:
    """Prioritized replay over an experience store. Methods: add, refresh, sample, sample_ids,
    update_priorities, flush_priorities, draw_without_replacement, experiences, priorities, size,
    total_priority, save_state, load_state, close."""

    def __init__(self, store_path: str | os.PathLike, config: BufferConfig | None = None):
        self.config = config or BufferConfig()
        self.store = ExperienceStore(store_path, self.config.store)
        self._rng = np.random.default_rng(self.config.seed)
        self._trees = [
            SumTree(self.config.initial_capacity, self.config.alpha, self.config.seed * len(ORIGINS) + code)
            for code in range(len(ORIGINS))
        ]
        self._ids = [np.empty(self.config.initial_capacity, np.int64) for _ in ORIGINS]
        # Experience id -> (origin code, position in that origin's tree); -1 = not in a tree.
        self._code_of_id = np.full(1024, -1, np.int8)
        self._pos_of_id = np.full(1024, -1, np.int64)
        self._last_seen_id = 0
        self._dirty_ids: list[np.ndarray] = []  # updated in the trees, not yet in the store
        self.refresh()

    # -- following the store --------------------------------------------------------------------

    def add(self, experiences: Sequence[Experience]) -> int:
        """Write a batch to the store (one transaction; duplicates skipped), then refresh.
        Returns how many rows were inserted."""
        inserted = self.store.add_experiences(experiences)
        self.refresh()
        return inserted

    def refresh(self) -> int:
        """Add rows appended to the store since the last refresh (by anyone) to the trees.
        Returns how many were added."""
        added = 0
        while True:
            ids, codes, priorities = self.store.rows_after(self._last_seen_id, self.config.refresh_chunk)
            if ids.size == 0:
                return added
            self._track(ids, codes, priorities)
            self._last_seen_id = int(ids[-1])
            added += ids.size

    def _track(self, ids: np.ndarray, codes: np.ndarray, priorities: np.ndarray) -> None:
        top = int(ids[-1])
        if top >= self._code_of_id.size:
            new_size = max(top + 1, 2 * self._code_of_id.size)
            self._code_of_id = np.concatenate([self._code_of_id, np.full(new_size - self._code_of_id.size, -1, np.int8)])
            self._pos_of_id = np.concatenate([self._pos_of_id, np.full(new_size - self._pos_of_id.size, -1, np.int64)])
        for code in np.unique(codes):
            mask = codes == code
            sel_ids = ids[mask]
            tree = self._trees[code]
            first = tree.add(priorities[mask])
            end = first + sel_ids.size
            if end > self._ids[code].size:
                grown = np.empty(max(end, 2 * self._ids[code].size), np.int64)
                grown[:first] = self._ids[code][:first]
                self._ids[code] = grown
            self._ids[code][first:end] = sel_ids
            self._code_of_id[sel_ids] = code
            self._pos_of_id[sel_ids] = np.arange(first, end, dtype=np.int64)

    # -- sizes ----------------------------------------------------------------------------------

    def size(self, origin: str | None = None) -> int:
        """Number of experiences in the trees (of one origin, or all)."""
        if origin is None:
            return sum(t.size for t in self._trees)
        return self._trees[self._code(origin)].size

    def __len__(self) -> int:
        return self.size()

    def total_priority(self, origin: str | None = None) -> float:
        """Sum of sampling weights (of one origin, or all)."""
        if origin is None:
            return float(sum(t.total() for t in self._trees))
        return self._trees[self._code(origin)].total()

    @staticmethod
    def _code(origin: str) -> int:
        try:
            return ORIGIN_CODE[origin]
        except KeyError:
            raise ValueError(f"unknown origin {origin!r}; expected one of {ORIGINS}") from None

    # -- sampling -------------------------------------------------------------------------------

    def sample_ids(
        self, batch_size: int, origins: Sequence[str] | None = None, stratified: bool = False
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """(ids, probabilities, population) of batch_size draws with replacement."""
        codes = [self._code(o) for o in origins] if origins is not None else list(range(len(ORIGINS)))
        totals = np.array([self._trees[c].total() for c in codes], dtype=np.float64)
        grand = float(totals.sum())
        if not grand > 0:
            raise ValueError(
                f"sample: no experience with a positive priority in origins {[ORIGINS[c] for c in codes]}"
            )
        counts = self._rng.multinomial(batch_size, totals / grand)
        ids_parts, prob_parts = [], []
        for c, count, total in zip(codes, counts, totals):
            if count == 0:
                continue
            positions, probs = self._trees[c].sample(int(count), stratified, True)
            ids_parts.append(self._ids[c][positions])
            prob_parts.append(probs * (total / grand))
        ids = np.concatenate(ids_parts)
        probs = np.concatenate(prob_parts)
        if len(ids_parts) > 1:
            order = self._rng.permutation(ids.size)
            ids, probs = ids[order], probs[order]
        population = sum(self._trees[c].size for c in codes)
        return ids, probs, population

    def sample(
        self, batch_size: int, origins: Sequence[str] | None = None, stratified: bool = False, decode: bool = True
    ) -> Batch:
        """A prioritized training batch (with replacement), rows decoded unless decode=False."""
        ids, probs, population = self.sample_ids(batch_size, origins, stratified)
        experiences = self.store.get_experiences(ids) if decode else None
        return Batch(ids=ids, probabilities=probs, population=population, experiences=experiences)

    def draw_without_replacement(self, counts: Mapping[str, int], positive_only: bool = False) -> dict[str, np.ndarray]:
        """Distinct experience ids per origin, drawn in proportion to priority (successive
        sampling), e.g. ``{"policy": 90_000, "mutation": 10_000}``. An origin with fewer items
        than asked gives all of them. Once an origin's positive-priority items are exhausted the
        rest are uniform among its zero-priority ones, unless positive_only."""
        result = {}
        for origin, count in counts.items():
            code = self._code(origin)
            if count < 0:
                raise ValueError(f"draw_without_replacement: count for {origin!r} is negative ({count})")
            tree = self._trees[code]
            positions, n_positive = tree.sample_without_replacement(min(int(count), tree.size))
            if positive_only:
                positions = positions[:n_positive]
            result[origin] = self._ids[code][positions]
        return result

    def experiences(self, ids: Sequence[int]) -> list[Experience]:
        """Decoded rows for ids, in order."""
        return self.store.get_experiences(ids)

    # -- priorities -----------------------------------------------------------------------------

    def priorities(self, ids: Sequence[int]) -> np.ndarray:
        """Current raw priorities of ids (from the trees)."""
        ids = np.asarray(ids, dtype=np.int64)
        codes, positions = self._locate(ids, "priorities")
        out = np.empty(ids.size, np.float64)
        for code in np.unique(codes):
            mask = codes == code
            out[mask] = self._trees[code].get(positions[mask])
        return out

    def _locate(self, ids: np.ndarray, call: str) -> tuple[np.ndarray, np.ndarray]:
        if ids.ndim != 1:
            raise ValueError(f"{call}: ids must be one-dimensional")
        known = (ids > 0) & (ids < self._code_of_id.size)
        codes = np.where(known, self._code_of_id[np.where(known, ids, 0)], -1)
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"{call}: ids[{k}] = {int(ids[k])} is not an experience in this buffer "
                f"(last id seen {self._last_seen_id}; nothing was changed)"
            )
        return codes, self._pos_of_id[ids]

    def update_priorities(self, ids: Sequence[int], priorities: Sequence[float]) -> None:
        """Set new raw priorities for ids (trees, and the store if config.persist_priorities).
        Everything is validated before anything changes; with repeated ids the last one wins."""
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"update_priorities: ids must be integers, got dtype {ids.dtype}")
        ids = ids.astype(np.int64, copy=False)
        priorities = np.asarray(priorities, dtype=np.float64)
        if priorities.shape != ids.shape:
            raise ValueError(
                f"update_priorities: {ids.size} ids but {priorities.size} priorities (nothing was changed)"
            )
        bad = np.flatnonzero(~np.isfinite(priorities) | (priorities < 0))
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"update_priorities: priorities[{k}] = {float(priorities[k])} is not finite and >= 0 (nothing was changed)"
            )
        codes, positions = self._locate(ids, "update_priorities")
        if self.config.persist_priorities:
            self.store.update_priorities(ids, priorities)
        else:
            self._dirty_ids.append(ids.copy())
        for code in np.unique(codes):
            mask = codes == code
            self._trees[code].update(positions[mask], priorities[mask])

    def flush_priorities(self) -> int:
        """Write the priorities changed since the last flush to the store (one transaction).
        Returns how many rows were written."""
        if not self._dirty_ids:
            return 0
        ids = np.unique(np.concatenate(self._dirty_ids))
        self.store.update_priorities(ids, self.priorities(ids))
        self._dirty_ids.clear()
        return int(ids.size)

    # -- checkpoints ----------------------------------------------------------------------------

    def save_state(self, path: str | os.PathLike) -> None:
        """Checkpoint the trees, id maps and generators (plain arrays + JSON metadata, .npz).
        The store itself is already durable; this makes reopening fast and draws reproducible."""
        self.flush_priorities()
        arrays: dict[str, np.ndarray] = {}
        for code, origin in enumerate(ORIGINS):
            for key, value in self._trees[code].state_arrays().items():
                arrays[f"{origin}.{key}"] = value
            arrays[f"{origin}.ids"] = self._ids[code][: self._trees[code].size].copy()
        metadata = {
            "format": _STATE_FORMAT,
            "schema_version": STATE_SCHEMA_VERSION,
            "last_seen_id": self._last_seen_id,
            "alpha": self.config.alpha,
            "store": str(self.store.path),
            "origin_rng": self._rng.bit_generator.state,
        }
        arrays["metadata"] = np.array(json.dumps(metadata))
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)

    def load_state(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint from save_state, then refresh rows appended since. Everything is
        read and checked before the buffer changes."""
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        if "metadata" not in arrays:
            raise CheckpointError(f"{path}: no metadata; not a replay-buffer checkpoint")
        metadata = json.loads(str(arrays["metadata"][()]))
        if metadata.get("format") != _STATE_FORMAT:
            raise CheckpointError(f"{path}: format {metadata.get('format')!r} is not {_STATE_FORMAT!r}")
        version = metadata.get("schema_version")
        if not isinstance(version, int) or version > STATE_SCHEMA_VERSION:
            raise CheckpointError(
                f"{path}: schema_version {version!r} is newer than this codeit reads ({STATE_SCHEMA_VERSION})"
            )
        trees, id_lists = [], []
        for origin in ORIGINS:
            tree_arrays = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(origin + ".")}
            tree = SumTree.from_state_arrays(tree_arrays, source=f"{path} [{origin}]")
            ids = np.asarray(tree_arrays.get("ids", np.empty(0)), dtype=np.int64)
            if ids.size != tree.size:
                raise CheckpointError(f"{path} [{origin}]: {ids.size} ids for a tree of {tree.size} items")
            if tree.alpha != self.config.alpha:
                tree.set_alpha(self.config.alpha)
            trees.append(tree)
            id_lists.append(ids)
        last_seen = int(metadata["last_seen_id"])
        if last_seen > self.store.max_experience_id():
            raise CheckpointError(
                f"{path}: checkpoint has seen id {last_seen} but {self.store.path} ends at {self.store.max_experience_id()}"
            )
        size = max(1024, last_seen + 1)
        code_of_id = np.full(size, -1, np.int8)
        pos_of_id = np.full(size, -1, np.int64)
        for code, ids in enumerate(id_lists):
            code_of_id[ids] = code
            pos_of_id[ids] = np.arange(ids.size, dtype=np.int64)
        rng = np.random.default_rng()
        rng.bit_generator.state = metadata["origin_rng"]
        self._trees, self._ids = trees, [ids.copy() if ids.size else np.empty(16, np.int64) for ids in id_lists]
        self._code_of_id, self._pos_of_id = code_of_id, pos_of_id
        self._dirty_ids.clear()
        self._last_seen_id = last_seen
        self._rng = rng
        self.refresh()

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        self.flush_priorities()
        self.store.close()

    def __enter__(self) -> "ReplayBuffer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
