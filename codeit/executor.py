"""Running many (program, input grid) jobs: one interface over the native and reference interpreters.

The loop, the mutation baseline and evaluation hand an executor a list of programs, a list of
grids and the jobs as (program index, grid index) rows; it returns per job the status code, the
steps used and the output grid, packed (:class:`codeit.grids.GridBatch`). The native backend is the
fast path; the reference backend runs the Python oracle and is what tests compare against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from codeit.dsl.interpreter import run as reference_run
from codeit.dsl.program import Program
from codeit.grids import SIDE, GridBatch


@dataclass(frozen=True)
class Limits:
    """Hard limits of one job, enforced inside the interpreter."""

    time_limit: float = 0.25
    """Wall-time budget per job, in seconds."""
    max_steps: int = 20_000
    """Primitive applications allowed per job."""
    max_value_size: int = 200_000
    """Cap on the size of every intermediate value (dsl/README.md)."""


@dataclass(frozen=True)
class ExecResult:
    """Per job: status code (dsl.values.Status), steps used, output grid (empty unless OK)."""

    status: np.ndarray
    steps: np.ndarray
    outputs: GridBatch


class Executor(Protocol):
    def run(self, programs: Sequence[Program], grids: Sequence[np.ndarray], jobs: np.ndarray) -> ExecResult:
        """Run ``programs[jobs[k, 0]]`` on ``grids[jobs[k, 1]]`` for every row k of ``jobs``."""
        ...


def cross_jobs(n_programs: int, grid_index: Sequence[int] | np.ndarray) -> np.ndarray:
    """Jobs running every program on the same grids, program-major: [p * len(grids) + g]."""
    grid_index = np.asarray(grid_index, dtype=np.int64)
    p = np.repeat(np.arange(n_programs, dtype=np.int64), len(grid_index))
    g = np.tile(grid_index, n_programs)
    return np.stack([p, g], axis=1)


class ReferenceExecutor:
    """The Python reference interpreter, one job after another (the oracle, not the fast path)."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits

    def run(self, programs: Sequence[Program], grids: Sequence[np.ndarray], jobs: np.ndarray) -> ExecResult:
        n = len(jobs)
        status = np.zeros(n, dtype=np.int32)
        steps = np.zeros(n, dtype=np.int64)
        data = np.zeros((n, SIDE, SIDE), dtype=np.uint8)
        shapes = np.zeros((n, 2), dtype=np.int32)
        for k, (p, g) in enumerate(jobs):
            r = reference_run(
                programs[p],
                grids[g],
                max_steps=self.limits.max_steps,
                time_limit=self.limits.time_limit,
                max_value_size=self.limits.max_value_size,
            )
            status[k] = int(r.status)
            steps[k] = r.steps
            if r.output is not None:
                out = np.array(r.output, dtype=np.uint8)
                data[k, : out.shape[0], : out.shape[1]] = out
                shapes[k] = out.shape
        return ExecResult(status, steps, GridBatch(data, shapes))


def make_executor(backend: str = "auto", limits: Limits = Limits(), threads: int = 0) -> Executor:
    """``native`` (the C++ batch interpreter), ``reference`` (Python), or ``auto`` (native when built)."""
    if backend in ("native", "auto"):
        try:
            from codeit.execute.native import NativeExecutor
        except ImportError:
            if backend == "native":
                raise
        else:
            return NativeExecutor(limits=limits, threads=threads)
    if backend in ("reference", "auto"):
        return ReferenceExecutor(limits)
    raise ValueError(f"unknown executor backend {backend!r}: use native, reference or auto")
