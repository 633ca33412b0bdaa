"""``codeit eval``'s scoring: every distinct program on every input (the old path) against shared scoring.

    python bench/eval.py [--checkpoint codeit/policy/shipped/dsl-small] [--tasks arc1/evaluation]
                         [--max-tasks 100] [--samples 192] [--samples-file runs/bench-eval/samples.json]
                         [--repeat 3] [--threads 2]
    python bench/eval.py --end-to-end [--tasks synth/heldout --max-tasks 0 --samples 96]

Programs are sampled once by the policy (as ``codeit eval`` samples them: rounds of the config's
samples per task, steps of ``tasks_per_step`` tasks, each step's seed from ``sampling_seed``) and
saved to ``--samples-file`` (an existing file is read instead). Then the same programs are scored
step by step both ways, ``--repeat`` rounds (each way once per round, so that load from elsewhere
hits both alike):

- old: ``codeit.search.step.search_step`` (each task's distinct programs run on every demo and test
  input, then relabeled);
- shared: ``codeit.search.shared.shared_step`` (a task's programs grouped by common lines, each
  line computed once per input; a program stops at its first failed demonstration; tests run only
  for each task's best candidates).

Prints the machine, programs/s both ways (medians), the ratio, program runs and lines computed,
and checks that both ways select the same candidates and solve the same tasks (status 1 if not).

``--end-to-end`` instead runs two whole evaluations (``evaluate_checkpoint``, cpu preset) of the same
budget: the old way (``search_step``, each step sampled then run) and the new (shared scoring, the
next step sampled while the last one runs), and prints programs/s of each (wall time, sampling
included) and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine_info

from codeit.execute.limits import Limits
from codeit.run.config import make_config
from codeit.run.scoreboard import Scoreboard
from codeit.tasks import load_tasks


def sample_programs(checkpoint: str, tasks, samples: int, config) -> list[dict]:
    """Programs sampled as ``codeit eval`` samples them: [{"round", "start", "texts": [[...] per task]}]."""
    from codeit.run.driver import sampling_seed
    from codeit.run.sampling import open_run_sampler

    sampler = open_run_sampler(config, Path(checkpoint), "cpu")
    per_round = config.sampling.samples_per_task
    steps = []
    t0 = time.perf_counter()
    try:
        for r in range(-(-samples // per_round)):
            n = min(per_round, samples - r * per_round)
            for start in range(0, len(tasks), config.tasks_per_step):
                batch = tasks[start : start + config.tasks_per_step]
                sampler.set_samples(n, seed=sampling_seed(config, r, start))
                steps.append({"round": r, "start": start, "texts": sampler.sample_tasks(batch)})
                done = sum(len(t) for s in steps for t in s["texts"])
                print(f"sampled {done} programs in {time.perf_counter() - t0:.0f} s ({sampler.backend})", flush=True)
    finally:
        sampler.close()
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="codeit/policy/shipped/dsl-small")
    parser.add_argument("--tasks", default="arc1/evaluation")
    parser.add_argument("--max-tasks", type=int, default=100)
    parser.add_argument("--samples", type=int, default=192, help="programs sampled per task")
    parser.add_argument("--samples-file", default="runs/bench-eval/samples.json")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sample-only", action="store_true", help="sample (or read) the programs and stop")
    parser.add_argument("--end-to-end", action="store_true",
                        help="instead: two whole evaluations (evaluate_checkpoint), the old way (search_step, no "
                             "overlap) then the new (shared scoring, sampling overlapped), same programs sampled")
    args = parser.parse_args()
    if args.end_to_end:
        return end_to_end(args)

    config = make_config("cpu")
    tasks = load_tasks(args.tasks).tasks
    if args.max_tasks:
        tasks = tasks[: args.max_tasks]
    path = Path(args.samples_file)
    if path.exists():
        saved = json.loads(path.read_text())
        if saved["tasks"] != [t.id for t in tasks] or saved["samples"] != args.samples:
            raise SystemExit(f"{path} holds other tasks or another budget: remove it or pass another --samples-file")
        steps = saved["steps"]
    else:
        steps = sample_programs(args.checkpoint, tasks, args.samples, config)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"checkpoint": args.checkpoint, "tasks": [t.id for t in tasks],
                                    "samples": args.samples, "steps": steps}))
    if args.sample_only:
        return 0
    return compare(tasks, steps, config, args)


def compare(tasks, steps, config, args) -> int:
    from codeit.execute.backends import make_executor
    from codeit.search.shared import SharedScorer, shared_step
    from codeit.search.step import canonical_samples, search_step

    limits: Limits = config.execution.limits
    executor = make_executor("native", limits=limits, threads=args.threads)
    scorer = SharedScorer(limits, args.threads, pool=executor.pool)
    per_step = config.tasks_per_step
    batches = [(tasks[s["start"] : s["start"] + per_step], s["texts"]) for s in steps]
    n_programs = sum(len(t) for s in steps for t in s["texts"])

    def old():
        board, counts = Scoreboard(), {"runs": 0, "valid_samples": 0, "execute": 0.0}
        for batch, texts in batches:
            step = search_step(batch, texts, executor, relabel_experiences=False)
            board.add(step.candidates)
            counts["runs"] += step.stats.runs
            counts["valid_samples"] += step.stats.valid_samples
            counts["execute"] += step.stats.execute_seconds
        return board, counts

    def shared():
        board, counts = Scoreboard(), {"runs": 0, "valid_samples": 0, "execute": 0.0, "lines": -scorer.nodes}
        for batch, texts in batches:
            step = shared_step(batch, texts, scorer, executor)
            board.add(step.candidates)
            counts["runs"] += step.stats.runs
            counts["valid_samples"] += step.stats.valid_samples
            counts["execute"] += step.stats.execute_seconds
        counts["lines"] += scorer.nodes
        return board, counts

    def parse_only():
        for _, texts in batches:
            for t in texts:
                canonical_samples(t)

    # Warm-up (numba kernels, the pool), untimed.
    search_step(*batches[0], executor, relabel_experiences=False)
    shared_step(*batches[0], scorer, executor)
    times: dict[str, list[float]] = {"old": [], "shared": [], "parse": []}
    execute: dict[str, list[float]] = {"old": [], "shared": []}
    results = {}
    for _ in range(args.repeat):
        for name, fn in (("old", old), ("shared", shared), ("parse", parse_only)):
            t0 = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - t0)
            if name in execute:
                execute[name].append(results[name][1]["execute"])
    (board_old, c_old), (board_new, c_new) = results["old"], results["shared"]
    same_selected = all(
        [(c.program, c.demo_accuracy, c.test_correct) for c in board_old.selected(t.id)]
        == [(c.program, c.demo_accuracy, c.test_correct) for c in board_new.selected(t.id)] for t in tasks)
    print(machine_info())
    print(f"{len(tasks)} tasks of {args.tasks}, {n_programs} programs sampled by {args.checkpoint} "
          f"({len(steps)} steps of up to {per_step} tasks), {args.threads} threads, limits {limits}")
    med = {k: statistics.median(v) for k, v in times.items()}
    ex = {k: statistics.median(v) for k, v in execute.items()}
    for name, counts in (("old", c_old), ("shared", c_new)):
        extra = f", {counts['lines']} lines computed" if "lines" in counts else ""
        print(f"{name:7s} median {med[name]:.3f} s of {', '.join(f'{t:.3f}' for t in times[name])}: "
              f"{n_programs / med[name]:,.0f} programs/s, {counts['runs']} program runs{extra}, "
              f"valid rate {counts['valid_samples'] / n_programs:.1%}; in the interpreter {ex[name]:.3f} s "
              f"({n_programs / ex[name]:,.0f} programs/s)")
    print(f"parsing alone (both ways do it, once per text): median {med['parse']:.3f} s "
          f"({n_programs / med['parse']:,.0f} programs/s)")
    print(f"ratio shared / old: {med['old'] / med['shared']:.2f}x programs/s end to end, "
          f"{(med['old'] - med['parse']) / (med['shared'] - med['parse']):.2f}x past parsing, "
          f"{ex['old'] / ex['shared']:.2f}x in the interpreter")
    print(f"solved old {len(board_old.solved())}, shared {len(board_new.solved())}: "
          f"{'identical' if board_old.solved() == board_new.solved() else 'DIFFERENT'} solved sets; "
          f"selected candidates {'identical' if same_selected else 'DIFFERENT'}")
    return 0 if board_old.solved() == board_new.solved() and same_selected else 1


def end_to_end(args) -> int:
    """Both ways through ``evaluate_checkpoint`` on the cpu preset, each into a fresh folder."""
    import tempfile

    from codeit.run.evaluation import evaluate_checkpoint

    config = make_config("cpu", {"execution": {"threads": args.threads}})
    tasks = load_tasks(args.tasks).tasks
    if args.max_tasks:
        tasks = tasks[: args.max_tasks]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, shared, overlap in (("old", False, False), ("new", True, True)):
            results[name] = evaluate_checkpoint(args.checkpoint, tasks, args.samples, Path(tmp) / name, config, "cpu",
                                                shared=shared, overlap=overlap)
    print(machine_info())
    print(f"{len(tasks)} tasks of {args.tasks}, {args.samples} samples per task, {args.checkpoint}, cpu preset")
    for name, r in results.items():
        print(f"{name}: {r['programs_sampled']} programs in {r['wall_seconds']:.1f} s, {r['programs_per_second']:.1f} "
              f"programs/s (sampling {r['sample_seconds']:.1f} s, scoring {r['scoring_seconds']:.2f} s, "
              f"{r['program_runs']} program runs), valid rate {r['valid_rate']:.1%}, solved {r['solved']}")
    old, new = results["old"], results["new"]
    print(f"ratio new / old: {new['programs_per_second'] / old['programs_per_second']:.2f}x programs/s end to end, "
          f"{old['scoring_seconds'] / new['scoring_seconds']:.2f}x in scoring")
    same = old["solved_ids"] == new["solved_ids"] and old["programs_sampled"] == new["programs_sampled"]
    print(f"solved sets {'identical' if same else 'DIFFERENT'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
