"""Native versus reference: run the same (program, grid) jobs through both interpreters and list
every job whose outcome differs (status, output grid, steps, failing line).

A TIMEOUT on either side is wall-clock luck, not a semantic difference, and is never reported.
Known reference behaviours that the contract rules out (an order that follows CPython's set
order, ``fuzz.reference_uses_set_order``) are recognised by re-computing the arguments of the
line where the runs part, and set aside as ``known`` rather than reported.
Used by the alignment tests and by ``bench/interp.py`` (which checks its corpus first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from codeit.dsl.interpreter import RunResult, as_grid
from codeit.dsl.program import Program
from codeit.dsl.values import Status
from codeit.execute.limits import Limits
from codeit.execute.native import BatchResult, NativeInterpreter
from codeit.execute.reference import run_reference


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
    reference_line: int | None
    """0-based IR index of the line the reference failed on."""
    native_line: int | None
    """0-based IR index of the line the native run failed on."""

    def describe(self, programs: Sequence[Program] | None = None) -> str:
        text = (f"program {self.program} on grid {self.grid}: {self.field} "
                f"reference={self.reference!r} native={self.native!r} "
                f"(failing line: reference {self.reference_line}, native {self.native_line})")
        if self.reference_error:
            text += f"  [{self.reference_error}]"
        if programs is not None:
            text += "\n" + str(programs[self.program])
        return text


def _ir_index(program: Program, source_line: int | None) -> int | None:
    if source_line is None:
        return None
    for k in range(len(program.lines)):
        if program.source_line(k) == source_line:
            return k
    return None


def reference_results(programs: Sequence[Program], grids: Sequence[Any], jobs: np.ndarray,
                      limits: Limits) -> list[RunResult]:
    """The reference interpreter's result for every job."""
    return [run_reference(programs[p], grids[g], limits) for p, g in jobs]


def compare(programs: Sequence[Program], native: BatchResult, reference: Sequence[RunResult], *,
            check_steps: bool = True) -> list[Mismatch]:
    """Every disagreement between a native batch and the reference results of the same jobs."""
    out: list[Mismatch] = []
    for k, ((p, g), ref) in enumerate(zip(native.jobs, reference)):
        p, g = int(p), int(g)
        ns = Status(int(native.status[k]))
        if ns == Status.TIMEOUT or ref.status == Status.TIMEOUT:
            continue
        line = int(native.error_line[k])
        native_line = line if line >= 0 else None
        ref_line = _ir_index(programs[p], ref.error_line)

        def report(field: str, r: Any, n: Any) -> None:
            out.append(Mismatch(p, g, field, r, n, ref.error, ref_line, native_line))

        if ns != ref.status:
            report("status", ref.status.name, ns.name)
        elif ns == Status.OK and native.output(k) != ref.output:
            report("output", ref.output, native.output(k))
        elif check_steps and int(native.steps[k]) != ref.steps:
            report("steps", ref.steps, int(native.steps[k]))
        elif native_line != ref_line:
            report("error_line", ref_line, native_line)
    return out


def line_arguments(program: Program, grid: Any, line: int, limits: Limits = Limits()) -> tuple[Any, tuple] | None:
    """(callee, argument values) of one line as the reference computes them; None when an
    earlier line fails."""
    from codeit.dsl import functions, registry
    from codeit.dsl.constants import CONSTANTS

    grid = as_grid(grid)
    values: list[Any] = []

    def value(ref):
        if ref.kind == "var":
            return values[ref.value]
        if ref.kind == "input":
            return grid
        if ref.kind == "const":
            return CONSTANTS[ref.value]
        return registry.primitive(ref.value).function

    budget = functions.Budget(max_steps=limits.max_steps, max_value_size=limits.max_value_size)
    with functions.active(budget):
        for k, ln in enumerate(program.lines):
            func, args = value(ln.func), tuple(value(a) for a in ln.args)
            if k == line:
                return func, args
            try:
                values.append(func(*args))
            except Exception:  # an earlier line fails: nothing to explain here
                return None
    return None


def known_reference_divergence(program: Program, grid: Any, mismatch: Mismatch) -> bool:
    """Whether the line where the runs part is one whose reference answer depends on CPython's
    set order (``fuzz.reference_uses_set_order``)."""
    from codeit.dsl.functions import Primitive
    from codeit.execute.fuzz import reference_uses_set_order

    for line in {mismatch.native_line, mismatch.reference_line} - {None}:
        found = line_arguments(program, grid, line)
        if found is None:
            continue
        func, args = found
        if isinstance(func, Primitive) and reference_uses_set_order(func.name, args):
            return True
    return False


@dataclass(frozen=True)
class Alignment:
    """The outcome of running jobs both ways."""

    mismatches: list[Mismatch]
    """Disagreements not explained by a known reference behaviour."""
    known: list[Mismatch]
    """Disagreements explained by ``known_reference_divergence``."""
    native: BatchResult
    reference: list[RunResult]


def align(programs: Sequence[Program], grids: Sequence[Any], jobs: np.ndarray | None = None, *,
          limits: Limits = Limits(), interpreter: NativeInterpreter | None = None,
          check_steps: bool = True) -> Alignment:
    """Run the jobs (default: every program on every grid) both ways and compare."""
    if jobs is None:
        jobs = np.array([(p, g) for p in range(len(programs)) for g in range(len(grids))], dtype=np.int32)
    jobs = np.asarray(jobs, dtype=np.int32).reshape(-1, 2)
    interpreter = interpreter or NativeInterpreter(threads=1, limits=limits)
    native = interpreter.run_batch(programs, grids, jobs, limits=limits)
    reference = reference_results(programs, grids, jobs, limits)
    found = compare(programs, native, reference, check_steps=check_steps)
    known = [m for m in found if known_reference_divergence(programs[m.program], grids[m.grid], m)]
    unexplained = [m for m in found if m not in known]
    return Alignment(unexplained, known, native, reference)
