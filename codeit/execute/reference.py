"""The Python reference interpreter behind the ``Executor`` interface: the oracle, not the fast path."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from codeit.dsl.interpreter import RunResult, run
from codeit.dsl.program import Program, parse
from codeit.execute.executor import ExecResult
from codeit.execute.limits import Limits
from codeit.grids import SIDE, GridBatch


def run_reference(program: Program, grid, limits: Limits) -> RunResult:
    """One program on one grid under every field of ``limits``."""
    return run(program, grid, max_steps=limits.max_steps, time_limit=limits.time_limit,
               max_value_size=limits.max_value_size, max_depth=limits.max_depth, max_memory=limits.max_memory)


class ReferenceExecutor:
    """Runs jobs one after another in this thread."""

    name = "reference"

    def __init__(self, *, limits: Limits | None = None):
        self.limits = limits if limits is not None else Limits()

    def run(self, programs: Sequence[Program | str], grids: Sequence[np.ndarray], jobs: np.ndarray) -> ExecResult:
        programs = [parse(p) if isinstance(p, str) else p for p in programs]
        n = len(jobs)
        status = np.zeros(n, dtype=np.int32)
        steps = np.zeros(n, dtype=np.int64)
        data = np.zeros((n, SIDE, SIDE), dtype=np.uint8)
        shapes = np.zeros((n, 2), dtype=np.int32)
        for k, (p, g) in enumerate(jobs):
            r = run_reference(programs[p], grids[g], self.limits)
            status[k] = int(r.status)
            steps[k] = r.steps
            if r.output is not None:
                out = np.array(r.output, dtype=np.uint8)
                data[k, : out.shape[0], : out.shape[1]] = out
                shapes[k] = out.shape
        return ExecResult(status, steps, GridBatch(data, shapes))
