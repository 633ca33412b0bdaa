"""Coverage of the seed library: tasks covered, program lengths, primitives used and never used.

With --verify, every seed is also run by the reference interpreter on all train and test pairs of
its ARC-AGI-1 training task.
"""

from __future__ import annotations

import argparse
from collections import Counter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", help="folder of .dsl seed files (default: the installed seed library)")
    parser.add_argument("--verify", action="store_true", help="run every seed on its task and report failures")


def primitive_usage(seeds) -> Counter:
    """How many seed lines call or pass each primitive."""
    used: Counter = Counter()
    for seed in seeds:
        for line in seed.program.lines:
            for ref in (line.func, *line.args):
                if ref.kind == "prim":
                    used[str(ref.value)] += 1
    return used


def main(args: argparse.Namespace) -> int:
    import numpy as np

    from codeit.dsl import registry
    from codeit.seeds import load_seeds
    from codeit.tasks import load_tasks

    seeds = load_seeds(args.folder)
    training = load_tasks("arc1/training")
    training_ids = set(training.ids)
    covered = [s for s in seeds if s.task_id in training_ids]
    foreign = [s.task_id for s in seeds if s.task_id not in training_ids]
    lengths = np.array([len(s.program.lines) for s in seeds]) if seeds else np.zeros(1, dtype=int)
    print(f"seed programs: {len(seeds)}")
    print(f"ARC-AGI-1 training tasks covered: {len(covered)} / {len(training_ids)}")
    if foreign:
        print(f"files naming no ARC-AGI-1 training task: {', '.join(foreign)}")
    print(
        f"program length (lines): min {lengths.min()}, median {int(np.median(lengths))}, "
        f"mean {lengths.mean():.1f}, max {lengths.max()}"
    )
    used = primitive_usage(seeds)
    print(f"primitives used: {len(used)} / {len(registry.PRIMITIVES)}")
    for name, count in used.most_common():
        print(f"  {name:14s} {count}")
    unused = [p.name for p in registry.PRIMITIVES if p.name not in used]
    print(f"primitives never used ({len(unused)}): {', '.join(unused) if unused else '-'}")
    if args.verify:
        from codeit.dsl.interpreter import run

        failures = 0
        for seed in covered:
            task = training[seed.task_id]
            for k, pair in enumerate(task.pairs):
                result = run(seed.program, pair.input)
                if result.status != 0 or not np.array_equal(np.array(result.output), pair.output):
                    failures += 1
                    print(f"FAIL {seed.task_id} pair {k}: status {result.status.name} {result.error or ''}")
                    break
        print(f"verified: {len(covered) - failures} / {len(covered)} solve every train and test pair")
        return 1 if failures else 0
    return 0
