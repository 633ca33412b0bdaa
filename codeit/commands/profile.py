"""Profile the execution hot path: per primitive, calls and time, native and reference side by side.

Runs a corpus through the native interpreter with its per-primitive counters on, and through the
reference interpreter with every primitive's implementation wrapped in a timer, then prints for
each primitive: calls, total time and mean time per call on both sides, and reference over native.
Times are inclusive: a higher-order primitive's time contains the calls it makes. A call is one
step (dsl/README.md), so both sides count the same calls.

PROGRAMS are .dsl files or folders of them; a file named after a task id runs on that task's
inputs (as the seed library is laid out). Default: every seed program on its task.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from codeit.commands.errors import CommandError

# numpy, the registry and the parser are imported where they are used: building the command line
# costs nothing.
if TYPE_CHECKING:
    import numpy as np

    from codeit.dsl.program import Program


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("programs", nargs="*", metavar="PROGRAM",
                        help=".dsl files or folders of them (default: the seed library)")
    parser.add_argument("--tasks", default="arc1/training",
                        help="task set the programs' tasks are looked up in (default arc1/training)")
    parser.add_argument("--task", default=None,
                        help="run every program on this task, whatever its file is called")
    parser.add_argument("--reps", type=int, default=5, help="native repetitions, summed then averaged (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="native worker threads (default 1)")
    parser.add_argument("--no-reference", action="store_true", help="profile the native interpreter only")
    parser.add_argument("--sort", choices=("native", "reference", "calls", "name"), default="native",
                        help="order of the rows (default: native total time)")
    parser.add_argument("--top", type=int, default=0, help="show only the first N rows (default all)")
    parser.add_argument("--time-limit", type=float, default=1.0, help="wall seconds per run (default 1)")
    parser.add_argument("--max-steps", type=int, default=100_000, help="step budget per run")


def _program_files(items: list[str]) -> list[Path]:
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(path.glob("*.dsl")))
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"{item}: no such program file or folder")
    return files


def load_corpus(args) -> tuple[list[Program], list[np.ndarray], np.ndarray, list[str]]:
    """(programs, input grids, jobs, program names): every program on its task's inputs."""
    import numpy as np

    from codeit.dsl.program import ProgramError, parse
    from codeit.seeds import seed_dir
    from codeit.tasks import load_tasks
    from codeit.textfile import read_text

    tasks = load_tasks(args.tasks)
    files = _program_files(args.programs) if args.programs else sorted(seed_dir().glob("*.dsl"))
    programs, grids, jobs, names = [], [], [], []
    where: dict[str, list[int]] = {}
    for path in files:
        task_id = args.task or path.stem
        try:
            task = tasks[task_id]
        except KeyError:
            raise CommandError(f"{path}: no task {task_id!r} in {args.tasks} (use --task or --tasks)") from None
        try:
            program = parse(read_text(path))
        except ProgramError as exc:
            raise CommandError(f"{path}: {exc}") from None
        if task_id not in where:
            where[task_id] = list(range(len(grids), len(grids) + len(task.pairs)))
            grids.extend(pair.input for pair in task.pairs)
        jobs.extend((len(programs), g) for g in where[task_id])
        programs.append(program)
        names.append(str(path))
    return programs, grids, np.array(jobs, dtype=np.int32).reshape(-1, 2), names


@contextmanager
def timed_reference_primitives() -> Iterator[dict[str, list[int]]]:
    """Within the block, every reference primitive application is counted and timed:
    name -> [calls, nanoseconds]. The registry's cached ``functions.Primitive`` values get a
    timing wrapper as their implementation and their own back afterwards."""
    from codeit.dsl import registry

    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    originals = []
    clock = time.perf_counter_ns
    for spec in registry.PRIMITIVES:
        prim = spec.function
        impl = prim.impl
        record = stats[spec.name]

        def timed(*args, _impl=impl, _record=record):
            t0 = clock()
            try:
                return _impl(*args)
            finally:
                _record[0] += 1
                _record[1] += clock() - t0

        object.__setattr__(prim, "impl", timed)  # a frozen dataclass: set the field directly
        originals.append((prim, impl))
    try:
        yield stats
    finally:
        for prim, impl in originals:
            object.__setattr__(prim, "impl", impl)


def _ms(ns: float) -> str:
    return f"{ns / 1e6:10.2f}"


def main(args) -> int:
    import numpy as np

    from codeit.dsl import registry
    from codeit.execute.backends import load_native
    from codeit.execute.limits import Limits
    from codeit.execute.reference import run_reference

    native = load_native()
    programs, grids, jobs, _ = load_corpus(args)
    limits = Limits(max_steps=args.max_steps, time_limit=args.time_limit)
    interp = native.NativeInterpreter(threads=args.threads, limits=limits)
    print(f"executor: native, {interp.threads} thread(s), profiled; reference "
          f"{'skipped' if args.no_reference else 'beside it'}", file=sys.stderr)
    compiled = interp.compile(programs)
    calls = np.zeros(len(registry.PRIMITIVES), dtype=np.float64)
    nanos = np.zeros(len(registry.PRIMITIVES), dtype=np.float64)
    t0 = time.perf_counter()
    for _ in range(args.reps):
        r = interp.run_batch(compiled, grids, jobs, profile=True)
        calls += r.prim_calls
        nanos += r.prim_nanos
    native_wall = (time.perf_counter() - t0) / args.reps
    calls /= args.reps
    nanos /= args.reps

    ref_calls = np.zeros_like(calls)
    ref_nanos = np.zeros_like(nanos)
    ref_wall = None
    if not args.no_reference:
        with timed_reference_primitives() as stats:
            t0 = time.perf_counter()
            for p, g in jobs:
                run_reference(programs[p], grids[g], limits)
            ref_wall = time.perf_counter() - t0
        for spec in registry.PRIMITIVES:
            ref_calls[spec.id], ref_nanos[spec.id] = stats[spec.name]

    print(f"corpus: {len(programs)} programs, {len(jobs)} runs; native {args.threads} thread(s), "
          f"mean of {args.reps} repetitions; times inclusive")
    line = f"native: {native_wall * 1e3:.1f} ms wall, {int(calls.sum())} primitive calls"
    if ref_wall is not None:
        line += (f"; reference: {ref_wall * 1e3:.1f} ms wall, {int(ref_calls.sum())} primitive calls; "
                 f"reference / native wall {ref_wall / native_wall:.1f}x")
    print(line)
    header = f"{'primitive':<14s}{'calls':>10s}{'native ms':>11s}{'ns/call':>10s}"
    if ref_wall is not None:
        header += f"{'ref calls':>11s}{'ref ms':>11s}{'us/call':>10s}{'ref/native':>11s}"
    print(header)
    order = {
        "native": np.argsort(-nanos, kind="stable"),
        "reference": np.argsort(-ref_nanos, kind="stable"),
        "calls": np.argsort(-calls, kind="stable"),
        "name": np.array(sorted(range(len(calls)), key=lambda k: registry.PRIMITIVES[k].name)),
    }[args.sort]
    shown = 0
    for k in order:
        if calls[k] == 0 and ref_calls[k] == 0:
            continue
        row = (f"{registry.PRIMITIVES[k].name:<14s}{calls[k]:10.0f}{_ms(nanos[k])}"
               f"{nanos[k] / max(calls[k], 1):10.0f}")
        if ref_wall is not None:
            ratio = (ref_nanos[k] / nanos[k]) if nanos[k] > 0 else float("nan")
            row += (f"{ref_calls[k]:11.0f}{_ms(ref_nanos[k]).rjust(11)}"
                    f"{ref_nanos[k] / max(ref_calls[k], 1) / 1e3:10.2f}{ratio:10.1f}x")
        print(row)
        shown += 1
        if args.top and shown >= args.top:
            break
    return 0
