"""The replay buffer: the durable experience store plus one native sum tree per origin.

The process that trains owns the trees; any number of other processes may append to the same
store (they open an :class:`ExperienceStore` and call ``add_experiences``). The owner calls
``refresh()`` to read rows with an id above the last it has seen and add them to the trees.

One tree per origin (seed, mutation, policy, relabel) serves the way CodeIt draws:
``draw_without_replacement`` draws a meta-iteration's training set as a fixed number of
distinct items per origin (e.g. 90,000 policy and 10,000 mutation experiences), each origin's
items in proportion to their priority; ``draw_with_replacement`` draws the same counts as
independent weighted draws, so a few high-priority experiences fill a large share of the set. Priorities are fixed when an experience is stored (its
demo accuracy), so the trees need no updates.

Priorities: the store and the trees hold raw priorities; alpha is applied inside the trees
(see :mod:`codeit.buffer.sumtree`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from codeit.buffer.store import ORIGIN_CODE, ORIGINS, Experience, ExperienceStore, StoreConfig
from codeit.buffer.sumtree import SumTree

@dataclass
class BufferConfig:
    """Settings of a ReplayBuffer."""

    alpha: float = 1.0
    """Sampling weight = priority ** alpha (0: uniform over positive-priority items; 1: proportional)."""
    priority_floor: float = 0.0
    """Added to every stored priority as it enters a tree (the store keeps the raw one), so that an
    experience solving no demo (priority 0) is still drawn now and then, as in prioritized replay's
    epsilon; with alpha 0 and a positive floor every experience weighs the same."""
    seed: int = 0
    """Seeds the trees' generators and the origin split, so a run's draws are reproducible."""
    initial_capacity: int = 1 << 16
    """Starting capacity of each origin's tree (it grows by doubling)."""
    refresh_chunk: int = 200_000
    """Rows read from the store per query in refresh(), to bound memory while catching up."""
    store: StoreConfig = field(default_factory=StoreConfig)
    """SQLite settings."""


class ReplayBuffer:
    """Prioritized replay over an experience store: refresh, draw_without_replacement,
    draw_with_replacement, experiences, size, close."""

    def __init__(self, store_path: str | os.PathLike, config: BufferConfig | None = None):
        self.config = config or BufferConfig()
        self.store = ExperienceStore(store_path, self.config.store)
        self._rng = np.random.default_rng(self.config.seed)
        self._trees = [
            SumTree(self.config.initial_capacity, self.config.alpha, self.config.seed * len(ORIGINS) + code)
            for code in range(len(ORIGINS))
        ]
        self._ids = [np.empty(self.config.initial_capacity, np.int64) for _ in ORIGINS]
        self._last_seen_id = 0
        self.refresh()

    # -- following the store --------------------------------------------------------------------

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
        for code in np.unique(codes):
            mask = codes == code
            sel_ids = ids[mask]
            tree = self._trees[code]
            first = tree.add(priorities[mask] + self.config.priority_floor)
            end = first + sel_ids.size
            if end > self._ids[code].size:
                grown = np.empty(max(end, 2 * self._ids[code].size), np.int64)
                grown[:first] = self._ids[code][:first]
                self._ids[code] = grown
            self._ids[code][first:end] = sel_ids

    # -- sizes ----------------------------------------------------------------------------------

    def size(self, origin: str | None = None) -> int:
        """Number of experiences in the trees (of one origin, or all)."""
        if origin is None:
            return sum(t.size for t in self._trees)
        return self._trees[self._code(origin)].size

    def __len__(self) -> int:
        return self.size()

    @staticmethod
    def _code(origin: str) -> int:
        try:
            return ORIGIN_CODE[origin]
        except KeyError:
            raise ValueError(f"unknown origin {origin!r}; expected one of {ORIGINS}") from None

    # -- drawing ----------------------------------------------------------------------------------

    def reseed(self, seed: int) -> None:
        """Restart every generator the draws use from ``seed``: draws after it depend on the seed
        and the stored rows only, not on the draws before (a learner restarted after a kill draws
        what the one that was killed would have)."""
        self._rng = np.random.default_rng(seed)
        for code, tree in enumerate(self._trees):
            tree.reseed(seed * len(ORIGINS) + code)

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

    def draw_with_replacement(self, counts: Mapping[str, int]) -> dict[str, np.ndarray]:
        """Experience ids per origin, each draw independent and in proportion to weight, so an
        experience that solves its task is drawn many times in one meta-iteration while a
        distinct-items draw takes it once. An origin whose items all weigh 0 is drawn uniformly;
        an empty one gives nothing."""
        result = {}
        for origin, count in counts.items():
            code = self._code(origin)
            if count < 0:
                raise ValueError(f"draw_with_replacement: count for {origin!r} is negative ({count})")
            tree = self._trees[code]
            if tree.size == 0 or count == 0:
                positions = np.zeros(0, np.int64)
            elif tree.total() > 0:
                positions = tree.sample(int(count))
            else:
                positions = self._rng.integers(0, tree.size, int(count))
            result[origin] = self._ids[code][positions]
        return result

    def experiences(self, ids: Sequence[int]) -> list[Experience]:
        """Decoded rows for ids, in order."""
        return self.store.get_experiences(ids)

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "ReplayBuffer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
