"""Profile the execution hot path: per primitive and per outcome, where the time of many runs goes.

A workload runs through the native interpreter with its profiling on: each run's outcome, wall time,
per-line time and output size, and per primitive its calls and (inclusive) time. The report gives
each outcome (ok, timeout, step/size limit, type/runtime error, bad output) with its runs and its
share of the run time, histograms of run times and output sizes, and the primitive table, beside
the reference interpreter (every primitive's implementation wrapped in a timer) for .dsl files.
A higher-order primitive's time contains the calls it makes. A call is one step (dsl/README.md),
so both sides count the same calls. --html / --svg write a flame graph (all runs -> outcome ->
what each line calls -> program, widths proportional to time); --json writes every figure. Over
--reps repetitions a run keeps its fastest time (--job-time mean for the mean), which keeps other
processes' preemptions out of the figures; primitive totals are means.

Workloads: PROGRAMS, .dsl files or folders of them, each on the inputs of the task its file is named
after (default: every seed program on its task); --run DIR, the experiences of a run's store, each
on the inputs stored with it; --mutants N, N distinct mutants of the seeds (--seed), each on its
seed's task (what the mutation search runs, failures included).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from codeit.commands.errors import CommandError

# numpy, the registry and the parser are imported where they are used: building the command line
# costs nothing.
if TYPE_CHECKING:
    import numpy as np

    from codeit.dsl.program import Program


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("programs", nargs="*", metavar="PROGRAM",
                        help=".dsl files or folders of them (default: the seed library)")
    parser.add_argument("--run", metavar="DIR", default=None,
                        help="profile a run folder's experiences (its experience.db) on their stored inputs")
    parser.add_argument("--sampled", action="store_true",
                        help="with --run: every program the run's policy sampled (its samples/ folder), failures "
                             "included, each on its search task's inputs")
    parser.add_argument("--origin", nargs="+", default=[], metavar="ORIGIN",
                        help="with --run: only these origins (seed, mutation, policy, relabel)")
    parser.add_argument("--limit", type=int, default=0, help="with --run: only the first N experiences (0: all)")
    parser.add_argument("--mutants", type=int, default=0, metavar="N",
                        help="profile N distinct mutants of the seeds, each on its seed's task")
    parser.add_argument("--seed", type=int, default=0, help="with --mutants: random seed (default 0)")
    parser.add_argument("--seeds", nargs="+", metavar="FOLDER",
                        help="with --mutants: seed folders ('builtin': the built-in library; default it alone)")
    parser.add_argument("--tasks", default="arc1/training",
                        help="task set the programs' (or seeds') tasks are looked up in (default arc1/training)")
    parser.add_argument("--task", default=None,
                        help="run every program on this task, whatever its file is called")
    parser.add_argument("--reps", type=int, default=None,
                        help="native repetitions, averaged (default 5 for .dsl files, 1 for --run and --mutants)")
    parser.add_argument("--job-time", choices=("min", "mean"), default="min",
                        help="a run's time over the repetitions: its fastest (default; least disturbed by other "
                             "processes) or the mean; primitive totals are means")
    parser.add_argument("--threads", type=int, default=1, help="native worker threads (default 1)")
    parser.add_argument("--no-reference", action="store_true", help="profile the native interpreter only")
    parser.add_argument("--reference", action="store_true",
                        help="time the reference interpreter for --run and --mutants too (slow)")
    parser.add_argument("--sort", choices=("native", "reference", "calls", "name"), default="native",
                        help="order of the rows (default: native total time)")
    parser.add_argument("--top", type=int, default=0, help="show only the first N rows (default all)")
    parser.add_argument("--html", metavar="PATH", default=None,
                        help="write a self-contained HTML page: flame graph, outcomes, histograms, primitives")
    parser.add_argument("--svg", metavar="PATH", default=None, help="write the flame graph as an SVG file")
    parser.add_argument("--json", metavar="PATH", default=None, help="write every figure as JSON")
    parser.add_argument("--top-programs", type=int, default=12,
                        help="programs shown under each callee in the flame graph; the rest are one frame")
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


def load_workload(args):
    """The workload the command line names (``codeit.execute.profiling.Workload``)."""
    from codeit.execute import profiling

    chosen = [name for name, on in (("PROGRAM", bool(args.programs)), ("--run", args.run is not None),
                                    ("--mutants", args.mutants > 0)) if on]
    if len(chosen) > 1:
        raise CommandError(f"profile one workload at a time: {' and '.join(chosen)} given")
    if args.mutants < 0 or args.limit < 0:
        raise CommandError("--mutants and --limit must be >= 0")
    if args.sampled and (args.run is None or args.origin):
        raise CommandError("--sampled profiles a run's samples: give --run DIR, and no --origin")
    if args.run is not None:
        try:
            if args.sampled:
                return profiling.sampled_workload(Path(args.run), args.limit)
            return profiling.run_workload(Path(args.run), args.origin, args.limit)
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from None
    if args.mutants > 0:
        from codeit.search.initial import load_seed_set

        seeds, tasks = load_seed_set(args.seeds or [], args.tasks)
        try:
            return profiling.mutant_workload(args.mutants, args.seed, seeds, tasks)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    from codeit.seeds import seed_dir
    from codeit.tasks import load_tasks

    files = _program_files(args.programs) if args.programs else sorted(seed_dir().glob("*.dsl"))
    try:
        return profiling.files_workload(files, load_tasks(args.tasks), args.task)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def load_corpus(args) -> tuple[list[Program], list[np.ndarray], np.ndarray, list[str]]:
    """(programs, input grids, jobs, program names) of the workload the command line names."""
    w = load_workload(args)
    return w.programs, w.grids, w.jobs, w.names


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
    import json

    import numpy as np

    from codeit.dsl import registry
    from codeit.execute import profiling
    from codeit.execute.backends import load_native
    from codeit.execute.limits import Limits
    from codeit.execute.reference import run_reference

    native = load_native()
    workload = load_workload(args)
    files = args.run is None and args.mutants <= 0
    reps = args.reps if args.reps is not None else (5 if files else 1)
    if reps < 1 or args.threads < 1:
        raise CommandError("--reps and --threads must be at least 1")
    with_reference = not args.no_reference and (files or args.reference)
    programs, grids, jobs = workload.programs, workload.grids, workload.jobs
    limits = Limits(max_steps=args.max_steps, time_limit=args.time_limit)
    interp = native.NativeInterpreter(threads=args.threads, limits=limits)
    print(f"executor: native, {interp.threads} thread(s), profiled; reference "
          f"{'beside it' if with_reference else 'skipped'}", file=sys.stderr)
    data = profiling.profile_workload(workload, interp, reps, job_time=args.job_time)
    calls, nanos = data.prim_calls, data.prim_ns
    native_wall = data.wall_s

    ref_calls = np.zeros_like(calls)
    ref_nanos = np.zeros_like(nanos)
    ref_wall = None
    if with_reference:
        with timed_reference_primitives() as stats:
            t0 = time.perf_counter()
            for p, g in jobs:
                run_reference(programs[p], grids[g], limits)
            ref_wall = time.perf_counter() - t0
        for spec in registry.PRIMITIVES:
            ref_calls[spec.id], ref_nanos[spec.id] = stats[spec.name]

    summary = profiling.summarize(workload, data, args.top_programs)
    print(f"workload: {workload.description}")
    print(f"corpus: {len(programs)} programs, {len(jobs)} runs; native {args.threads} thread(s), "
          f"mean of {reps} repetitions; times inclusive")
    line = f"native: {native_wall * 1e3:.1f} ms wall, {int(calls.sum())} primitive calls"
    if ref_wall is not None:
        line += (f"; reference: {ref_wall * 1e3:.1f} ms wall, {int(ref_calls.sum())} primitive calls; "
                 f"reference / native wall {ref_wall / native_wall:.1f}x")
    print(line)
    run_ns = summary["native"]["run_ns"]
    failed = summary["failed"]
    each = "" if reps == 1 else (f" (each run's fastest of {reps})" if args.job_time == "min" else " (means)")
    print(f"\nrun time {run_ns / 1e6:.1f} ms in all{each}; {failed['time_share']:.1%} of it in the "
          f"{failed['runs']} runs that did not end OK"
          + (f"; {data.unstable} runs changed outcome between repetitions" if data.unstable else ""))
    print(f"{'outcome':<15s}{'runs':>9s}{'share':>8s}{'time ms':>12s}{'share':>8s}{'mean us':>11s}")
    for o in summary["outcomes"]:
        if o["runs"]:
            print(f"{o['outcome']:<15s}{o['runs']:9d}{o['run_share']:8.1%}{o['ns'] / 1e6:12.2f}"
                  f"{o['time_share']:8.1%}{o['mean_us']:11.1f}")
    print("\nwhere each outcome's time goes (what its lines call, share of that outcome's time):")
    for node in summary["flame"]["children"]:
        parts = [f"{c['name']} {c['ns'] / node['ns']:.0%}" for c in node["children"][:4] if node["ns"] > 0]
        print(f"  {node['name']:<15s}{', '.join(parts)}")
    hist = summary["histograms"]
    for title, key in (("run time", "run_time"), ("output grid cells, OK runs", "output_cells"),
                       ("output value size, finished runs", "output_value_size")):
        print()
        print("\n".join(profiling.histogram_lines(title, hist[key])))
    print()
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

    written = []
    if args.svg or args.html:
        from codeit.execute import flamegraph

        if args.svg:
            written.append(flamegraph.write_svg(args.svg, summary))
        if args.html:
            written.append(flamegraph.write_html(args.html, summary))
    if args.json:
        if ref_wall is not None:
            summary["reference"] = {"wall_s": ref_wall, "primitives": {
                registry.PRIMITIVES[k].name: {"calls": float(ref_calls[k]), "ns": float(ref_nanos[k])}
                for k in range(len(ref_calls)) if ref_calls[k]}}
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        written.append(Path(args.json))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0
