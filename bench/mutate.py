"""The mutation baseline's scoring: shared (native/interp/search.hpp) against every mutant on every input.

One run: N valid mutants are grown from the seed library (timed on their own: that is the
growing rate), then scored on the search set twice, the straightforward way
(``SearchSet.score``: every mutant on every input, then each task relabelled) and the shared way
(``SearchSet.score_shared``: mutants of one seed share their common lines, a task stops at a
mutant's first failed demonstration, tests run only for candidates), alternating for --reps
rounds. The two must select the same candidates and so solve the same tasks (``same_solved``).
Reported: mutants/s and program runs/s (wall, and per CPU second of the process, which other
jobs on a shared machine disturb less), their ratio, and the time the full curve to 1,430,400
mutants would take at these rates (growing included).

    python bench/mutate.py                         # 2,400 mutants on ARC-AGI-1 evaluation
    python bench/mutate.py --mutants 4800 --json   # one JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
from machine import cpu_model, machine_info

from codeit.execute.limits import SEARCH_LIMITS
from codeit.execute.native import NativeExecutor, default_threads
from codeit.run.scoreboard import Scoreboard
from codeit.search.baseline import (
    BUDGETS,
    SearchSet,
    SharedScorer,
    _group_by_seed,
    outcome_counts,
)
from codeit.search.initial import load_seed_set
from codeit.search.mutate import grow_mutants
from codeit.tasks import load_tasks


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutants", type=int, default=2_400, help="mutants scored (one block; default 2,400)")
    ap.add_argument("--search-set", default="arc1/evaluation")
    ap.add_argument("--max-tasks", type=int, default=0, help="first N search tasks only (0: all)")
    ap.add_argument("--threads", type=int, default=0, help="native threads (0: every core)")
    ap.add_argument("--reps", type=int, default=1, help="rounds of (straightforward, shared); medians reported")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    threads = args.threads or default_threads()
    executor = NativeExecutor(limits=SEARCH_LIMITS, threads=threads)
    seeds, seed_tasks = load_seed_set([], "arc1/training")
    search_tasks = load_tasks(args.search_set).tasks
    if args.max_tasks:
        search_tasks = search_tasks[: args.max_tasks]
    search = SearchSet(search_tasks)
    (mutants, stats), grow_wall, grow_cpu = timed(lambda: grow_mutants(
        seeds, seed_tasks, args.mutants, executor, np.random.default_rng(args.seed),
        batch_size=max(64, args.mutants), with_outputs=False))
    programs, texts = [m.program for m in mutants], [m.text for m in mutants]
    groups = _group_by_seed(mutants)
    scorer = SharedScorer(SEARCH_LIMITS, threads)
    plain_times, shared_times = [], []
    for _ in range(args.reps):
        plain = Scoreboard()
        _, wall, cpu = timed(lambda board=plain: search.score(programs, texts, executor, board))
        plain_times.append((wall, cpu))
        shared = Scoreboard()
        scorer.runs[:] = 0
        scorer.nodes = 0
        _, wall, cpu = timed(lambda board=shared: search.score_shared(groups, scorer, board))
        shared_times.append((wall, cpu))
        same_solved = plain.solved() == shared.solved()
        same_candidates = all(
            [(c.program, c.demo_accuracy, c.test_correct) for c in plain.selected(t.id)]
            == [(c.program, c.demo_accuracy, c.test_correct) for c in shared.selected(t.id)]
            for t in search_tasks)
    n, n_inputs = len(mutants), len(search.grids)
    pw, pc = (statistics.median(x) for x in zip(*plain_times))
    sw, sc = (statistics.median(x) for x in zip(*shared_times))
    grow_rate = n / grow_wall
    full = BUDGETS[-1]
    out = {
        "mutants": n,
        "search_tasks": len(search_tasks),
        "search_inputs": n_inputs,
        "groups": len(groups),
        "threads": threads,
        "mutants_per_s": round(n / sw, 1),
        "baseline_mutants_per_s": round(n / pw, 1),
        "speedup_wall": round(pw / sw, 2),
        "mutants_per_cpu_s": round(n / sc, 2),
        "baseline_mutants_per_cpu_s": round(n / pc, 2),
        "speedup_cpu": round(pc / sc, 2),
        "program_runs_per_s": round(int(scorer.runs.sum()) / sw),
        "baseline_program_runs_per_s": round(n * n_inputs / pw),
        "program_runs": int(scorer.runs.sum()),
        "baseline_program_runs": n * n_inputs,
        "lines_computed": scorer.nodes,
        "run_outcomes": outcome_counts(scorer.runs),
        "same_solved": same_solved,
        "same_candidates": same_candidates,
        "solved": len(shared.solved()),
        "grown_per_s": round(grow_rate, 1),
        "mutants_drawn": stats.generated,
        "projected_full_curve_hours": round(full * (1 / grow_rate + sw / n) / 3600, 2),
        "baseline_projected_full_curve_hours": round(full * (1 / grow_rate + pw / n) / 3600, 2),
        "seconds": {"baseline_wall": round(pw, 2), "shared_wall": round(sw, 2), "baseline_cpu": round(pc, 2),
                    "shared_cpu": round(sc, 2), "grow_wall": round(grow_wall, 2), "grow_cpu": round(grow_cpu, 2)},
        "machine": f"{cpu_model()}, {os.cpu_count()} logical cpus, load average "
                   + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if args.json:
        print(json.dumps(out))
        return
    print(machine_info())
    print(f"{n:,} mutants of {len(seeds)} seeds ({len(groups)} groups) on {len(search_tasks)} tasks of "
          f"{args.search_set} ({n_inputs:,} inputs), {threads} threads, {args.reps} round(s), medians")
    print(f"straightforward: {pw:8.2f} s wall {pc:8.2f} s cpu  {n / pw:8.1f} mutants/s  "
          f"{n * n_inputs / pw:10,.0f} runs/s")
    print(f"shared:          {sw:8.2f} s wall {sc:8.2f} s cpu  {n / sw:8.1f} mutants/s  "
          f"{scorer.runs.sum() / sw:10,.0f} runs/s ({int(scorer.runs.sum()):,} runs, {scorer.nodes:,} lines)")
    print(f"speed-up: {pw / sw:.2f}x wall, {pc / sc:.2f}x cpu; same solved: {same_solved} ({len(shared.solved())} "
          f"tasks); same selected candidates: {same_candidates}")
    print(f"growing: {grow_rate:.1f} valid mutants/s ({stats.generated:,} drawn); full curve to {full:,}: "
          f"{out['projected_full_curve_hours']} h shared, {out['baseline_projected_full_curve_hours']} h straightforward")


if __name__ == "__main__":
    main()
