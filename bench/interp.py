"""Native interpreter versus the Python reference, on the same corpus, in one run.

Corpus: every seed program on every input of its ARC-AGI-1 training task, plus generated
programs (``codeit.dsl.generate``) each on a random training input. First both interpreters run
it once and their results are compared (a benchmark of wrong answers is worthless); then the
reference runs it ``--ref-reps`` times on one thread and the native interpreter ``--reps`` times
at every thread count from 1 to ``--threads``. Medians are reported: runs/s/core, primitive
calls (steps)/s/core, native over reference per core, and the speed-up over one thread.

    python bench/interp.py                   # full corpus
    python bench/interp.py --quick           # a smaller one, for a quick look
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from codeit.dsl.generate import GeneratorConfig, random_program
from codeit.dsl.interpreter import run as reference_run
from codeit.execute.align import compare
from codeit.execute.limits import Limits
from codeit.execute.native import NativeInterpreter, default_threads, pack_grids
from codeit.grids import GridBatch
from machine import machine_info


def build_corpus(n_generated: int, seed: int, max_lines: int):
    from codeit.seeds import load_seeds
    from codeit.tasks import load_tasks

    training = load_tasks("arc1/training")
    programs, grids, jobs, parts = [], [], [], []
    for s in load_seeds():
        for pair in training[s.task_id].pairs:
            jobs.append((len(programs), len(grids)))
            grids.append(pair.input)
            parts.append("seeds")
        programs.append(s.program)
    rng = np.random.default_rng(seed)
    first_inputs = [t.train[0].input for t in training]
    offset = len(grids)
    grids.extend(first_inputs)
    config = GeneratorConfig(max_lines=max_lines)
    for _ in range(n_generated):
        jobs.append((len(programs), offset + int(rng.integers(len(first_inputs)))))
        programs.append(random_program(rng, config))
        parts.append("generated")
    return programs, grids, np.array(jobs, dtype=np.int32), np.array(parts)


def time_reference(programs, grids, jobs, limits: Limits) -> float:
    t0 = time.perf_counter()
    for p, g in jobs:
        reference_run(programs[p], grids[g], max_steps=limits.max_steps, time_limit=limits.time_limit,
                      max_value_size=limits.max_value_size)
    return time.perf_counter() - t0


def _control_worker(args) -> int:
    """One process of the control: build the corpus, wait for 'go', run it, print seconds."""
    import sys

    programs, grids, jobs, _ = build_corpus(args.generated, args.seed, args.max_lines)
    interp = NativeInterpreter(threads=1, limits=Limits(time_limit=args.time_limit))
    compiled = interp.compile(programs)
    batch = GridBatch(*pack_grids(grids))
    interp.run_batch(compiled, batch, jobs)
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    for _ in range(args.reps):
        interp.run_batch(compiled, batch, jobs)
    print(f"{(time.perf_counter() - t0) / args.reps:.6f}", flush=True)
    return 0


def process_control(args, n: int) -> float:
    """Median-free control: seconds per corpus pass when n single-thread processes run it at
    the same time (nothing shared: the best parallel speed this machine gives right now)."""
    import subprocess
    import sys

    cmd = [sys.executable, __file__, "--control-worker", "--generated", str(args.generated), "--seed", str(args.seed),
           "--max-lines", str(args.max_lines), "--reps", str(args.reps), "--time-limit", str(args.time_limit)]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    secs = [float(p.stdout.readline()) for p in procs]
    for p in procs:
        p.wait()
    return max(secs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", type=int, default=2000, help="generated programs in the corpus")
    ap.add_argument("--max-lines", type=int, default=12, help="lines of a generated program, at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=7, help="native repetitions per thread count")
    ap.add_argument("--ref-reps", type=int, default=3, help="reference repetitions")
    ap.add_argument("--threads", type=int, default=default_threads(), help="highest native thread count")
    ap.add_argument("--time-limit", type=float, default=1.0, help="per-run wall-time budget (both)")
    ap.add_argument("--quick", action="store_true", help="400 generated programs, 3 + 1 repetitions")
    ap.add_argument("--no-control", action="store_true", help="skip the independent-process control")
    ap.add_argument("--control-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.control_worker:
        return _control_worker(args)
    if args.quick:
        args.generated, args.reps, args.ref_reps = 400, 3, 1
    limits = Limits(time_limit=args.time_limit)

    programs, grids, jobs, parts = build_corpus(args.generated, args.seed, args.max_lines)
    n_jobs = len(jobs)
    print(machine_info(numpy=np.__version__))
    print(f"corpus: {int((parts == 'seeds').sum())} seed runs ({len(programs) - args.generated} seed programs on "
          f"their ARC-AGI-1 training tasks' inputs) + {args.generated} generated programs (max {args.max_lines} "
          f"lines, seed {args.seed}) on training inputs = {n_jobs} runs; limits {limits}")

    data, shapes = pack_grids(grids)
    batch = GridBatch(data, shapes)
    interp = NativeInterpreter(threads=1, limits=limits)
    compiled = interp.compile(programs)
    native = interp.run_batch(compiled, batch, jobs)
    ref = [reference_run(programs[p], grids[g], max_steps=limits.max_steps, time_limit=limits.time_limit,
                         max_value_size=limits.max_value_size) for p, g in jobs]
    mismatches = compare(programs, native, ref)
    steps = {part: int(native.steps[parts == part].sum()) for part in ("seeds", "generated")}
    statuses = {name: int((native.status == code).sum()) for code, name in
                enumerate(["OK", "TIMEOUT", "STEP_LIMIT", "SIZE_LIMIT", "TYPE_ERROR", "RUNTIME_ERROR", "BAD_OUTPUT"])}
    print(f"check: {len(mismatches)} runs differ from the reference; native statuses {statuses}; "
          f"steps: seeds {steps['seeds']}, generated {steps['generated']}")
    total_steps = int(native.steps.sum())

    # Reference, one thread, per corpus part and whole.
    ref_times = {"seeds": [], "generated": []}
    for _ in range(args.ref_reps):
        for part in ref_times:
            ref_times[part].append(time_reference(programs, grids, jobs[parts == part], limits))
    ref_part = {part: statistics.median(ts) for part, ts in ref_times.items()}
    ref_all = sum(ref_part.values())

    # Native, every thread count, whole corpus; one thread also per part.
    nat_part = {}
    for part in ("seeds", "generated"):
        sub_jobs = jobs[parts == part]
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            interp.run_batch(compiled, batch, sub_jobs)
            times.append(time.perf_counter() - t0)
        nat_part[part] = statistics.median(times)
    by_threads, cpu_by_threads = {}, {}
    for t in range(1, args.threads + 1):
        pool = NativeInterpreter(threads=t, limits=limits)
        pool.run_batch(compiled, batch, jobs)  # warm the workers' arenas
        times, cpus = [], []
        for _ in range(args.reps):
            t0, c0 = time.perf_counter(), time.process_time()
            pool.run_batch(compiled, batch, jobs)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        by_threads[t] = statistics.median(times)
        cpu_by_threads[t] = statistics.median(cpus)

    print()
    print(f"{'':28s}{'runs/s/core':>14s}{'steps/s/core':>16s}{'native/reference':>18s}")
    for part in ("seeds", "generated"):
        n = int((parts == part).sum())
        print(f"reference, {part:<17s}{n / ref_part[part]:14.0f}{steps[part] / ref_part[part]:16.0f}")
        print(f"native 1 thread, {part:<11s}{n / nat_part[part]:14.0f}{steps[part] / nat_part[part]:16.0f}"
              f"{ref_part[part] / nat_part[part]:17.1f}x")
    print(f"reference, whole corpus      {n_jobs / ref_all:14.0f}{total_steps / ref_all:16.0f}")
    base, base_cpu = by_threads[1], cpu_by_threads[1]
    for t, secs in by_threads.items():
        per_core = secs * t
        print(f"native {t} thread{'s' if t > 1 else ' '}, whole     {n_jobs / per_core:14.0f}"
              f"{total_steps / per_core:16.0f}{ref_all / per_core:17.1f}x   wall speed-up over 1 thread "
              f"{base / secs:.2f}x; cores obtained {cpu_by_threads[t] / secs:.2f}; "
              f"CPU per run vs 1 thread {cpu_by_threads[t] / base_cpu:.2f}")
    if not args.no_control:
        one = process_control(args, 1)
        for t in range(2, args.threads + 1):
            many = process_control(args, t)
            print(f"control: {t} independent 1-thread processes at once: {t * one / many:.2f}x the "
                  f"throughput of one (the machine's attainable speed-up now; threads above: "
                  f"{base / by_threads[t]:.2f}x)")
    print()
    print("(wall speed-up needs idle cores: on a shared machine compare 'cores obtained' with the thread "
          "count, and the threads' speed-up with the independent processes'; 'CPU per run' near 1.00 "
          "means threads do not slow each other down)")
    print("targets: native >= 50x reference per core; >= 500,000 primitive calls/s/core; "
          "2 threads >= 1.8x 1 thread")
    print(f"medians of {args.reps} native and {args.ref_reps} reference repetitions; "
          f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if not mismatches else 1


if __name__ == "__main__":
    raise SystemExit(main())
