"""Prioritized replay for CodeIt: a native sum tree over a durable SQLite experience store.

- ``store.py``: :class:`ExperienceStore`, SQLite (WAL) tables of experiences, solutions, run state.
- ``sumtree.py``: :class:`SumTree`, the C++ 8-ary sum tree, with .npz checkpoints.
- ``replay.py``: :class:`ReplayBuffer`, one tree per origin over a store; the learner owns it.
- ``codec.py``: the compact grid blobs the store writes.

Import from those modules; this package file imports nothing, so that reading the store does
not load the native sum tree.
"""
