"""Large-budget evaluation of one checkpoint: sample N programs per task, run, pick 3, count solved.

Resumable: the output folder's store holds every candidate found and the progress (round of
sampling, tasks done), written together after every step of tasks; running again continues, and
each step's programs are drawn with a seed of its own (run seed, round, first task), so a resumed
evaluation samples what an uninterrupted one does. The checkpoint is checked, and the sampler
started, before the folder is made: a start that fails leaves nothing behind.

Sampling overlaps execution: while one step's programs run (in a thread: the native interpreter
releases the GIL), the next step is sampled; steps are stored in order, so a stop loses at most
the steps not yet stored, and they are sampled again with the same seeds. With the native
interpreter a step is scored by ``codeit.search.shared.shared_step`` (a task's distinct programs in
groups that compute their common lines once per input, each program stopping at its first failed
demonstration, tests run for each task's best 3 candidates only, which are the candidates stored);
with another executor (Ray, the reference) by ``search_step``. Both select the same candidates.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from codeit.buffer.store import ExperienceStore
from codeit.run.scoreboard import Scoreboard, from_solutions, to_solution
from codeit.execute.backends import describe, make_executor
from codeit.run import report
from codeit.run.config import RunConfig
from codeit.search.step import StepStats, search_step
from codeit.tasks import Task


def evaluate_checkpoint(
    checkpoint: str,
    tasks: list[Task],
    samples_per_task: int,
    out_dir: Path,
    config: RunConfig,
    device: str,
    executor=None,
    sampler_factory=None,
    shared: bool | None = None,
    overlap: bool = True,
) -> dict:
    """Sample ``samples_per_task`` programs for every task (in rounds of config.sampling.samples_per_task).

    ``shared``: score with the shared scorer (default: when the executor is native); ``overlap``:
    sample the next step while the last one runs."""
    from codeit.policy.shipped import require_model
    from codeit.run.driver import sampling_seed

    if sampler_factory is None:
        from codeit.run.sampling import open_run_sampler as sampler_factory

    require_model(str(checkpoint), "checkpoint")
    meta = {"checkpoint": str(checkpoint), "tasks": [t.id for t in tasks], "samples_per_task": samples_per_task}
    db = out_dir / "evaluation.db"
    if db.exists():
        with ExperienceStore(db) as store:
            stored_meta = store.get_state("evaluation")
        if stored_meta is not None and stored_meta != meta:
            raise ValueError(f"{out_dir} holds an evaluation of other settings ({stored_meta['checkpoint']}, "
                             f"{len(stored_meta['tasks'])} tasks, {stored_meta['samples_per_task']} samples): use a new folder")
    per_round = config.sampling.samples_per_task
    rounds = math.ceil(samples_per_task / per_round)
    by_id = {t.id: t for t in tasks}
    ex = config.execution
    if executor is None:
        executor = make_executor(ex.backend, limits=ex.limits, threads=ex.threads)
    print(describe(executor), flush=True)
    sampler = sampler_factory(config, Path(checkpoint), device)
    made = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        store = ExperienceStore(db)
        store.set_state("evaluation", meta)
    except BaseException:
        sampler.close()
        if made:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    progress = store.get_state("progress", {"round": 0, "tasks_done": 0, "stats": {}, "sample_seconds": 0.0})
    progress.setdefault("execute_seconds", 0.0)
    progress.setdefault("seconds", 0.0)
    stats = StepStats(**progress["stats"]) if progress["stats"] else StepStats()
    use_shared = getattr(executor, "name", "") == "native" if shared is None else shared
    if use_shared and getattr(executor, "name", "") != "native":
        store.close()
        sampler.close()
        raise ValueError(f"shared scoring needs the native executor, not {getattr(executor, 'name', executor)!r}")
    if use_shared:
        from codeit.search.shared import SharedScorer, shared_step

        scorer = SharedScorer(executor.limits, executor.threads, pool=executor.pool)

        def score(batch, samples):
            return shared_step(batch, samples, scorer, executor)
    else:
        def score(batch, samples):
            return search_step(batch, samples, executor, relabel_experiences=False)

    def timed_score(batch, samples):
        t0 = time.perf_counter()
        step = score(batch, samples)
        return step, time.perf_counter() - t0

    # Every step still to run, in order: (round, first task, samples per task).
    steps = [(r, start, min(per_round, samples_per_task - r * per_round))
             for r in range(progress["round"], rounds)
             for start in range(progress["tasks_done"] if r == progress["round"] else 0, len(tasks),
                                config.tasks_per_step)]
    started = time.perf_counter()
    mark = started
    bar = tqdm(total=rounds * len(tasks), initial=progress["round"] * len(tasks) + progress["tasks_done"],
               desc="evaluation", unit="task")
    running: tuple[Future, int, int, int, float] | None = None
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eval-score")

    def store_step(pending: tuple[Future, int, int, int, float]) -> None:
        nonlocal mark
        future, r, start, size, sample_seconds = pending
        step, seconds = future.result()
        stats.add(step.stats)
        done = start + size
        now = time.perf_counter()
        progress["sample_seconds"] += sample_seconds
        progress["execute_seconds"] += seconds
        progress["seconds"] += now - mark
        mark = now
        if done >= len(tasks):
            progress.update(round=r + 1, tasks_done=0, stats=dataclasses.asdict(stats))
        else:
            progress.update(round=r, tasks_done=done, stats=dataclasses.asdict(stats))
        # The step's candidates and the progress that counts them in one transaction.
        store.add_experiences((), solutions=[to_solution(c, r) for c in step.candidates],
                              state={"progress": progress})
        bar.update(size)

    try:
        for r, start, n in steps:
            batch = tasks[start : start + config.tasks_per_step]
            t0 = time.perf_counter()
            sampler.set_samples(n, seed=sampling_seed(config, r, start))
            samples = sampler.sample_tasks(batch)
            sample_seconds = time.perf_counter() - t0
            if running is not None:
                pending, running = running, None
                store_step(pending)
            running = (worker.submit(timed_score, batch, samples), r, start, len(batch), sample_seconds)
            if not overlap:
                pending, running = running, None
                store_step(pending)
        if running is not None:
            pending, running = running, None
            store_step(pending)
    finally:
        # A step still running is waited for (never left writing), not stored.
        worker.shutdown(wait=True, cancel_futures=True)
        bar.close()
        sampler.close()
    board = Scoreboard()
    board.add(from_solutions(store.solutions(), by_id))
    solved = board.solved()
    selected = {t.id: board.selected(t.id) for t in tasks if board.selected(t.id)}
    report.write_solutions(out_dir, selected)
    result = {
        "checkpoint": str(checkpoint),
        "executor": describe(executor),
        "tasks": len(tasks),
        "samples_per_task": samples_per_task,
        "scoring": "shared (codeit.search.shared)" if use_shared else "every distinct program on every input",
        "programs_sampled": stats.sampled,
        "parse_rate": stats.parse_rate,
        "valid_rate": stats.valid_rate,
        "mean_demo_accuracy": stats.mean_valid_accuracy,
        "solved": len(solved),
        "solved_ids": solved,
        "program_runs": stats.runs,
        "programs_per_second": stats.sampled / progress["seconds"] if progress["seconds"] else 0.0,
        "sampling_programs_per_second": stats.sampled / progress["sample_seconds"] if progress["sample_seconds"] else 0.0,
        "scoring_programs_per_second": stats.sampled / progress["execute_seconds"] if progress["execute_seconds"] else 0.0,
        "wall_seconds": progress["seconds"],
        "sample_seconds": progress["sample_seconds"],
        "scoring_seconds": progress["execute_seconds"],
        "wall_seconds_this_call": time.perf_counter() - started,
    }
    (out_dir / "evaluation.json").write_text(json.dumps(result, indent=1))
    store.close()
    return result
