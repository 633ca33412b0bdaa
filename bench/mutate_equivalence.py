"""Would observational equivalence on a task's first demonstration be an exact shortcut for the
mutation baseline's scoring?

The idea (issue 17): mutants whose output on a task's first demonstration input equals an earlier
mutant's are one class; run the other demonstrations (and the tests) once per class and give every
member the representative's result. That is exact only if members of a class also agree on every
later input. This runs N mutants on every input of the first T search tasks the straightforward
way (``Executor.run``, every output kept), forms the classes per task (globally, and within the
mutants of one seed), and counts:

- ``joined``: (mutant, task) pairs that ran OK on the first demonstration with an output an earlier
  mutant also gave (those whose later runs the shortcut would skip);
- ``runs_skipped``: the later demonstration runs it would skip (tests not counted), of ``runs``
  (every mutant on every input);
- ``mismatched``: joined pairs whose (valid, demonstrations right, tests right) differ from their
  representative's: the shortcut would score them wrongly; ``candidate_mismatched``: those where
  the member or its representative is a candidate (valid, at least one demonstration right), so
  the selection could change.

    python bench/mutate_equivalence.py --mutants 800 --max-tasks 40
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time

import numpy as np
from machine import machine_info

from codeit.execute.executor import cross_jobs
from codeit.execute.limits import SEARCH_LIMITS
from codeit.execute.native import NativeExecutor, default_threads
from codeit.search.initial import load_seed_set
from codeit.search.mutate import grow_mutants
from codeit.tasks import load_tasks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutants", type=int, default=800)
    ap.add_argument("--search-set", default="arc1/evaluation")
    ap.add_argument("--max-tasks", type=int, default=40, help="first N search tasks (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    executor = NativeExecutor(limits=SEARCH_LIMITS, threads=default_threads())
    seeds, seed_tasks = load_seed_set([], "arc1/training")
    tasks = load_tasks(args.search_set).tasks
    if args.max_tasks:
        tasks = tasks[: args.max_tasks]
    mutants, _ = grow_mutants(seeds, seed_tasks, args.mutants, executor, np.random.default_rng(args.seed),
                              batch_size=max(64, args.mutants), with_outputs=False)
    grids = [pair.input for task in tasks for pair in task.pairs]
    starts = np.cumsum([0] + [len(t.pairs) for t in tasks])
    n_grids = len(grids)
    t0 = time.perf_counter()
    run = executor.run([m.program for m in mutants], grids, cross_jobs(len(mutants), np.arange(n_grids)))
    run_seconds = time.perf_counter() - t0

    def right(k: int, target) -> bool:
        if int(run.status[k]) != 0 or target is None:
            return False
        h, w = (int(x) for x in run.outputs.shapes[k])
        target = np.asarray(target)
        return (h, w) == target.shape and np.array_equal(run.outputs.data[k][:h, :w], target)

    def signature(k: int) -> tuple:
        """Status, and for an OK run the output's shape and a hash of its cells."""
        if int(run.status[k]) != 0:
            return (int(run.status[k]),)
        h, w = (int(x) for x in run.outputs.shapes[k])
        return (0, h, w, hashlib.blake2b(run.outputs.data[k][:h, :w].tobytes(), digest_size=16).digest())

    def result(m: int, t: int) -> tuple[bool, int, bool]:
        """(valid, demonstrations right, tests right) of mutant m on task t, as relabel decides them."""
        task, base = tasks[t], m * n_grids + int(starts[t])
        n_demo = len(task.train)
        if any(int(run.status[base + j]) != 0 for j in range(n_demo)):
            return (False, 0, False)
        n_right = sum(right(base + j, task.pairs[j].output) for j in range(n_demo))
        tests = n_right > 0 and all(right(base + j, task.pairs[j].output) for j in range(n_demo, len(task.pairs)))
        return (True, n_right, tests)

    counts = {"pairs": 0, "ok_on_first_demo": 0, "joined": 0, "joined_within_seed": 0, "mismatched": 0,
              "candidate_mismatched": 0, "runs_skipped": 0, "runs": len(mutants) * n_grids}
    for t, task in enumerate(tasks):
        first = int(starts[t])
        representative: dict[tuple, int] = {}
        within_seed: set[tuple] = set()
        for m, mutant in enumerate(mutants):
            counts["pairs"] += 1
            sig = signature(m * n_grids + first)
            if sig[0] != 0:
                continue
            counts["ok_on_first_demo"] += 1
            if (mutant.task_id, sig) in within_seed:
                counts["joined_within_seed"] += 1
            within_seed.add((mutant.task_id, sig))
            rep = representative.setdefault(sig, m)
            if rep == m:
                continue
            counts["joined"] += 1
            counts["runs_skipped"] += len(task.train) - 1
            mine, theirs = result(m, t), result(rep, t)
            if mine != theirs:
                counts["mismatched"] += 1
                if (mine[0] and mine[1] > 0) or (theirs[0] and theirs[1] > 0):
                    counts["candidate_mismatched"] += 1
    out = {"mutants": len(mutants), "search_tasks": len(tasks), "search_inputs": n_grids, **counts,
           "exact": counts["mismatched"] == 0, "straightforward_run_seconds": round(run_seconds, 2)}
    if args.json:
        print(json.dumps(out))
        return
    print(machine_info())
    print(f"{len(mutants):,} mutants on {len(tasks)} tasks ({n_grids:,} inputs)")
    print(f"OK on the first demonstration: {counts['ok_on_first_demo']:,} of {counts['pairs']:,} (mutant, task) pairs; "
          f"joined to an earlier mutant's class: {counts['joined']:,} ({counts['joined_within_seed']:,} within a seed)")
    print(f"later demonstration runs the shortcut skips: {counts['runs_skipped']:,} of {counts['runs']:,} runs")
    print(f"joined pairs scored wrongly by it: {counts['mismatched']:,}, of which candidates: "
          f"{counts['candidate_mismatched']:,} -> exact: {out['exact']}")


if __name__ == "__main__":
    main()
