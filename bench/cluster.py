"""Ray's cost per job: the local native executor against RayExecutor on one machine, across batch sizes.

    python bench/cluster.py                          # 2 CPUs: 1 and 2 workers, batches of 1,024 and 4,096
    python bench/cluster.py --actors 2 --batch-sizes 128 512 2048 --reps 5 --tile 4
    python bench/cluster.py --fresh                  # new programs every call (the loop's pattern)

Corpus: every seed program on its own training task's inputs, plus generated programs
(``codeit.dsl.generate.random_program``) on inputs of the first training tasks, job rows shuffled
(or program-major with ``--order program``, as the loop sends them), then tiled ``--tile`` times.
All backends run the same jobs under the same limits with the same number of threads in all, for
each worker count W of ``--actors``:

- local: ``NativeExecutor.run`` with W threads in this process (compiles and packs every call);
- local, resident: ``NativeInterpreter.run_batch`` with W threads on programs compiled and grids
  packed once, before timing: the least a call can cost here, so Ray's true overhead;
- ray: ``RayExecutor.run``, W actors of ``--threads`` threads on a local Ray cluster; the actors
  keep programs and grids resident, so a repeated call ships only its job rows.

With ``--fresh`` every repetition draws new generated programs (both backends get the same ones),
so Ray ships and compiles every call's programs again, as in the loop. For every repetition the
three runs are timed back to back, so a change in the machine's load hits all; the figure per
batch size is the ratio of the medians, and the overhead is that ratio minus one. Both wall time
and CPU time are measured (CPU: this process, plus the actors' processes for Ray): on a loaded,
shared machine the CPU ratio is the steadier measure of what Ray adds per job.
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


def timed(fn, other_cpu=lambda: 0.0) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process plus ``other_cpu``'s processes, of this process alone) of one call."""
    o0, c0, t0 = other_cpu(), time.process_time(), time.perf_counter()
    fn()
    t1, c1 = time.perf_counter(), time.process_time()
    return t1 - t0, c1 - c0 + other_cpu() - o0, c1 - c0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2],
                        help="worker counts to compare: Ray actors, and local threads / --threads (default 1 2)")
    parser.add_argument("--threads", type=int, default=1, help="native threads per actor (default 1)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--inflight", type=int, default=3, help="batches in flight per actor (default 3)")
    parser.add_argument("--generated", type=int, default=300, help="generated programs (default 300)")
    parser.add_argument("--tile", type=int, default=2, help="repeat the job list this many times (default 2)")
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions per batch size (default 7)")
    parser.add_argument("--order", choices=["shuffled", "program"], default="shuffled",
                        help="job rows shuffled (every batch touches most programs), or program-major as the loop "
                             "sends them (default shuffled)")
    parser.add_argument("--fresh", action="store_true",
                        help="new generated programs every repetition (nothing resident to reuse but the grids)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import ray
    except ImportError:
        print("bench/cluster.py needs Ray: pip install -c constraints/cpu.txt 'ray[default]'")
        return 2
    from codeit.execute.native import CompiledPrograms, NativeInterpreter, pack_grids
    from codeit.execute.ray import RayExecutor, RayExecutorConfig
    from codeit.grids import GridBatch

    limits = Limits()
    corpora = [build_corpus(args.generated, args.tile, args.seed + (rep if args.fresh else 0), args.order)
               for rep in range(args.reps + 1 if args.fresh else 1)]
    corpus = lambda rep: corpora[rep + 1 if args.fresh else 0]  # noqa: E731 (rep -1: the warm-up)
    ray.init(num_cpus=max(args.actors) * args.threads, include_dashboard=False, log_to_driver=False)
    print(machine_info(numpy=np.__version__, ray=ray.__version__))
    print(corpora[0][3] + (f"; new generated programs every call ({len(corpora)} corpora)" if args.fresh else ""))
    print(f"limits: {limits}; {args.threads} native thread(s) per worker, {args.inflight} batches in flight per actor; "
          f"{args.reps} reps; medians")
    rows = []
    try:
        for workers in args.actors:
            cpus = workers * args.threads
            local = NativeExecutor(limits=limits, threads=cpus)
            interp = NativeInterpreter(threads=cpus, limits=limits)
            for size in args.batch_sizes:
                config = RayExecutorConfig(actors=workers, threads_per_actor=args.threads, batch_size=size,
                                           inflight_per_actor=args.inflight)
                with RayExecutor(limits, config) as executor:
                    programs, grids, jobs, _ = corpus(-1)
                    expected = local.run(programs, grids, jobs)
                    got = executor.run(programs, grids, jobs)  # warm-up: actor imports, first shipping
                    same = bool((got.status == expected.status).mean() > 0.999)
                    times: dict[str, list] = {"local": [], "resident": [], "ray": []}
                    for rep in range(args.reps):
                        programs, grids, jobs, _ = corpus(rep)
                        compiled = CompiledPrograms(programs)
                        packed = GridBatch(*pack_grids(grids))
                        job32 = jobs.astype(np.int32)
                        times["local"].append(timed(lambda: local.run(programs, grids, jobs)))
                        times["resident"].append(timed(lambda: interp.run_batch(compiled, packed, job32)))
                        times["ray"].append(timed(lambda: executor.run(programs, grids, jobs), executor.cpu_seconds))
                med = {k: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v)) for k, v in times.items()}
                (lw, lc), (sw, sc), (rw, rc) = med["local"], med["resident"], med["ray"]
                driver = statistics.median(t[2] for t in times["ray"])
                rows.append((workers, size, rw / lw - 1, rc / lc - 1, rw / sw - 1, rc / sc - 1))
                print(f"{workers} worker(s), batch {size:>5} ({-(-len(jobs) // size):>3} batches) | wall ms: local {lw * 1e3:6.1f}, "
                      f"resident {sw * 1e3:6.1f}, ray {rw * 1e3:6.1f}; ray/local {rw / lw:4.2f}, ray/resident {rw / sw:4.2f}, "
                      f"per job {(rw - sw) / len(jobs) * 1e6:+5.2f} us | cpu ms: local {lc * 1e3:6.1f}, resident {sc * 1e3:6.1f}, "
                      f"ray {rc * 1e3:6.1f} (driver {driver * 1e3:5.1f}); ray/local {rc / lc:4.2f}, ray/resident {rc / sc:4.2f}"
                      f"{'' if same else ' | STATUS MISMATCH'}")
                sys.stdout.flush()
    finally:
        ray.shutdown()
    for workers, size, *overheads in rows:
        verdict = ", ".join(f"{name} {o:+.0%} {'(<= 10%)' if o <= OVERHEAD_TARGET else '(> 10%)'}"
                            for name, o in zip(("wall vs local", "cpu vs local", "wall vs resident", "cpu vs resident"),
                                               overheads))
        print(f"{workers} worker(s), batch {size}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
