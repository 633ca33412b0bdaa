"""Running many (program, input grid) jobs: the one interface every backend implements.

The loop, the mutation baseline, evaluation and the commands hand an executor a list of programs,
a list of grids and the jobs as (program index, grid index) rows; it returns per job the status
code, the steps used and the output grid, packed (:class:`codeit.grids.GridBatch`).

Backends: ``native`` (the C++ batch interpreter, the fast path), ``reference`` (the Python
oracle the tests compare against) and ``ray`` (native interpreters on Ray actors);
``codeit.execute.backends`` builds one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from codeit.execute.limits import Limits
from codeit.grids import GridBatch

@dataclass(frozen=True)
class ExecResult:
    """Per job: status code (dsl.values.Status), steps used, output grid (empty unless OK)."""

    status: np.ndarray
    steps: np.ndarray
    outputs: GridBatch


class Executor(Protocol):
    name: str
    """The backend's name, as logged by commands and written to run summaries."""
    limits: Limits

    def run(self, programs: Sequence, grids: Sequence[np.ndarray], jobs: np.ndarray) -> ExecResult:
        """Run ``programs[jobs[k, 0]]`` on ``grids[jobs[k, 1]]`` for every row k of ``jobs``."""
        ...


def cross_jobs(n_programs: int, grid_index: Sequence[int] | np.ndarray) -> np.ndarray:
    """Jobs running every program on the same grids, program-major: [p * len(grids) + g]."""
    grid_index = np.asarray(grid_index, dtype=np.int64)
    p = np.repeat(np.arange(n_programs, dtype=np.int64), len(grid_index))
    g = np.tile(grid_index, n_programs)
    return np.stack([p, g], axis=1)
