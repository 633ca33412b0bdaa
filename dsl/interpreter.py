"""The reference interpreter: runs a program's IR on one grid and never raises.

Each line's callee and arguments are resolved to values (the input grid, earlier results,
constants, primitives as function values) and the callee is called under the run's ``Budget``
(steps, wall-time deadline, size cap), which every primitive application ticks. The result of
every line is checked against the size cap, and ``O`` must be a valid ARC grid. Any failure
becomes a status (``values.status_of_exception``) with the failing line; nothing escapes, and
no program text is ever evaluated: the interpreter only reads the IR.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from codeit.dsl import registry
from codeit.dsl.constants import CONSTANTS
from codeit.dsl.functions import Budget, active
from codeit.dsl.program import Program, Ref
from codeit.dsl.values import (
    SizeLimitExceeded,
    Status,
    describe,
    is_valid_arc_grid,
    status_of_exception,
    value_size,
)

_MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class RunResult:
    """The outcome of one program on one grid."""

    status: Status
    """OK, or why the run failed (dsl/README.md's status table)."""
    output: tuple[tuple[int, ...], ...] | None
    """The output grid when ``status`` is OK, else None."""
    error_line: int | None
    """1-based (source) line that failed; None when OK, or when the output was bad."""
    error: str | None
    """A short message of what went wrong; None when OK."""
    steps: int
    """Primitive applications made."""

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


def as_grid(grid: Any) -> tuple[tuple[int, ...], ...]:
    """A numpy array or nested sequence of ints as the DSL's tuple-of-tuples grid."""
    if isinstance(grid, np.ndarray):
        if grid.ndim != 2:
            raise ValueError(f"a grid must be 2-dimensional, got shape {grid.shape}")
        return tuple(tuple(row) for row in grid.astype(np.int64).tolist())
    rows = tuple(tuple(int(x) for x in row) for row in grid)
    if rows and len({len(r) for r in rows}) != 1:
        raise ValueError("a grid's rows must all have the same length")
    return rows


def _plain_grid(value: tuple) -> tuple[tuple[int, ...], ...]:
    # bools are ints in the DSL; the output is reported with plain ints.
    for row in value:
        for x in row:
            if type(x) is not int:
                return tuple(tuple(int(x) for x in row) for row in value)
    return value


def _short(exc: BaseException) -> str:
    text = str(exc)
    if len(text) > _MAX_ERROR_CHARS:
        text = text[:_MAX_ERROR_CHARS] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _value_of(ref: Ref, grid: tuple, results: list) -> Any:
    kind = ref.kind
    if kind == "var":
        return results[ref.value]
    if kind == "input":
        return grid
    if kind == "const":
        return CONSTANTS[ref.value]
    return registry.primitive(ref.value).function


def run(program: Program, grid: Any, *, max_steps: int = 100_000, time_limit: float | None = 1.0,
        max_value_size: int = 1_000_000, max_depth: int = 900, max_memory: int | None = 128 << 20) -> RunResult:
    """Run ``program`` on ``grid`` (numpy array or tuple of tuples) within the given limits.

    ``time_limit`` is wall seconds (None: unlimited); ``max_memory`` is the bytes the run may
    grow this process's resident memory by (``Budget.max_memory``; None: no cap). Never raises:
    every failure, of the program or of its input, is a status in the result.
    """
    budget = Budget(max_steps=max_steps, deadline=None, max_value_size=max_value_size, max_depth=max_depth,
                    max_memory=max_memory)
    line_index: int | None = None
    try:
        grid_value = as_grid(grid)
    except Exception as exc:  # a bad input is this run's failure, not the caller's crash
        return RunResult(status_of_exception(exc), None, None, f"input: {_short(exc)}", 0)
    try:
        if time_limit is not None:
            budget.deadline = time.perf_counter() + time_limit
        results: list[Any] = []
        with active(budget):
            for line_index, line in enumerate(program.lines):
                func = _value_of(line.func, grid_value, results)
                args = [_value_of(a, grid_value, results) for a in line.args]
                if not callable(func):
                    raise TypeError(f"{describe(func)} is not a function")
                value = func(*args)
                # bounded count: a value sharing its parts may be huge counted, small in memory
                if value_size(value, max_value_size) > max_value_size:
                    raise SizeLimitExceeded(f"the line's value exceeds the size cap of {max_value_size}")
                budget.check_clock()
                results.append(value)
        line_index = None
        if not results:
            return RunResult(Status.BAD_OUTPUT, None, None, "the program has no lines", budget.steps)
        output = results[-1]
        if not is_valid_arc_grid(output):
            return RunResult(Status.BAD_OUTPUT, None, None,
                             f"O is {describe(output)}, not a valid ARC grid", budget.steps)
        return RunResult(Status.OK, _plain_grid(output), None, None, budget.steps)
    except Exception as exc:  # RecursionError and MemoryError included: a run never raises
        error_line = program.source_line(line_index) if line_index is not None else None
        return RunResult(status_of_exception(exc), None, error_line, _short(exc), budget.steps)


@dataclass(frozen=True)
class PairResult:
    """One program run on one pair of a task."""

    split: str
    """``"train"`` or ``"test"``."""
    index: int
    """Position of the pair in its split."""
    result: RunResult
    """The run on the pair's input."""
    expected: tuple[tuple[int, ...], ...] | None
    """The pair's output grid, None when unknown."""

    @property
    def matches(self) -> bool:
        """Whether the run succeeded and produced exactly the expected grid."""
        return self.result.ok and self.expected is not None and self.result.output == self.expected


@dataclass(frozen=True)
class TaskRunResult:
    """A program run on every train and test pair of a task."""

    task_id: str
    """The task's id."""
    pairs: tuple[PairResult, ...]
    """Train pairs first, then test pairs, each in order."""

    @property
    def train(self) -> tuple[PairResult, ...]:
        return tuple(p for p in self.pairs if p.split == "train")

    @property
    def test(self) -> tuple[PairResult, ...]:
        return tuple(p for p in self.pairs if p.split == "test")

    @property
    def solved(self) -> bool:
        """Every pair with a known output is matched (and there is at least one)."""
        known = [p for p in self.pairs if p.expected is not None]
        return bool(known) and all(p.matches for p in known)


def _pair_grids(pair: Any) -> tuple[Any, Any]:
    if hasattr(pair, "input"):
        return pair.input, pair.output
    return pair[0], pair[1]


def run_on_task(program: Program, task: Any, **limits: Any) -> TaskRunResult:
    """Run ``program`` on every pair of ``task`` (``.train``/``.test`` lists of pairs with
    ``.input``/``.output``, or of ``(input, output)`` tuples); ``limits`` as for ``run``."""
    results = []
    splits: Sequence[tuple[str, Any]] = (("train", task.train), ("test", task.test))
    for split, pairs in splits:
        for i, pair in enumerate(pairs):
            grid_in, grid_out = _pair_grids(pair)
            expected = as_grid(grid_out) if grid_out is not None else None
            results.append(PairResult(split, i, run(program, grid_in, **limits), expected))
    return TaskRunResult(str(getattr(task, "id", "")), tuple(results))
