"""The mutation baseline: N mutants of the seed set, run on every task of a search set.

Writes solved.csv (tasks solved against mutants generated, at 9,600, 19,200, 38,400, ... and the
end), mutants.jsonl and state.json into --out; run it again with the same --out to resume.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from codeit.commands.executor_options import add_executor_arguments, executor_from_args
from codeit.execute.limits import SEARCH_LIMITS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mutants", type=int, default=19_200, help="mutants to generate (default 19,200)")
    parser.add_argument("--search-set", default="arc1/evaluation", help="tasks to solve (default arc1/evaluation)")
    parser.add_argument("--max-tasks", type=int, default=0, help="use only the first N search tasks (0: all)")
    parser.add_argument("--seeds", help="folder of .dsl seed programs (default: the built-in seed library)")
    parser.add_argument("--seed-tasks", default="arc1/training",
                        help="the task set the seed programs belong to (default arc1/training)")
    parser.add_argument("--out", default="runs/mutation-baseline", help="output folder; an existing one is resumed")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--chunk", type=int, default=64, help="mutants evaluated per step (and per saved state)")
    add_executor_arguments(parser, SEARCH_LIMITS)


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from codeit.search.baseline import run_baseline
    from codeit.search.initial import load_seed_set
    from codeit.tasks import load_tasks

    seeds, seed_tasks = load_seed_set([args.seeds] if args.seeds else [], args.seed_tasks)
    search = load_tasks(args.search_set).tasks
    if args.max_tasks:
        search = search[: args.max_tasks]
    executor = executor_from_args(args, SEARCH_LIMITS)
    print(f"{len(seeds)} seeds, {len(search)} search tasks from {args.search_set}")
    bar = tqdm(total=args.mutants, unit="mutant", desc="mutation baseline")

    def progress(done: int, total: int, solved: int) -> None:
        bar.n = done
        bar.set_postfix(solved=solved)
        bar.refresh()

    result = run_baseline(seeds, seed_tasks, search, args.mutants, Path(args.out), executor,
                          seed=args.seed, chunk=args.chunk, progress=progress)
    bar.close()
    for row in result.rows:
        print(f"{row['mutants']:>8} mutants: {row['tasks_solved']} tasks solved ({row['seconds']} s)")
    print(f"solved {len(result.solved)} / {len(search)}: {' '.join(result.solved)}")
    print(f"wrote {Path(args.out) / 'solved.csv'}")
    return 0
