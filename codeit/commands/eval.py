"""Evaluate a checkpoint on a task set with a sample budget (resumable, for large budgets).

Per task: sample --samples programs, run them, keep the top 3 by demo accuracy then length, and
count the task when one of them gets every test output right. Running again with the same --out
continues where it stopped. The next step of tasks is sampled while the last one's programs run;
with the native interpreter a task's programs share the lines they have in common and stop at
their first failed demonstration. The summary gives the valid rate (share of sampled programs that
run to a valid grid on every demonstration) and programs/s (end to end, sampling, scoring).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from codeit.commands.run import add_ray_argument, build_config, ray_executor, ray_sampler, require_run_extras


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="policy folder (a run's checkpoints/iter_NNN, or any saved model)")
    parser.add_argument("--tasks", default="arc1/evaluation", help="task set spec or path (default arc1/evaluation)")
    parser.add_argument("--max-tasks", type=int, default=0, help="use only the first N tasks (0: all)")
    parser.add_argument("--samples", type=int, default=24, help="programs sampled per task (default 24)")
    parser.add_argument("--out", default="runs/eval", help="output folder; an existing one is resumed")
    parser.add_argument("--config", help="YAML settings for sampling and execution (default: tiny preset)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one setting")
    add_ray_argument(parser)


def main(args: argparse.Namespace) -> int:
    require_run_extras(args, "eval")
    from codeit.run.driver import resolve_device
    from codeit.run.evaluation import evaluate_checkpoint
    from codeit.tasks import load_tasks

    args.preset = None
    config = build_config(args)
    tasks = load_tasks(args.tasks).tasks
    if args.max_tasks:
        tasks = tasks[: args.max_tasks]
    executor = ray_executor(args.ray, config)
    try:
        result = evaluate_checkpoint(args.checkpoint, tasks, args.samples, Path(args.out), config,
                                     resolve_device(config.policy.device), executor=executor,
                                     sampler_factory=ray_sampler(args.ray))
    finally:
        if executor is not None:
            executor.close()
    print(f"solved {result['solved']} / {result['tasks']} tasks with {args.samples} samples per task "
          f"({result['programs_sampled']} programs, {result['parse_rate']:.0%} parse, "
          f"{result['valid_rate']:.1%} valid, {result['programs_per_second']:.1f} programs/s: "
          f"sampling {result['sampling_programs_per_second']:.1f}/s, "
          f"scoring {result['scoring_programs_per_second']:.1f}/s, overlapped)")
    if result["solved_ids"]:
        print("solved: " + " ".join(result["solved_ids"]))
    print(json.dumps({k: v for k, v in result.items() if k != "solved_ids"}))
    return 0
