"""Native versus reference: run the same (program, grid) jobs through both interpreters and list
every job whose outcome differs (status, output grid, steps, failing line).

A TIMEOUT on either side is wall-clock luck, not a semantic difference, and is never reported.
Used by the alignment tests and by ``bench/interp.py`` (which checks its corpus first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from codeit.dsl.interpreter import RunResult
from codeit.dsl.interpreter import run as reference_run
from codeit.dsl.program import Program
from codeit.dsl.values import Status
from codeit.execute.native import BatchResult, Limits, NativeInterpreter


@dataclass(frozen=True)
class Mismatch:
    """One job on which the two interpreters disagree."""

    program: int
    """Index of the program."""
    grid: int
    """Index of the input grid."""
    field: str
    """What differs: ``status``, ``output``, ``steps`` or ``error_line``."""
    reference: Any
    native: Any
    reference_error: str | None
    """The reference's error message, when it failed."""

    def describe(self, programs: Sequence[Program] | None = None) -> str:
        text = (f"program {self.program} on grid {self.grid}: {self.field} "
                f"reference={self.reference!r} native={self.native!r}")
        if self.reference_error:
            text += f"  ({self.reference_error})"
        if programs is not None:
            text += "\n" + str(programs[self.program])
        return text


def reference_results(programs: Sequence[Program], grids: Sequence[Any], jobs: np.ndarray,
                      limits: Limits) -> list[RunResult]:
    """The reference interpreter's result for every job."""
    return [reference_run(programs[p], grids[g], max_steps=limits.max_steps, time_limit=limits.time_limit,
                          max_value_size=limits.max_value_size) for p, g in jobs]


def compare(programs: Sequence[Program], grids: Sequence[Any], native: BatchResult,
            reference: Sequence[RunResult], *, check_steps: bool = True) -> list[Mismatch]:
    """Every disagreement between a native batch and the reference results of the same jobs."""
    out: list[Mismatch] = []
    for k, ((p, g), ref) in enumerate(zip(native.jobs, reference)):
        p, g = int(p), int(g)
        ns = Status(int(native.status[k]))
        if ns == Status.TIMEOUT or ref.status == Status.TIMEOUT:
            continue

        def report(field: str, r: Any, n: Any) -> None:
            out.append(Mismatch(p, g, field, r, n, ref.error))

        if ns != ref.status:
            report("status", ref.status.name, ns.name)
            continue
        if ns == Status.OK and native.output(k) != ref.output:
            report("output", ref.output, native.output(k))
            continue
        if check_steps and int(native.steps[k]) != ref.steps:
            report("steps", ref.steps, int(native.steps[k]))
            continue
        line = int(native.error_line[k])
        native_line = programs[p].source_line(line) if line >= 0 else None
        if native_line != ref.error_line:
            report("error_line", ref.error_line, native_line)
    return out


def align(programs: Sequence[Program], grids: Sequence[Any], jobs: np.ndarray | None = None, *,
          limits: Limits = Limits(), interpreter: NativeInterpreter | None = None,
          check_steps: bool = True) -> tuple[list[Mismatch], BatchResult, list[RunResult]]:
    """Run the jobs (default: every program on every grid) both ways; the mismatches and both
    results."""
    if jobs is None:
        jobs = np.array([(p, g) for p in range(len(programs)) for g in range(len(grids))], dtype=np.int32)
    jobs = np.asarray(jobs, dtype=np.int32).reshape(-1, 2)
    interpreter = interpreter or NativeInterpreter(threads=1, limits=limits)
    native = interpreter.run_batch(programs, grids, jobs, limits=limits)
    reference = reference_results(programs, grids, jobs, limits)
    return compare(programs, grids, native, reference, check_steps=check_steps), native, reference
