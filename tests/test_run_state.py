"""The run state record: its round trip through the store, the refusal of old run folders, the seed
settings, and SIGKILLs at the moment a meta-iteration is counted (metrics row and state together)."""

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from codeit.buffer.store import ExperienceStore
from codeit.run.config import load_config, make_config, save_config
from codeit.run.driver import Run
from codeit.run.state import RUN_STATE_KEY, RunState, RunStateError, SamplingProgress
from codeit.search.initial import load_seed_set
from codeit.search.step import StepStats
from codeit.seeds import load_seeds

# The mutation-only ablation runs the whole loop (initial buffer, iterations, counting, reports)
# without a policy, in seconds.
MUTATION_ONLY = {
    "max_search_tasks": 4,
    "meta_iterations": 2,
    "initial_mutants": 24,
    "sampling": {"samples_per_task": 2},
    "execution": {"threads": 1},
    "ablation": {"mutation_only": True},
}


def full_state() -> RunState:
    return RunState(
        initial_buffer_done=True,
        policy_path="/runs/x/checkpoints/iter_002",
        iterations_done=2,
        programs_sampled_total=512,
        stage_seconds={"sample": 3.5, "learn": 10.25},
        learn={0: {"examples": 48, "mean_loss": 2.5}, 2: {"examples": 24, "mean_loss": 1.25}},
        sampling=SamplingProgress(3, tasks_done=6, stats=StepStats(sampled=48, parsed=47, runs=300,
                                                                   execute_seconds=0.5), sample_seconds=1.5),
    )


def test_run_state_round_trips_through_the_store(tmp_path):
    state = full_state()
    with ExperienceStore(tmp_path / "s.db") as store:
        assert RunState.load(store, tmp_path) == RunState()  # an empty store: a new run
        state.save(store)
        assert store.state_keys() == [RUN_STATE_KEY]  # one record, saved whole
    with ExperienceStore(tmp_path / "s.db") as store:
        got = RunState.load(store, tmp_path)
    assert got == state
    assert got.learn[2]["examples"] == 24 and got.sampling.stats.parsed == 47  # typed again, int keys
    assert RunState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_iteration_commit_stores_row_and_state_together(tmp_path):
    with ExperienceStore(tmp_path / "s.db") as store:
        state = RunState(iterations_done=1, programs_sampled_total=8)
        state.commit_iteration(store, 1, {"iteration": 1, "programs_sampled_total": 8})
        assert store.metrics_rows() == [{"iteration": 1, "programs_sampled_total": 8}]
        assert RunState.load(store, tmp_path) == state
        # A second row for a counted iteration is refused, and the state is left as it was.
        later = RunState(iterations_done=5)
        with pytest.raises(sqlite3.IntegrityError):
            later.commit_iteration(store, 1, {"iteration": 1})
        assert RunState.load(store, tmp_path) == state
        assert len(store.metrics_rows()) == 1


def test_unreadable_records_are_refused():
    good = full_state().to_json()
    with pytest.raises(RunStateError, match="version 99"):
        RunState.from_json({**good, "version": 99}, "runs/a")
    with pytest.raises(RunStateError, match="unknown run state field.*iteration_3_learn"):
        RunState.from_json({**good, "iteration_3_learn": {}}, "runs/a")
    with pytest.raises(RunStateError, match="runs/a: malformed"):
        RunState.from_json({**good, "sampling": {"iteration": 1}}, "runs/a")


def test_old_run_folder_is_refused_by_name(tmp_path):
    run_dir = tmp_path / "old-run"
    config = make_config("tiny", MUTATION_ONLY)
    run_dir.mkdir()
    save_config(config, run_dir / "config.yaml")
    with ExperienceStore(run_dir / "experience.db") as store:  # what the old driver left
        store.set_state("initial_buffer_done", True)
        store.set_state("iterations_done", 1)
    with pytest.raises(ValueError, match=r"old-run: this run folder was written by an older codeit") as info:
        Run(run_dir, log=lambda _: None)
    assert "initial_buffer_done" in str(info.value)


def test_seed_settings(tmp_path):
    config = make_config("tiny")
    assert config.seed_dirs == [] and config.seed_tasks == "arc1/training"
    # A folder of two seeds: those start the buffer, nothing of the built-in library.
    folder = tmp_path / "seeds"
    folder.mkdir()
    chosen = load_seeds()[:2]
    for s in chosen:
        (folder / f"{s.task_id}.dsl").write_text(s.text)
    seeds, tasks = load_seed_set([str(folder)], "arc1/training")
    assert [s.task_id for s in seeds] == [s.task_id for s in chosen] and set(tasks) >= {s.task_id for s in chosen}
    assert load_seed_set([str(folder)], "arc1/evaluation")[0] == []  # not programs of those tasks
    config = make_config("tiny", {**MUTATION_ONLY, "initial_mutants": 0, "meta_iterations": 0,
                                  "seed_dirs": [str(folder)]})
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == config
    with pytest.raises(ValueError, match="seed_dirs"):
        make_config("tiny", {"seed_dirs": str(folder)})
    with pytest.raises(ValueError, match="seed_dirs"):
        make_config("tiny", {"seed_dirs": [3]})
    run = Run(tmp_path / "run", config, log=lambda _: None)
    run.run()
    with ExperienceStore(tmp_path / "run" / "experience.db") as store:
        assert sorted(e.task_id for e in store.iter_experiences()) == sorted(s.task_id for s in chosen)


def test_mutate_command_takes_the_seed_task_set():
    import argparse

    from codeit.commands import mutate

    parser = argparse.ArgumentParser()
    mutate.add_arguments(parser)
    assert parser.parse_args([]).seed_tasks == "arc1/training"
    assert parser.parse_args(["--seed-tasks", "arc1/evaluation"]).seed_tasks == "arc1/evaluation"


# A run that kills itself (SIGKILL, no cleanup) at a chosen point of counting iteration 1.
KILLED_RUN = textwrap.dedent(
    """
    import json, os, signal, sys
    from codeit.buffer.store import ExperienceStore
    from codeit.run import driver, report
    from codeit.run.config import make_config

    run_dir, point, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after_reports":  # the row, the reports: all but what the loop does next
        write_reports = driver.Run.write_reports
        def patched(self, *args, **kwargs):
            write_reports(self, *args, **kwargs)
            die()
        driver.Run.write_reports = patched
    elif point == "before_commit":
        def patched(self, *args, **kwargs):
            die()
        ExperienceStore.commit_iteration = patched
    elif point == "before_file_replace":  # committed; the new metrics.jsonl written, not yet renamed
        replace = os.replace
        def patched(src, dst):
            if str(dst).endswith("metrics.jsonl"):
                die()
            replace(src, dst)
        os.replace = patched
    driver.Run(run_dir, make_config("tiny", overrides), log=lambda _: None).run()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("point, counted", [("after_reports", 1), ("before_commit", 0), ("before_file_replace", 1)])
def test_kill_while_counting_an_iteration_leaves_each_row_once(tmp_path, point, counted):
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(script), str(run_dir), point, json.dumps(MUTATION_ONLY)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    with ExperienceStore(run_dir / "experience.db") as store:
        assert RunState.load(store, run_dir).iterations_done == counted
        assert [m["iteration"] for m in store.metrics_rows()] == list(range(1, counted + 1))
    summary = Run(run_dir, log=lambda _: None).run()  # resume
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics] == [1, 2]
    assert [m["programs_sampled_total"] for m in metrics] == [8, 16]
    with ExperienceStore(run_dir / "experience.db") as store:
        assert store.metrics_rows() == metrics
    assert summary["iterations"] == 2 and summary["programs_sampled"] == 16
    assert not os.path.exists(run_dir / "metrics.jsonl.tmp")


def test_metrics_file_is_rebuilt_from_the_store_on_open(tmp_path):
    run = Run(tmp_path, make_config("tiny", {**MUTATION_ONLY, "meta_iterations": 0, "initial_mutants": 0}),
              log=lambda _: None)
    counted = dataclasses.replace(run.state, iterations_done=1, programs_sampled_total=8)
    counted.commit_iteration(run.store, 1, {"iteration": 1, "programs_sampled_total": 8})
    run.store.close()
    # A file that lost the committed row and holds one never committed (an append before a kill).
    (tmp_path / "metrics.jsonl").write_text('{"iteration": 7}\n')
    again = Run(tmp_path, log=lambda _: None)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows == [{"iteration": 1, "programs_sampled_total": 8}]
    assert again.state.iterations_done == 1


class Killed(BaseException):
    """Stands for a SIGKILL at one point of counting an iteration: nothing after it runs."""


def test_a_kill_after_counting_never_duplicates_a_metrics_row(tmp_path, monkeypatch):
    # The metrics row is not appended to metrics.jsonl: it is committed with the count that it
    # belongs to, and the file is rewritten from the store. A kill between the two leaves a file
    # one row short, never a row twice, and counting an iteration again is refused.
    from codeit.run import report

    def rows_in_file():
        return [json.loads(line)["iteration"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]

    run = Run(tmp_path, make_config("tiny", {**MUTATION_ONLY, "meta_iterations": 0, "initial_mutants": 0}),
              log=lambda _: None)
    run._record(1, StepStats(sampled=8), [], run.cumulative(), 0.0)
    assert rows_in_file() == [1]

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(report, "write_metrics", killed)  # killed after the commit of iteration 2
    with pytest.raises(Killed):
        run._record(2, StepStats(sampled=8), [], run.cumulative(), 0.0)
    monkeypatch.undo()
    run.store.close()
    assert rows_in_file() == [1]

    again = Run(tmp_path, log=lambda _: None)  # the restart: the file follows the store
    assert again.state.iterations_done == 2 and rows_in_file() == [1, 2]
    with pytest.raises(sqlite3.IntegrityError):  # a restart that went back could not count it twice
        again._record(2, StepStats(sampled=8), [], again.cumulative(), 0.0)
    assert [m["iteration"] for m in again.store.metrics_rows()] == [1, 2] and rows_in_file() == [1, 2]
    assert again.state.iterations_done == 2 and again.state.programs_sampled_total == 16
    again.store.close()
