"""Ray's cost per job: the local native executor against RayExecutor on one machine, across batch sizes.

    python bench/cluster.py                          # 2 CPUs: local 2 threads vs 2 actors x 1 thread
    python bench/cluster.py --batch-sizes 128 512 2048 --reps 5 --tile 4

Corpus: every seed program on its own training task's inputs, plus generated programs
(``codeit.dsl.generate.random_program``) on inputs of the first training tasks, job rows shuffled
(or program-major with ``--order program``, as the loop sends them), then tiled ``--tile`` times. Both backends run the same jobs under the same limits with the same
number of threads in all (local: one process with ``actors * threads`` threads; Ray: ``actors``
actors of ``threads`` threads, on a local Ray cluster of that many CPUs). For every repetition the
local run and each Ray run are timed back to back, so a change in the machine's load hits both;
the figure per batch size is the ratio of the medians, and the overhead is that ratio minus one.
Both wall time and CPU time are measured (CPU: this process, plus the actors' processes for Ray):
on a loaded, shared machine the CPU ratio is the steadier measure of what Ray adds per job.
The first batch size with an overhead under 10% is printed; past ``jobs / actors`` one actor
gets all the work, so the overhead grows again at the largest sizes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from codeit.dsl.generate import random_program
from codeit.execute.native import NativeExecutor
from codeit.execute.limits import Limits
from codeit.seeds import load_seeds
from codeit.tasks import load_tasks
from machine import machine_info

OVERHEAD_TARGET = 0.10


def build_corpus(generated: int, tile: int, seed: int, order: str = "shuffled"):
    """(programs, grids, jobs, description)."""
    training = load_tasks("arc1/training")
    by_id = {t.id: t for t in training}
    programs, grids, jobs = [], [], []
    seeds = [s for s in load_seeds() if s.task_id in by_id]
    for s in seeds:
        first = len(grids)
        grids.extend(p.input for p in by_id[s.task_id].pairs)
        jobs.extend((len(programs), g) for g in range(first, len(grids)))
        programs.append(s.program)
    seed_jobs = len(jobs)
    rng = np.random.default_rng(seed)
    shared = len(grids)
    grids.extend(p.input for t in list(training)[:8] for p in t.train[:2])
    for _ in range(generated):
        jobs.extend((len(programs), g) for g in range(shared, len(grids)))
        programs.append(random_program(rng))
    jobs = np.array(jobs, dtype=np.int64)
    if order == "shuffled":
        jobs = jobs[rng.permutation(len(jobs))]
    jobs = np.tile(jobs, (tile, 1))
    description = (f"corpus: {len(seeds)} seed programs on their tasks' inputs ({seed_jobs} jobs) + {generated} "
                   f"generated programs on {len(grids) - shared} training inputs ({len(jobs) // tile - seed_jobs} jobs), "
                   f"{'shuffled' if order == 'shuffled' else 'program-major'}, tiled x{tile}: {len(jobs)} jobs, {len(programs)} programs, {len(grids)} grids")
    return programs, grids, jobs, description


def timed(fn, other_cpu=lambda: 0.0) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process plus ``other_cpu``'s processes) of one call."""
    c0, t0 = time.process_time() + other_cpu(), time.perf_counter()
    fn()
    t1 = time.perf_counter()
    return t1 - t0, time.process_time() + other_cpu() - c0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actors", type=int, default=2, help="Ray actors (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="native threads per actor (default 1)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256, 1024, 4096])
    parser.add_argument("--generated", type=int, default=300, help="generated programs (default 300)")
    parser.add_argument("--tile", type=int, default=2, help="repeat the job list this many times (default 2)")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per batch size (default 5)")
    parser.add_argument("--order", choices=["shuffled", "program"], default="shuffled",
                        help="job rows shuffled (every batch touches most programs), or program-major as the loop "
                             "sends them (default shuffled)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import ray
    except ImportError:
        print("bench/cluster.py needs Ray: pip install -c constraints/cpu.txt 'ray[default]'")
        return 2
    from codeit.execute.ray import RayExecutor, RayExecutorConfig

    limits = Limits()
    programs, grids, jobs, description = build_corpus(args.generated, args.tile, args.seed, args.order)
    cpus = args.actors * args.threads
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    print(machine_info(numpy=np.__version__, ray=ray.__version__))
    print(description)
    print(f"limits: {limits}; local: NativeExecutor with {cpus} threads; "
          f"ray: {args.actors} actors x {args.threads} threads, 2 batches in flight per actor; {args.reps} reps")
    local = NativeExecutor(limits=limits, threads=cpus)
    expected = local.run(programs, grids, jobs)
    rows = []
    try:
        for size in args.batch_sizes:
            with RayExecutor(limits, RayExecutorConfig(actors=args.actors, threads_per_actor=args.threads,
                                                       batch_size=size)) as executor:
                got = executor.run(programs, grids, jobs)  # warm-up: actor imports, first compile
                same = bool((got.status == expected.status).mean() > 0.999)
                local_s, ray_s = [], []
                for _ in range(args.reps):
                    local_s.append(timed(lambda: local.run(programs, grids, jobs)))
                    ray_s.append(timed(lambda: executor.run(programs, grids, jobs), executor.cpu_seconds))
            lw, rw = (statistics.median(t[0] for t in s) for s in (local_s, ray_s))
            lc, rc = (statistics.median(t[1] for t in s) for s in (local_s, ray_s))
            rows.append((size, rw / lw - 1, rc / lc - 1))
            print(f"batch {size:>6}: {-(-len(jobs) // size):>5} batches | wall: local {lw * 1e3:7.1f} ms, ray {rw * 1e3:7.1f} ms, "
                  f"ratio {rw / lw:5.2f}, per job {(rw - lw) / len(jobs) * 1e6:+6.2f} us | cpu: local {lc * 1e3:7.1f} ms, "
                  f"ray {rc * 1e3:7.1f} ms, ratio {rc / lc:5.2f}{'' if same else ' | STATUS MISMATCH'}")
            sys.stdout.flush()
    finally:
        ray.shutdown()
    for name, column in (("wall", 1), ("cpu", 2)):
        under = [row[0] for row in rows if row[column] < OVERHEAD_TARGET]
        print(f"{name} overhead under {OVERHEAD_TARGET:.0%}: " +
              (f"from batch size {under[0]} (sizes under it: {', '.join(map(str, under))})" if under
               else "at none of the sizes tried"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
