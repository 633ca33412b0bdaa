"""The mutation baseline: N mutants of the seed set, run on every task of a search set.

Reports tasks solved at CodeIt's budgets (9,600; 19,200; 38,400; 76,800; 278,400; 604,800; 979,200;
1,430,400) up to --mutants: solved.csv, curve.csv (each budget's tasks and how they were solved;
the seeds alone as budget 0), curve.png (with CodeIt's depth-1 figures when the search set is
ARC-AGI-1 evaluation), summary.json, mutants.jsonl and state.json, all in --out; run it again with
the same --out to resume (mid-curve: a kill loses at most the block being scored).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from codeit.commands.executor_options import add_executor_arguments, executor_from_args
from codeit.execute.limits import SEARCH_LIMITS

LOG_EVERY_S = 60.0
"""How often progress is logged when standard error is not a terminal (one plain line each)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mutants", type=int, default=19_200,
                        help="mutants to score (default 19,200; CodeIt's largest budget is 1,430,400)")
    parser.add_argument("--search-set", default="arc1/evaluation", help="tasks to solve (default arc1/evaluation)")
    parser.add_argument("--max-tasks", type=int, default=0, help="use only the first N search tasks (0: all)")
    parser.add_argument("--seeds", nargs="+", metavar="FOLDER",
                        help="folders of .dsl seed programs, as a run's seed_dirs ('builtin': the built-in "
                             "library; default: it alone), e.g. --seeds builtin runs/imported")
    parser.add_argument("--seed-tasks", default="arc1/training",
                        help="the task set the seed programs belong to (default arc1/training)")
    parser.add_argument("--out", default="runs/mutation-baseline", help="output folder; an existing one is resumed")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--chunk", type=int, default=9_600,
                        help="mutants scored per block (and per saved state; larger blocks share more work)")
    add_executor_arguments(parser, SEARCH_LIMITS, ray=True)


class Progress:
    """A bar with an ETA on a terminal; on anything else (a log file) one plain line a minute."""

    def __init__(self, total: int, stream=None, initial: int = 0):
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.tty = self.stream.isatty()
        self.bar = None
        # The rate (and so the ETA) counts this session's mutants only, from when it started.
        self.start = (time.monotonic(), initial)
        self.last_log = 0.0
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="mutant", desc="mutation baseline", file=self.stream)

    def __call__(self, done: int, total: int, solved: int) -> None:
        now = time.monotonic()
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            self.bar.set_postfix(solved=solved)
            return
        if now - self.last_log < LOG_EVERY_S and done < total:
            return
        self.last_log = now
        t0, d0 = self.start
        rate = (done - d0) / (now - t0) if now > t0 and done > d0 else 0.0
        eta = f", ETA {format_seconds((total - done) / rate)}" if rate > 0 and done < total else ""
        print(f"mutation baseline: {done:,}/{total:,} mutants ({done / total:.1%}), {solved} solved, "
              f"{rate:.0f} mutants/s{eta}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def format_seconds(s: float) -> str:
    s = round(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def plot_curve(path: Path, curve: list[dict], reference: dict[int, int] | None) -> Path | None:
    """Tasks solved against mutants (log scale), with the authors' figures when given; None
    without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    points = [r for r in curve if int(r["mutants"]) > 0]
    ax.plot([int(r["mutants"]) for r in points], [int(r["tasks_solved"]) for r in points], "o-", label="this run")
    seeds = next((r for r in curve if int(r["mutants"]) == 0), None)
    if seeds is not None:
        ax.axhline(int(seeds["tasks_solved"]), color="grey", ls=":", label="seeds alone")
    if reference:
        ax.plot(list(reference), list(reference.values()), "s--", label="CodeIt depth-1 (paper)")
    ax.set_xscale("log")
    ax.set_xlabel("mutants")
    ax.set_ylabel("tasks solved")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def read_curve(out: Path) -> list[dict]:
    import csv

    with open(out / "curve.csv", newline="") as f:
        return list(csv.DictReader(f))


def main(args: argparse.Namespace) -> int:
    from codeit.commands.errors import CommandError
    from codeit.search.baseline import (
        AUTHORS_DEPTH1,
        BUDGETS,
        report_points,
        run_baseline,
    )
    from codeit.search.initial import load_seed_set
    from codeit.tasks import load_tasks

    if args.mutants < 1:
        raise CommandError(f"--mutants must be at least 1, got {args.mutants}")
    if args.chunk < 1:
        raise CommandError(f"--chunk must be at least 1, got {args.chunk}")
    seeds, seed_tasks = load_seed_set(args.seeds or [], args.seed_tasks)
    search = load_tasks(args.search_set).tasks
    if args.max_tasks:
        search = search[: args.max_tasks]
    executor = executor_from_args(args, SEARCH_LIMITS)
    print(f"{len(seeds)} seeds, {len(search)} search tasks from {args.search_set}")
    out = Path(args.out)
    state = out / "state.json"
    progress = Progress(args.mutants, initial=json.loads(state.read_text())["evaluated"] if state.exists() else 0)
    reference = None
    if args.search_set == "arc1/evaluation" and not args.max_tasks:
        reference = dict(zip(BUDGETS, AUTHORS_DEPTH1))
    points = set(report_points(args.mutants))

    def progress_and_plot(done: int, total: int, solved: int) -> None:
        progress(done, total, solved)
        if done in points:  # a new budget row: the picture follows the curve as it grows
            plot_curve(out / "curve.png", read_curve(out), reference)

    try:
        result = run_baseline(seeds, seed_tasks, search, args.mutants, out, executor,
                              seed=args.seed, chunk=args.chunk, progress=progress_and_plot)
    finally:
        progress.close()
        if args.executor == "ray":  # its actors
            executor.close()
    curve = read_curve(out)
    for row in curve:
        label = "seeds alone" if int(row["mutants"]) == 0 else f"{int(row['mutants']):>8} mutants"
        print(f"{label:>16}: {row['tasks_solved']} tasks solved ({row['solved_all_demos']} with every demo right, "
              f"{row['solved_partial_demos']} partial) ({row['seconds']} s)")
    s = result.summary
    print(f"mutants: {s['mutants_drawn']:,} drawn, {s['mutants_duplicate']:,} duplicate, "
          f"{s['mutants_valid']:,} valid on their seed's task, {s['mutants_scored']:,} scored")
    print(f"wall {s['wall_seconds']} s ({s['growing_seconds']} s growing, {s['scoring_seconds']} s scoring), "
          f"{s['mutants_per_s']} mutants/s, {s['program_runs']:,} program runs ({s['program_runs_per_s']:,}/s; "
          f"{s['program_runs_without_sharing']:,} without sharing), scoring: {s['scoring']}")
    if s["run_outcomes"]:
        print("run outcomes: " + ", ".join(f"{k} {v:,}" for k, v in s["run_outcomes"].items()))
    print("seeds are not candidates: scored apart, as budget 0")
    print(f"solved {len(result.solved)} / {len(search)}: {' '.join(result.solved)}")
    plot = plot_curve(out / "curve.png", curve, reference)
    print(f"wrote {out / 'solved.csv'}, {out / 'curve.csv'}" + (f", {plot}" if plot else "")
          + f", {out / 'summary.json'}")
    return 0
