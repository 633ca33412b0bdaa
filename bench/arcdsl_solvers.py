"""Run arc-dsl's 400 reference solvers with our parser and reference interpreter.

Reads the solver file as text (``codeit.dsl.arcdsl_import``; it is never imported), runs each
solver on every train and test pair of its ARC-AGI-1 training task (by default from the
corrected edition, which the solvers were written for), and prints how many solve,
then every failure: the task, the pair, the status, the line and the error. With ``--baseline``
it also imports arc-dsl itself from the solver file's folder and times its solvers on the same
pairs, printing our time against theirs.

    python bench/arcdsl_solvers.py PATH/solvers.py [--baseline] [--only ID ...]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from codeit.dsl.arcdsl_import import read_solvers
from codeit.dsl.interpreter import as_grid, run_on_task
from codeit.tasks import load_tasks
from machine import machine_info

# arc-dsl's solvers were written against the corrected edition of ARC-AGI-1 training: on the
# original release 18 of them fail on a demonstration pair whose answer was later fixed.
DEFAULT_TASKS = "arc1-corrected/training"


def _baseline_seconds(folder: Path, tasks: dict, ids: list[str]) -> tuple[float, int, int]:
    """Time arc-dsl's own solvers (imported from ``folder``) on the pairs: (seconds, runs, solved)."""
    sys.path.insert(0, str(folder))
    try:
        solvers = importlib.import_module("solvers")
    finally:
        sys.path.pop(0)
    seconds, runs, solved = 0.0, 0, 0
    for task_id in ids:
        solve = getattr(solvers, f"solve_{task_id}", None)
        if solve is None:
            continue
        ok = True
        for pair in tasks[task_id].pairs:
            grid = as_grid(pair.input)
            start = time.perf_counter()
            try:
                out = solve(grid)
            except Exception:
                out = None
            seconds += time.perf_counter() - start
            runs += 1
            ok = ok and out == as_grid(pair.output)
        solved += ok
    return seconds, runs, solved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solvers", help="arc-dsl's solvers.py (a local clone of michaelhodel/arc-dsl)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="wall seconds per run (default 10)")
    parser.add_argument("--max-steps", type=int, default=10_000_000, help="step budget per run (default 1e7)")
    parser.add_argument("--tasks", default=DEFAULT_TASKS, help=f"task set to look the tasks up in (default {DEFAULT_TASKS})")
    parser.add_argument("--only", nargs="*", default=None, help="run only these task ids")
    parser.add_argument("--baseline", action="store_true", help="also time arc-dsl itself on the same pairs")
    args = parser.parse_args(argv)

    path = Path(args.solvers)
    solver_file = read_solvers(path.read_text(encoding="utf-8"), str(path))
    tasks = {t.id: t for t in load_tasks(args.tasks)}
    ids = sorted(solver_file.programs) if args.only is None else sorted(args.only)

    print(machine_info())
    print(f"solvers: {path}: {len(solver_file.programs)} parsed, {len(solver_file.errors)} rejected; tasks: {args.tasks}")
    failures: list[str] = []
    for key, err in sorted(solver_file.errors.items()):
        failures.append(f"{key}: not imported: {err}")

    solved = runs = 0
    total_seconds = 0.0
    slowest: list[tuple[float, str]] = []
    for task_id in ids:
        program = solver_file.programs.get(task_id)
        task = tasks.get(task_id)
        if program is None or task is None:
            if task is None:
                failures.append(f"{task_id}: no such task in {args.tasks}")
            continue
        start = time.perf_counter()
        result = run_on_task(program, task, time_limit=args.time_limit, max_steps=args.max_steps)
        elapsed = time.perf_counter() - start
        total_seconds += elapsed
        runs += len(result.pairs)
        slowest.append((elapsed, task_id))
        if result.solved:
            solved += 1
            continue
        for pair in result.pairs:
            if pair.matches:
                continue
            r = pair.result
            if r.ok:
                failures.append(f"{task_id}: {pair.split} {pair.index}: OK but the output differs "
                                f"({len(r.output)}x{len(r.output[0])} vs expected "
                                f"{len(pair.expected)}x{len(pair.expected[0])})")
            else:
                failures.append(f"{task_id}: {pair.split} {pair.index}: {r.status.name} at line {r.error_line}: {r.error}")
            break

    print(f"solved {solved} of {len(ids)} tasks ({runs} runs, {total_seconds:.2f} s, "
          f"{runs / total_seconds if total_seconds else 0:.0f} runs/s, one core)")
    slowest.sort(reverse=True)
    print("slowest tasks: " + ", ".join(f"{t} {s:.2f}s" for s, t in slowest[:5]))
    if failures:
        print(f"failures ({len(failures)}):")
        for f in failures:
            print(f"  {f}")
    if args.baseline:
        base_seconds, base_runs, base_solved = _baseline_seconds(path.parent, tasks, ids)
        print(f"arc-dsl itself: solved {base_solved}, {base_runs} runs, {base_seconds:.2f} s; "
              f"ours/arc-dsl time ratio {total_seconds / base_seconds if base_seconds else float('nan'):.2f}")
    return 0 if solved == len(ids) else 1


if __name__ == "__main__":
    sys.exit(main())
