"""The driver of a self-improvement run: meta-iterations of sample -> run -> relabel -> store -> learn.

A run lives in one folder: ``config.yaml``, ``experience.db`` (the durable record: experiences,
candidate solutions, the metrics rows and the run state, one :class:`codeit.run.state.RunState`
record), ``checkpoints/`` (one policy per meta-iteration) and the reports of
:mod:`codeit.run.report`. Everything the driver has done is in the store before it is counted,
progress inside an iteration is recorded after every batch of tasks, and a finished iteration's
metrics row is committed in the same transaction as the state that counts it, so ``codeit run`` in
the same folder continues where a clean stop or a SIGKILL left it, and ``metrics.jsonl`` (rewritten
from the store) holds every finished iteration exactly once.

Order of work: the initial buffer (:mod:`codeit.search.initial`: the seed programs on their own
tasks, ``RunConfig.seed_tasks``, and their mutations), a
warm-up learning stage on it, then per meta-iteration: sample programs for every search task with
the current policy, run and relabel them, score candidates (policy-only and cumulative), learn.
In ``overlapped`` mode the learner trains on iteration k while the driver samples iteration k+1
with the policy it has, swapping in the new weights as soon as they arrive.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from codeit.buffer.store import ExperienceStore
from codeit.run.scoreboard import Scoreboard, from_solutions, solved_tasks, to_solution
from codeit.execute.backends import describe, make_executor
from codeit.run import report
from codeit.run.config import RunConfig, load_config, save_config
from codeit.run.samples import write_samples
from codeit.run.state import RunState, SamplingProgress
from codeit.search import initial
from codeit.train.learner import LearnerProcess
from codeit.search.step import StepStats, search_step
from codeit.relabel import Candidate
from codeit.seeds import Seed
from codeit.tasks import Task, load_tasks


def sampling_seed(config: RunConfig, iteration: int, start: int) -> int:
    """The seed of the programs sampled for the search tasks from ``start`` on in ``iteration``:
    fixed by the run's seed and the step, so a step sampled again after a stop draws the same."""
    return int(np.random.SeedSequence([config.seed, iteration, start]).generate_state(1)[0])


def resolve_device(name: str) -> str:
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class StageClock:
    """Wall seconds per stage, over the whole run (resumed runs continue the sums)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, stage: str, dt: float) -> None:
        self.seconds[stage] += dt

    def shares(self) -> dict[str, float]:
        total = sum(self.seconds.values()) or 1.0
        return {k: v / total for k, v in self.seconds.items()}


class Run:
    """One run folder."""

    def __init__(self, run_dir: str | Path, config: RunConfig | None = None, *, executor=None,
                 sampler_factory: Callable | None = None, log: Callable[[str], None] = print):
        self.dir = Path(run_dir)
        self.log = log
        config_path = self.dir / "config.yaml"
        new_run = not config_path.exists()
        if not new_run:
            stored = load_config(config_path)
            if config is not None and config != stored:
                raise ValueError(
                    f"{self.dir} already holds a run with a different configuration ({config_path}); "
                    "resume it without a config, or choose a new run folder"
                )
            config = stored
        elif config is None:
            raise ValueError(f"{self.dir} holds no run yet: give a configuration")
        self.config = config
        self.sampler_factory = sampler_factory
        self._seen: dict[str, set[int]] | None = None
        self._cumulative: Scoreboard | None = None
        self._seed_set: tuple[list[Seed], dict[str, Task]] | None = None
        self._report_tasks: list[Task] | None = None
        # Everything a new run reads is loaded before its folder is made: a start that fails on
        # its input (a task set that is not there, a seed file that does not parse, an unknown
        # executor) leaves no config.yaml, store or checkpoints behind to be mistaken for a run.
        search = load_tasks(config.search_set).tasks
        if config.max_search_tasks:
            search = search[: config.max_search_tasks]
        self.search_tasks = search
        self.tasks_by_id = {t.id: t for t in search}
        if new_run:
            self.seed_set()
            self.report_tasks()
        if (config.policy.model != "default" and not config.ablation.mutation_only
                and not (self.dir / "checkpoints" / "initial").exists()):
            from codeit.policy.shipped import require_model

            require_model(config.policy.model, "policy.model")  # before any work, not after the warm-up's
        self.device = resolve_device(config.policy.device)
        ex = config.execution
        self.limits = ex.limits
        self.executor = executor if executor is not None else make_executor(
            ex.backend, limits=ex.limits, threads=ex.threads)

        self.dir.mkdir(parents=True, exist_ok=True)
        if new_run:
            save_config(config, config_path)
        self.store = ExperienceStore(self.dir / "experience.db")
        try:
            self.state = RunState.load(self.store, self.dir)
        except ValueError:
            self.store.close()
            raise
        self.checkpoints = self.dir / "checkpoints"
        self.checkpoints.mkdir(exist_ok=True)
        self.log(describe(self.executor))
        self.clock = StageClock(defaultdict(float, self.state.stage_seconds))
        self.rng = np.random.default_rng(config.seed)
        # The file follows the store: rows committed before a stop that never reached it come back,
        # and it never holds a row the store does not.
        rows = self.store.metrics_rows()
        if rows or (self.dir / "metrics.jsonl").exists():
            report.write_metrics(self.dir, rows)

    # -- persistent state -------------------------------------------------------------------------

    def _save(self) -> None:
        """Save the whole run state, with the stage clock as it is now."""
        self.state.stage_seconds = dict(self.clock.seconds)
        self.state.save(self.store)

    def report_tasks(self) -> list[Task]:
        """The tasks of ``config.report_set`` the final policy is reported on (none without one)."""
        if self._report_tasks is None:
            config = self.config
            tasks = list(load_tasks(config.report_set)) if config.report_set else []
            self._report_tasks = tasks[: config.report_max_tasks] if config.report_max_tasks else tasks
        return self._report_tasks

    # -- the initial buffer -----------------------------------------------------------------------

    def seed_set(self) -> tuple[list[Seed], dict[str, Task]]:
        """The seed programs (``config.seed_dirs``) and their task set (``config.seed_tasks``), by id."""
        if self._seed_set is None:
            self._seed_set = initial.load_seed_set(self.config.seed_dirs, self.config.seed_tasks)
        return self._seed_set

    def build_initial_buffer(self) -> None:
        """Seed programs on their own tasks, and ``initial_mutants`` of their mutants (once per run)."""
        if self.state.initial_buffer_done:
            return
        started = time.perf_counter()
        seeds, tasks = self.seed_set()
        n_mutants = self.config.initial_mutants
        bar = tqdm(total=n_mutants, desc="initial mutants", unit="mutant") if n_mutants and seeds else None

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.n = done
                bar.refresh()

        try:
            built = initial.build_initial_buffer(self.store, seeds, tasks, self.executor, self.rng, n_mutants,
                                                 progress=progress)
        finally:
            if bar is not None:
                bar.close()
        if bar is not None:
            self.log(f"initial buffer: {built.seeds} seeds, {built.mutants} mutants "
                     f"({built.generated} drawn, {built.kept} kept)")
        self.clock.add("initial_buffer", time.perf_counter() - started)
        self.state.initial_buffer_done = True
        self._save()

    # -- the policy -------------------------------------------------------------------------------

    def checkpoint(self, iteration: int) -> Path:
        """The policy trained at the end of meta-iteration ``iteration`` (0: the warm-up)."""
        return self.checkpoints / (f"iter_{iteration:03d}" if iteration else "warmup")

    def initial_policy(self) -> Path:
        """The policy before any training: the default policy, or the given model."""
        path = self.checkpoints / "initial"
        if path.exists():
            return path
        from codeit.policy.model import create_policy, load_policy

        spec = self.config.policy
        if spec.model == "default":
            policy = create_policy(dataclasses.replace(spec.architecture, seed=self.config.seed))
        else:
            from codeit.policy.shipped import resolve_model

            policy = load_policy(resolve_model(spec.model))
            if self.config.ablation.random_init:
                # A fresh model of the same architecture: init_weights() on a loaded model keeps
                # the loaded weights in transformers 5.
                import torch

                torch.manual_seed(self.config.seed)
                policy.model = type(policy.model)(policy.model.config)
        tmp = Path(str(path) + ".tmp")
        policy.save(tmp)
        tmp.rename(path)
        return path

    # -- one meta-iteration's sampling ------------------------------------------------------------

    def sample_iteration(self, iteration: int, sampler, learner: LearnerProcess | None) -> dict:
        """Sample, run, relabel and score every search task; resumable after every step of tasks."""
        config = self.config
        progress = self.state.sampling
        if progress is None or progress.iteration != iteration:
            progress = SamplingProgress(iteration)
        stats = dataclasses.replace(progress.stats)
        done = progress.tasks_done
        if self._seen is None:
            self._seen = self.store.seen_output_hashes()
        seen_hashes = self._seen
        policy_only = Scoreboard()
        if done:  # resumed inside the iteration: what it found before the stop is in the store
            policy_only.add(self._candidates(iteration=iteration))
        cumulative = self.cumulative()
        bar = tqdm(total=len(self.search_tasks), initial=done, desc=f"iteration {iteration}: sampling", unit="task")
        sample_seconds = progress.sample_seconds
        step_size = config.tasks_per_step
        for start in range(done, len(self.search_tasks), step_size):
            if learner is not None and learner.ready():
                self._adopt_checkpoint(learner, sampler)
            tasks = self.search_tasks[start : start + step_size]
            t0 = time.perf_counter()
            sampler.set_samples(config.sampling.samples_per_task, seed=sampling_seed(config, iteration, start))
            samples = sampler.sample_tasks(tasks)
            dt = time.perf_counter() - t0
            sample_seconds += dt
            self.clock.add("sample", dt)
            if config.keep_samples:
                write_samples(self.dir, iteration, start, tasks, samples)
            step = search_step(tasks, samples, self.executor, origin="policy", iteration=iteration,
                               seen_hashes=seen_hashes, relabel_experiences=True)
            self.clock.add("execute", step.stats.execute_seconds)
            self.clock.add("relabel", step.stats.relabel_seconds)
            t0 = time.perf_counter()
            experiences = step.experiences
            # Every output hash the step added to ``seen_hashes`` (the ablation's dropped rows
            # included), so a resumed run deduplicates exactly as this one goes on to.
            hashes = [(e.task_id, h) for e, h in zip(step.experiences, step.hashes)]
            if not config.ablation.relabel:
                experiences = [e for e in experiences if e.demo_accuracy == 1.0]
            stats.add(step.stats)
            done = start + len(tasks)
            # The step's rows and the progress that counts them in ONE transaction: a step is either
            # stored and counted, or neither (and then sampled again, with the same seed).
            self.state.sampling = SamplingProgress(iteration, done, dataclasses.replace(stats), sample_seconds)
            self.state.stage_seconds = dict(self.clock.seconds)
            self.state.commit_step(self.store, experiences, hashes, [to_solution(c, iteration) for c in step.candidates])
            self.clock.add("store", time.perf_counter() - t0)
            policy_only.add(step.candidates)
            cumulative.add(step.candidates)
            bar.update(len(tasks))
            bar.set_postfix(parsed=f"{stats.parse_rate:.0%}", solved=len(policy_only.solved()))
        bar.close()
        return {"stats": stats, "policy_only": policy_only.solved(), "sample_seconds": sample_seconds}

    def _candidates(self, iteration: int | None = None) -> list[Candidate]:
        return from_solutions(self.store.solutions(), self.tasks_by_id, iteration)

    def cumulative(self) -> Scoreboard:
        """Every candidate found so far: read from the store once, then kept up as candidates are stored."""
        if self._cumulative is None:
            self._cumulative = Scoreboard()
            self._cumulative.add(self._candidates())
        return self._cumulative

    def _adopt_checkpoint(self, learner: LearnerProcess, sampler) -> dict:
        iteration, path, stats = learner.wait()
        t0 = time.perf_counter()
        sampler.load_weights(path)
        self.clock.add("sampler_reload", time.perf_counter() - t0)
        self.state.policy_path = str(path)
        self.state.learn[iteration] = stats
        self._save()
        self.log(f"learner: iteration {iteration} trained on {stats['examples']} examples, "
                 f"loss {stats['mean_loss']:.3f} -> {stats['final_loss']:.3f} in {stats['wall_seconds']:.0f} s")
        return stats

    # -- the whole run ----------------------------------------------------------------------------

    def run(self) -> dict:
        from codeit.run.sampling import open_run_sampler

        open_sampler = self.sampler_factory or open_run_sampler
        config = self.config
        run_started = time.perf_counter()
        self.build_initial_buffer()
        if config.ablation.mutation_only:
            for iteration in range(self.state.iterations_done + 1, config.meta_iterations + 1):
                self._mutation_iteration(iteration)
            return self.summary(time.perf_counter() - run_started)
        learner = LearnerProcess(self.dir / "experience.db", config, self.device)
        sampler = None
        try:
            if self.state.policy_path is None and config.learner.warmup_epochs == 0:
                # A pretrained policy samples as it is: no warm-up pass.
                self.state.policy_path = str(self.initial_policy())
                self._save()
            if self.state.policy_path is None:
                # Warm-up: learn from the initial buffer before the first sampling.
                t0 = time.perf_counter()
                learner.request(0, self.initial_policy(), self.checkpoint(0))
                _, path, stats = learner.wait()
                self.clock.add("learn", time.perf_counter() - t0)
                self.state.learn[0] = stats
                self.state.policy_path = str(path)
                self._save()
                self.log(f"warm-up: trained on {stats['examples']} examples, loss {stats['mean_loss']:.3f} -> "
                         f"{stats['final_loss']:.3f} in {stats['wall_seconds']:.0f} s")
            t0 = time.perf_counter()
            sampler = open_sampler(config, Path(self.state.policy_path), self.device)
            self.clock.add("sampler_start", time.perf_counter() - t0)
            last = self.state.iterations_done
            if config.mode == "overlapped" and 0 < last < config.meta_iterations and last not in self.state.learn:
                # Stopped while the last counted iteration's pass was in flight: ask for it again
                # (from the same policy, resuming inside the pass), as the next iteration adopts it.
                learner.request(last, Path(self.state.policy_path), self.checkpoint(last))
            for iteration in range(self.state.iterations_done + 1, config.meta_iterations + 1):
                self._meta_iteration(iteration, sampler, learner)
            self.report_set(sampler)
            return self.summary(time.perf_counter() - run_started)
        finally:
            if sampler is not None:
                sampler.close()
            learner.close()
            self._save()

    def _mutation_iteration(self, iteration: int) -> None:
        """The mutation-only ablation: as many mutants as the policy would sample, scored the same way."""
        from codeit.search.baseline import SearchSet
        from codeit.search.mutate import grow_mutants

        seeds, training = self.seed_set()
        n = self.config.sampling.samples_per_task * len(self.search_tasks)
        t0 = time.perf_counter()
        self.rng = np.random.default_rng([self.config.seed, iteration])
        mutants, _ = grow_mutants(seeds, training, n, self.executor, self.rng)
        self.clock.add("mutate", time.perf_counter() - t0)
        t0 = time.perf_counter()
        policy_only = Scoreboard()
        found = SearchSet(self.search_tasks).score([m.program for m in mutants], [m.text for m in mutants],
                                                   self.executor, policy_only)
        self.clock.add("execute", time.perf_counter() - t0)
        self.store.add_solutions([to_solution(c, iteration) for c in found])
        cumulative = self.cumulative()
        cumulative.add(found)
        stats = StepStats(sampled=len(mutants), parsed=len(mutants), valid=len(mutants))
        self._record(iteration, stats, policy_only.solved(), cumulative, 0.0)

    def _meta_iteration(self, iteration: int, sampler, learner: LearnerProcess) -> None:
        config = self.config
        overlapped = config.mode == "overlapped"
        result = self.sample_iteration(iteration, sampler, learner if overlapped else None)
        cumulative = self.cumulative()
        # Learn: sync waits for the new policy; overlapped leaves it training while the next
        # iteration samples (one request in flight at most).
        t0 = time.perf_counter()
        if learner.pending is not None:
            self._adopt_checkpoint(learner, sampler)
        if iteration not in self.state.learn:
            # (Already learned: a sync run stopped after adopting this iteration's policy and
            # before counting the iteration; the sampler was opened with that policy.)
            learner.request(iteration, Path(self.state.policy_path), self.checkpoint(iteration))
            if not overlapped:
                self._adopt_checkpoint(learner, sampler)
        self.clock.add("learn", time.perf_counter() - t0)
        self._record(iteration, result["stats"], result["policy_only"], cumulative, result["sample_seconds"])

    def _record(self, iteration: int, stats: StepStats, policy_only: list[str], cumulative: Scoreboard,
                sample_seconds: float) -> None:
        """Count a finished meta-iteration: its metrics row and the new run state in one
        transaction, then the reports (``metrics.jsonl`` rewritten from the store)."""
        sampled_total = self.state.programs_sampled_total + stats.sampled
        learn_stats = self.state.learn.get(iteration, {})
        record = {
            "iteration": iteration,
            "programs_sampled": stats.sampled,
            "programs_sampled_total": sampled_total,
            "parse_rate": round(stats.parse_rate, 4),
            "valid_rate": round(stats.valid / stats.sampled, 4) if stats.sampled else 0.0,
            "mean_demo_accuracy": round(stats.mean_demo_accuracy, 4),
            "new_experiences": stats.experiences,
            "runs": stats.runs,
            "solved_policy": len(policy_only),
            "solved_cumulative": len(cumulative.solved()),
            "solved_cumulative_ids": cumulative.solved(),
            "samples_per_second": round(stats.sampled / sample_seconds, 2) if sample_seconds else 0.0,
            "runs_per_second": round(stats.runs / stats.execute_seconds, 1) if stats.execute_seconds else 0.0,
            "learn": {k: learn_stats.get(k) for k in ("examples", "steps", "mean_loss", "final_loss", "wall_seconds")},
            "stage_share": {k: round(v, 3) for k, v in self.clock.shares().items()},
        }
        state = dataclasses.replace(self.state, iterations_done=iteration, programs_sampled_total=sampled_total,
                                    sampling=None, stage_seconds=dict(self.clock.seconds))
        state.commit_iteration(self.store, iteration, record)
        self.state = state  # only once committed: a failed commit leaves the old state to save
        rows = self.store.metrics_rows()
        report.write_metrics(self.dir, rows)
        self.write_reports(cumulative, rows)
        self.log(
            f"iteration {iteration}: {stats.sampled} programs, {stats.parse_rate:.0%} parse, "
            f"mean demo accuracy {stats.mean_demo_accuracy:.3f}, solved {len(policy_only)} policy-only, "
            f"{len(cumulative.solved())} cumulative"
        )

    def write_reports(self, cumulative: Scoreboard, metrics: list[dict] | None = None) -> None:
        selected = {t.id: cumulative.selected(t.id) for t in self.search_tasks if cumulative.selected(t.id)}
        report.write_solutions(self.dir, selected)
        report.write_html(self.dir, self.search_tasks, selected, f"codeit run: {self.dir.name}")
        report.plot_learning_curve(self.dir, self.store.metrics_rows() if metrics is None else metrics)

    def report_set(self, sampler) -> dict | None:
        """The final policy, policy-only, on ``config.report_set`` (once; kept in report_set.json)."""
        config = self.config
        path = self.dir / "report_set.json"
        if not config.report_set:
            return None
        if path.exists():
            return json.loads(path.read_text())

        tasks = self.report_tasks()
        t0 = time.perf_counter()
        sampler.set_samples(config.sampling.samples_per_task, seed=sampling_seed(config, config.meta_iterations + 1, 0))
        step = search_step(tasks, sampler.sample_tasks(tasks), self.executor, relabel_experiences=False)
        self.clock.add("report_set", time.perf_counter() - t0)
        solved = solved_tasks(step.candidates)
        stats = step.stats
        result = {"task_set": config.report_set, "tasks": len(tasks),
                  "samples_per_task": config.sampling.samples_per_task, "policy": self.state.policy_path,
                  "valid_rate": round(stats.valid / stats.sampled, 4) if stats.sampled else 0.0,
                  "mean_demo_accuracy": round(stats.mean_demo_accuracy, 4),
                  "solved": len(solved), "solved_ids": solved}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        os.replace(tmp, path)
        self.log(f"{config.report_set} (first {len(tasks)} tasks, final policy only): {result['valid_rate']:.1%} valid, "
                 f"mean demo accuracy {result['mean_demo_accuracy']:.3f}, solved {len(solved)}"
                 + (f" [{' '.join(solved)}]" if solved else ""))
        return result

    def summary(self, wall_seconds: float) -> dict:
        metrics = self.store.metrics_rows()
        last = metrics[-1] if metrics else {}
        sample_seconds = self.clock.seconds.get("sample", 0.0)
        sampled = self.state.programs_sampled_total
        return {
            "run_dir": str(self.dir),
            "executor": describe(self.executor),
            "iterations": len(metrics),
            "tasks": len(self.search_tasks),
            "solved_cumulative": last.get("solved_cumulative", 0),
            "solved_ids": last.get("solved_cumulative_ids", []),
            "solved_policy_by_iteration": [m.get("solved_policy", 0) for m in metrics],
            "report_set": json.loads((self.dir / "report_set.json").read_text())
            if (self.dir / "report_set.json").exists() else None,
            "programs_sampled": sampled,
            "programs_sampled_per_second": sampled / sample_seconds if sample_seconds else 0.0,
            "stage_seconds": dict(self.clock.seconds),
            "stage_share": self.clock.shares(),
            "wall_seconds": wall_seconds,
        }


def format_summary(summary: dict) -> str:
    lines = [
        f"run folder: {summary['run_dir']}",
        summary["executor"],
        f"meta-iterations: {summary['iterations']}",
        f"tasks solved (cumulative): {summary['solved_cumulative']} / {summary['tasks']}"
        + (f"  [{' '.join(summary['solved_ids'])}]" if summary["solved_ids"] else ""),
        "tasks solved policy-only, by meta-iteration: "
        + (" ".join(str(n) for n in summary.get("solved_policy_by_iteration", [])) or "none"),
        f"programs sampled: {summary['programs_sampled']} "
        f"({summary['programs_sampled_per_second']:.1f} per second of sampling)",
        "where the time went:",
    ]
    for stage, seconds in sorted(summary["stage_seconds"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {stage:16s} {seconds:8.1f} s  {summary['stage_share'][stage]:6.1%}")
    return "\n".join(lines)
