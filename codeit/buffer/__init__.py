"""Prioritized replay for CodeIt: a native sum tree over a durable SQLite experience store.

- :class:`SumTree` (``sumtree.py``): the C++ 8-ary sum tree, with .npz checkpoints.
- :class:`ExperienceStore` (``store.py``): SQLite (WAL) tables of experiences, solutions, run state.
- :class:`ReplayBuffer` (``buffer.py``): one tree per origin over a store; the training process owns it.
- ``grids.py``: the compact grid blobs the store writes.
"""

from codeit.buffer.replay import Batch, BufferConfig, ReplayBuffer
from codeit.buffer.codec import decode_grids, encode_grids
from codeit.buffer.store import (
    ORIGINS,
    SCHEMA_VERSION,
    Experience,
    ExperienceStore,
    Solution,
    StoreConfig,
    StoreVersionError,
)
from codeit.buffer.sumtree import CheckpointError, SumTree, SumTreeValueError

__all__ = [
    "Batch",
    "BufferConfig",
    "CheckpointError",
    "Experience",
    "ExperienceStore",
    "ORIGINS",
    "ReplayBuffer",
    "SCHEMA_VERSION",
    "Solution",
    "StoreConfig",
    "StoreVersionError",
    "SumTree",
    "SumTreeValueError",
    "decode_grids",
    "encode_grids",
]
