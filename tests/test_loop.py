"""End to end: two tiny meta-iterations, and a run killed with SIGKILL mid-iteration then resumed.

(Kills at the moment an iteration is counted are in tests/test_run_state.py.)"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import numpy as np

from codeit.buffer.store import ExperienceStore, StoreConfig
from codeit.commands.run import format_overrides, parse_overrides
from codeit.grids import grid_hashes, group_hashes, pack
from codeit.run.config import make_config
from codeit.run.driver import Run, format_summary
from codeit.run.samples import read_samples
from codeit.run.state import RunState

TINY = {
    "max_search_tasks": 4,
    "meta_iterations": 2,
    "initial_mutants": 24,
    "tasks_per_step": 2,
    "sampling": {"samples_per_task": 2, "max_new_tokens": 48, "max_prompt_tokens": 192, "batch_size": 4},
    "learner": {"policy_experiences": 24, "mutation_experiences": 24, "batch_size": 8},
    "policy": {"architecture": {"hidden_size": 64, "num_layers": 1, "num_heads": 1, "intermediate_size": 128,
                                "max_positions": 512}},
    "execution": {"threads": 1},
}


def test_set_args_round_trip():
    assert parse_overrides([a for a in format_overrides(TINY) if a != "--set"]) == TINY


def _output_hash(e) -> int:
    """What relabeling deduplicates on: the combined hash of an experience's outputs."""
    return int(group_hashes(grid_hashes(pack(e.outputs)), np.array([0, len(e.outputs)]))[0])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "overlapped"])
def test_two_tiny_meta_iterations_end_to_end(tmp_path, mode):
    run = Run(tmp_path, make_config("tiny", {**TINY, "mode": mode}), log=lambda _: None)
    summary = run.run()
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics] == [1, 2]
    assert [m["programs_sampled_total"] for m in metrics] == [8, 16]
    for m in metrics:
        assert m["parse_rate"] == 1.0  # constrained decoding: every sample parses
        assert 0.0 <= m["mean_demo_accuracy"] <= 1.0
        assert m["solved_cumulative"] >= m["solved_policy"] >= 0
    assert summary["iterations"] == 2 and summary["programs_sampled"] == 16
    assert summary["executor"].startswith("executor: native, 1 threads")
    assert summary["executor"] in format_summary(summary)
    for stage in ("sample", "learn", "execute", "initial_buffer"):
        assert summary["stage_seconds"][stage] > 0
    checkpoints = {p.name for p in (tmp_path / "checkpoints").iterdir()}
    assert {"initial", "warmup", "iter_001"} <= checkpoints
    if mode == "sync":
        assert "iter_002" in checkpoints
    store = ExperienceStore(tmp_path / "experience.db")
    origins = {e.origin for e in store.iter_experiences()}
    assert {"seed", "mutation"} <= origins
    policy_rows = [e for e in store.iter_experiences() if e.origin == "policy"]
    assert all(e.iteration in (1, 2) and e.priority == e.demo_accuracy for e in policy_rows)
    # The persisted deduplication hashes (what a resume reads instead of decoding every row)
    # cover every stored policy experience, and name no outputs the store does not hold.
    seen = {(t, h) for t, hs in store.seen_output_hashes().items() for h in hs}
    assert {(e.task_id, _output_hash(e)) for e in policy_rows} <= seen
    assert seen <= {(e.task_id, _output_hash(e)) for e in store.iter_experiences()}
    assert store.metrics_rows() == metrics
    state = RunState.load(store, tmp_path)
    assert state.iterations_done == 2 and state.programs_sampled_total == 16 and state.sampling is None
    assert state.initial_buffer_done and Path(state.policy_path).exists()
    assert 0 in state.learn and 1 in state.learn
    for name in ("solutions.json", "report.html", "learning_curve.png", "config.yaml"):
        assert (tmp_path / name).exists(), name
    # Every sampled program is kept, failures included: one file per step of tasks.
    steps = read_samples(tmp_path)
    assert [(s["iteration"], s["start"]) for s in steps] == [(1, 0), (1, 2), (2, 0), (2, 2)]
    assert sum(len(t["programs"]) for s in steps for t in s["tasks"]) == 16
    assert [t["id"] for t in steps[0]["tasks"]] == [t.id for t in run.search_tasks[:2]]


@pytest.mark.slow
def test_an_overlapped_run_stopped_with_a_pass_in_flight_still_learns_that_iteration(tmp_path, monkeypatch):
    class Stopped(Exception):
        pass

    record = Run._record

    def record_then_stop(self, iteration, *args):
        record(self, iteration, *args)
        if iteration == 1:
            raise Stopped  # iteration 1 is counted, its learning pass still in flight

    config = make_config("tiny", {**TINY, "mode": "overlapped"})
    with monkeypatch.context() as patch:
        patch.setattr(Run, "_record", record_then_stop)
        with pytest.raises(Stopped):
            Run(tmp_path, config, log=lambda _: None).run()
    with ExperienceStore(tmp_path / "experience.db") as store:
        assert 1 not in RunState.load(store, tmp_path).learn
    Run(tmp_path, log=lambda _: None).run()
    with ExperienceStore(tmp_path / "experience.db") as store:
        state = RunState.load(store, tmp_path)
    assert state.iterations_done == 2 and 1 in state.learn  # as in a run never stopped


@pytest.mark.slow
def test_killed_run_resumes_without_losing_rows(tmp_path):
    # One task per step over 10 tasks: nine saved states inside iteration 1 to be killed in.
    settings = {**TINY, "max_search_tasks": 10, "tasks_per_step": 1}
    n_tasks = settings["max_search_tasks"]
    per_task = settings["sampling"]["samples_per_task"]
    command = [sys.executable, "-m", "codeit.cli", "run", str(tmp_path), *format_overrides(settings)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    db = tmp_path / "experience.db"
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            time.sleep(0.05)
            if proc.poll() is not None:
                pytest.fail(f"the run ended (code {proc.returncode}) before it could be killed")
            if not db.exists():
                continue
            try:
                with ExperienceStore(db, StoreConfig(read_only=True)) as store:
                    progress = RunState.load(store, tmp_path).sampling
            except (FileNotFoundError, sqlite3.OperationalError):
                continue  # the run is still creating its store
            if progress and progress.iteration == 1 and 0 < progress.tasks_done < n_tasks - 1:
                break
        else:
            pytest.fail("the run never reached the middle of iteration 1")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    with ExperienceStore(db) as store:
        before = {(e.task_id, e.program) for e in store.iter_experiences()}
        progress = RunState.load(store, tmp_path).sampling
    assert before and progress.iteration == 1 and 0 < progress.tasks_done < n_tasks
    summary = Run(tmp_path, log=lambda _: None).run()  # resumes from the folder's config
    with ExperienceStore(db) as store:
        after = {(e.task_id, e.program) for e in store.iter_experiences()}
        assert store.integrity_check() == "ok"
    assert before <= after
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics] == [1, 2]
    assert [m["programs_sampled_total"] for m in metrics] == [n_tasks * per_task, 2 * n_tasks * per_task]
    # Iteration 1 counts every task once: the tasks done before the kill were not sampled again.
    assert metrics[0]["programs_sampled"] == n_tasks * per_task
    assert summary["iterations"] == 2
