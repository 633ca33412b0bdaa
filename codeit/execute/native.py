"""The typed Python layer over the native batch interpreter (``codeit._interp``).

``NativeInterpreter`` runs many (program, input grid) jobs across a thread pool with the GIL
released: programs (IR ``Program`` objects, program texts or ``ProgramArrays``) are compiled
once per call (or once for many calls with ``compile``), grids are packed once, and the results
come back as numpy arrays (``BatchResult``) in the layout of ``codeit.grids.GridBatch``.
``NativeExecutor`` adapts it to ``codeit.execute.executor.Executor``.

For alignment tests and debugging it also applies one primitive to Python values
(``call_primitive``) and runs one program on any Python value (``run_value``), converting DSL
values (ints, tuples, frozensets, ``None`` and ``dsl.functions`` values) both ways.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from codeit import _interp
from codeit.dsl import functions as dsl_functions
from codeit.dsl import registry
from codeit.dsl.program import Program, ProgramArrays, parse
from codeit.dsl.values import Status
from codeit.execute.executor import ExecResult
from codeit.execute.limits import Limits
from codeit.grids import SIDE, GridBatch


class NativeMismatchError(ImportError):
    """The native module's primitive or constant table disagrees with ``codeit.dsl.registry``."""


def _check_tables() -> None:
    native = [(name, arity) for name, arity in _interp.PRIMITIVES]
    expected = [(p.name, p.arity) for p in registry.PRIMITIVES]
    if native != expected:
        bad = next(k for k, (a, b) in enumerate(zip(native, expected)) if a != b) \
            if len(native) == len(expected) else min(len(native), len(expected))
        raise NativeMismatchError(
            f"codeit._interp primitive {bad} is {native[bad] if bad < len(native) else None}, "
            f"registry has {expected[bad] if bad < len(expected) else None}: rebuild the native module")
    if list(_interp.CONSTANTS) != [c.name for c in registry.CONSTANTS]:
        raise NativeMismatchError("codeit._interp constants differ from dsl/constants.tsv: rebuild the native module")


_check_tables()


def to_native(limits: Limits) -> _interp.Limits:
    """Every field of ``limits`` as the native module's limits record."""
    lim = _interp.Limits()
    lim.max_steps = int(limits.max_steps)
    lim.time_limit = float(limits.time_limit)
    lim.max_value_size = int(limits.max_value_size)
    lim.max_memory = int(limits.max_memory)
    lim.max_depth = int(limits.max_depth)
    return lim


@dataclass(frozen=True)
class BatchResult:
    """Per job: outcome, steps and output grid; job k ran ``jobs[k]`` = (program, grid)."""

    jobs: np.ndarray
    """int32 [n, 2]: (program index, grid index) of each job."""
    status: np.ndarray
    """uint8 [n]: ``dsl.values.Status`` codes."""
    steps: np.ndarray
    """int64 [n]: primitive applications made."""
    error_line: np.ndarray
    """int32 [n]: index (0-based, in the IR) of the failing line; -1 when none."""
    shapes: np.ndarray
    """int32 [n, 2]: output grid shape; 0 x 0 unless the status is OK."""
    outputs: np.ndarray
    """uint8 [n, 30, 30]: output grids, zero outside their shape."""
    prim_calls: np.ndarray | None = None
    """uint64 [160]: calls per primitive id (only when run with ``profile=True``)."""
    prim_nanos: np.ndarray | None = None
    """uint64 [160]: inclusive nanoseconds per primitive id (only with ``profile=True``)."""
    prim_calls_by_status: np.ndarray | None = None
    """uint64 [7, 160]: ``prim_calls`` split by the status of the job that made them (``profile=True``)."""
    prim_nanos_by_status: np.ndarray | None = None
    """uint64 [7, 160]: ``prim_nanos`` split the same way (``profile=True``)."""
    job_nanos: np.ndarray | None = None
    """int64 [n]: wall nanoseconds of each job (``profile=True``)."""
    line_nanos: np.ndarray | None = None
    """int64 [n, longest program's lines]: wall nanoseconds of each line of the job's program; a
    failing line's up to its failure, lines not reached (or past the program's end) 0 (``profile=True``)."""
    output_size: np.ndarray | None = None
    """int64 [n]: ``value_size`` of O when the program finished (OK or BAD_OUTPUT), else -1 (``profile=True``)."""

    def __len__(self) -> int:
        return len(self.status)

    @property
    def grids(self) -> GridBatch:
        """The outputs as a ``codeit.grids.GridBatch``."""
        return GridBatch(self.outputs, self.shapes)

    def output(self, k: int) -> tuple[tuple[int, ...], ...] | None:
        """Job k's output grid as a tuple of tuples, or None when it did not succeed."""
        h, w = (int(x) for x in self.shapes[k])
        if h == 0:
            return None
        return tuple(tuple(int(v) for v in row) for row in self.outputs[k, :h, :w])


@dataclass(frozen=True)
class NativeRun:
    """One program on one value (``NativeInterpreter.run_value``)."""

    status: Status
    error_line: int | None
    """0-based IR index of the failing line; None when no line failed."""
    steps: int
    output: Any
    """O as a Python value (None unless OK or BAD_OUTPUT)."""


def exact_array(values: Any, dtype: type, what: str) -> np.ndarray:
    """``values`` as a C-contiguous array of the integer ``dtype`` the native module takes,
    refusing what a cast would silently change (floats, values out of the dtype's range)."""
    a = np.asarray(values)
    if a.dtype == dtype:
        return np.ascontiguousarray(a)
    if a.size == 0:
        return np.zeros(a.shape, dtype=dtype)
    if a.dtype.kind not in "biu":
        raise TypeError(f"{what} must hold integers, got dtype {a.dtype}")
    info = np.iinfo(dtype)
    if a.min() < info.min or a.max() > info.max:
        raise ValueError(f"{what} holds values outside {np.dtype(dtype).name} ({info.min}..{info.max})")
    return np.ascontiguousarray(a, dtype=dtype)


class CompiledPrograms:
    """Programs compiled for the native interpreter; reusable across ``run_batch`` calls."""

    def __init__(self, programs: Iterable[Program | str | ProgramArrays]):
        self.programs: tuple[Program | None, ...]
        arrays, irs = [], []
        for k, p in enumerate(programs):
            ir = parse(p) if isinstance(p, str) else p
            a = ir.to_arrays() if isinstance(ir, Program) else ir
            if not isinstance(a, ProgramArrays):
                raise TypeError(f"program {k}: expected a Program, program text or ProgramArrays, got {type(p).__name__}")
            args = exact_array(a.args, np.int32, f"program {k}: args")
            arrays.append((exact_array(a.callee, np.int32, f"program {k}: callee"),
                           exact_array(a.arg_offsets, np.int32, f"program {k}: arg_offsets"),
                           args.reshape(-1, 2) if args.ndim == 1 else args))
            irs.append(ir if isinstance(ir, Program) else None)
        self.programs = tuple(irs)
        self.native = _interp.ProgramSet(arrays)

    def __len__(self) -> int:
        return len(self.native)


def pack_grids(grids: Sequence[Any] | GridBatch) -> tuple[np.ndarray, np.ndarray]:
    """Grids (arrays, tuples of tuples, or a GridBatch) as uint8 [G, 30, 30] and int32 [G, 2]."""
    if isinstance(grids, GridBatch):
        return exact_array(grids.data, np.uint8, "grid data"), exact_array(grids.shapes, np.int32, "grid shapes")
    data = np.zeros((len(grids), SIDE, SIDE), dtype=np.uint8)
    shapes = np.zeros((len(grids), 2), dtype=np.int32)
    for k, g in enumerate(grids):
        a = np.asarray(g)
        if a.ndim != 2 or not (1 <= a.shape[0] <= SIDE and 1 <= a.shape[1] <= SIDE):
            raise ValueError(f"grid {k}: shape {a.shape} is not a grid of 1..30 x 1..30")
        if a.size and (a.min() < 0 or a.max() > 255):
            raise ValueError(f"grid {k}: values must be in 0..255")
        data[k, : a.shape[0], : a.shape[1]] = a
        shapes[k] = a.shape
    return data, shapes


def default_threads() -> int:
    """All the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def new_pool(threads: int) -> _interp.Pool:
    """A persistent pool of ``threads`` native worker threads: what ``run_batch`` and the shared
    scorer's ``run_search`` (``codeit.search.shared``) run on, the GIL released."""
    return _interp.Pool(int(threads))


class NativeInterpreter:
    """The native batch interpreter with a persistent pool of ``threads`` worker threads."""

    def __init__(self, threads: int | None = None, limits: Limits | None = None):
        self.threads = default_threads() if not threads else int(threads)
        self.limits = limits if limits is not None else Limits()
        self._pool = new_pool(self.threads)

    @property
    def pool(self) -> _interp.Pool:
        """The worker pool (one caller at a time: a pool runs one batch or search call at once)."""
        return self._pool

    def compile(self, programs: Iterable[Program | str | ProgramArrays]) -> CompiledPrograms:
        return CompiledPrograms(programs)

    def run_batch(self, programs: CompiledPrograms | Sequence[Program | str | ProgramArrays],
                  grids: Sequence[Any] | GridBatch, jobs: np.ndarray | Sequence[Sequence[int]] | None = None,
                  *, limits: Limits | None = None, profile: bool = False) -> BatchResult:
        """Run ``programs[jobs[k, 0]]`` on ``grids[jobs[k, 1]]`` for every job k; ``jobs=None``
        runs every program on every grid (program-major)."""
        compiled = programs if isinstance(programs, CompiledPrograms) else CompiledPrograms(programs)
        data, shapes = pack_grids(grids)
        if jobs is None:
            job_arr = np.stack(np.meshgrid(np.arange(len(compiled), dtype=np.int32),
                                           np.arange(len(shapes), dtype=np.int32), indexing="ij"), -1).reshape(-1, 2)
            native_jobs = None
        else:
            job_arr = exact_array(jobs, np.int32, "jobs")
            if job_arr.ndim == 1 and job_arr.size % 2 == 0:
                job_arr = job_arr.reshape(-1, 2)
            if job_arr.ndim != 2 or job_arr.shape[1] != 2:
                raise ValueError(f"jobs must be rows of (program index, grid index), got shape {job_arr.shape}")
            native_jobs = job_arr
        out = self._pool.run_batch(compiled.native, data, shapes, native_jobs, to_native(limits or self.limits), profile)
        return BatchResult(
            jobs=job_arr,
            status=out["status"],
            steps=out["steps"],
            error_line=out["error_line"],
            shapes=out["shapes"],
            outputs=out["grids"],
            prim_calls=out.get("prim_calls"),
            prim_nanos=out.get("prim_nanos"),
            prim_calls_by_status=out.get("prim_calls_by_status"),
            prim_nanos_by_status=out.get("prim_nanos_by_status"),
            job_nanos=out.get("job_nanos"),
            line_nanos=out.get("line_nanos"),
            output_size=out.get("output_size"),
        )

    def run_value(self, program: Program | str, value: Any, *, limits: Limits | None = None) -> NativeRun:
        """Run one program on any DSL value as ``I`` (not only a grid)."""
        compiled = CompiledPrograms([program])
        status, line, steps, out = _interp.run_value(compiled.native, 0, value, to_native(limits or self.limits))
        return NativeRun(Status(status), None if line < 0 else int(line), int(steps), from_native(out))

    def call_primitive(self, primitive: str | int, *args: Any, limits: Limits | None = None) -> tuple[Status, Any, int]:
        """Apply one primitive to Python values: (status, result or None, steps)."""
        pid = primitive if isinstance(primitive, int) else registry.primitive(primitive).id
        status, value, steps = _interp.call_primitive(pid, tuple(args), to_native(limits or self.limits))
        return Status(status), from_native(value), int(steps)


def call_primitive(primitive: str | int, *args: Any, limits: Limits | None = None) -> tuple[Status, Any, int]:
    """``NativeInterpreter.call_primitive`` without a pool."""
    pid = primitive if isinstance(primitive, int) else registry.primitive(primitive).id
    status, value, steps = _interp.call_primitive(pid, tuple(args), to_native(limits or Limits()))
    return Status(status), from_native(value), int(steps)


# --- function values from the native side -------------------------------------------------------

_BUILDERS = {
    1: lambda p: dsl_functions.Compose(p[0], p[1]),
    2: lambda p: dsl_functions.Chain(p[0], p[1], p[2]),
    3: lambda p: dsl_functions.Matcher(p[0], p[1]),
    4: lambda p: dsl_functions.RightBind(p[0], p[1]),
    5: lambda p: dsl_functions.LeftBind(p[0], p[1]),
    6: lambda p: dsl_functions.Power(p[0], int(p[1])),
    7: lambda p: dsl_functions.Fork(p[0], p[1], p[2]),
}


def _has_function(v: Any) -> bool:
    # A loop, not recursion: a value may nest 900 deep, past what Python's recursion limit
    # leaves a caller.
    stack = [v]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is tuple:
            if len(x) == 2 and type(x[0]) is str and x[0] == "function":
                return True
            stack.extend(x)
        elif t is frozenset:
            stack.extend(x)
    return False


def _rebuild(v: Any) -> Any:
    if type(v) is tuple:
        if len(v) == 2 and type(v[0]) is str and v[0] == "function":
            spec = v[1]
            if spec[0] == 0:
                return registry.PRIMITIVES[spec[1]].function
            parts = [_rebuild(p) for p in spec[1:]]
            return _BUILDERS[spec[0]](parts)
        return tuple(_rebuild(e) for e in v)
    if type(v) is frozenset:
        return frozenset(_rebuild(e) for e in v)
    return v


def from_native(v: Any) -> Any:
    """A value from the native module with its function values as ``dsl.functions`` objects
    (the module returns them as ``("function", (tag, parts...))``)."""
    return _rebuild(v) if _has_function(v) else v


# --- the executor interface (codeit.execute.executor) ------------------------------------------

class NativeExecutor:
    """``codeit.execute.executor.Executor`` over the native interpreter."""

    name = "native"

    def __init__(self, *, limits: Limits | None = None, threads: int = 0):
        self.limits = limits if limits is not None else Limits()
        self._interp = NativeInterpreter(threads=threads or None, limits=self.limits)
        self.threads = self._interp.threads

    @property
    def pool(self) -> _interp.Pool:
        """The interpreter's worker pool, for the shared scorer to run on (``codeit.search.shared``)."""
        return self._interp.pool

    def run(self, programs: Sequence[Program], grids: Sequence[np.ndarray], jobs: np.ndarray) -> ExecResult:
        r = self._interp.run_batch(programs, grids, np.asarray(jobs))
        return ExecResult(r.status.astype(np.int32), r.steps, r.grids)
