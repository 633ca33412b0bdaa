"""Kills at any moment lose nothing and change nothing.

- The learner: a pass stopped right after one of its checkpoints resumes there (model, optimizer,
  the examples drawn, the steps taken and their losses, the torch RNG) and ends with the weights of
  an uninterrupted pass; a pass already finished is not trained again.
- The chaos test (slow): ``codeit run`` and ``codeit eval`` SIGKILLed at random moments, at least
  20 times in all, each time started again in the same folder. Between two kills the work stored
  must grow; every experience, solution and metrics row committed before a kill must still be
  there at the end; the finished run has each iteration's metrics row exactly once; no temporary
  or in-pass checkpoint file is left; and the results (the metrics rows less their timings, every
  experience and solution with its id, the final weights, the evaluation's candidates) equal those
  of an uninterrupted run and evaluation with the same settings.

What makes the tiny run deterministic (and so comparable): one interpreter thread with a 5 s time
limit (a program near the limit could time out in one run and not the other: none of these come
close), the transformers sampler (vLLM's engine takes 10-25 s to start, and is not compared here)
with one torch thread, one torch thread for learning, ``sync`` mode (``overlapped`` swaps the
sampler's weights whenever the learner finishes, which depends on timing: it is not deterministic
and is not compared), sampling seeds fixed per (iteration, step), learner draws per (seed,
iteration). The timings in the metrics rows (samples and runs per second, stage shares, learning
wall time) are never deterministic and are left out of the comparison.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from codeit.buffer.replay import BufferConfig, ReplayBuffer
from codeit.buffer.store import ExperienceStore, StoreConfig
from codeit.commands.run import format_overrides
from codeit.run.config import make_config
from codeit.train import learner as learner_module

TINY_POLICY = {"hidden_size": 64, "num_layers": 1, "num_heads": 1, "intermediate_size": 128, "max_positions": 512}


# -- the learner alone --------------------------------------------------------------------------------


class Stop(Exception):
    """Stands for a kill right after a checkpoint was written."""


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory):
    """A store holding the seed programs (the warm-up's training set) and a new tiny policy."""
    from codeit.execute.backends import make_executor
    from codeit.policy.model import PolicyConfig, create_policy
    from codeit.search import initial

    folder = tmp_path_factory.mktemp("learner")
    seeds, tasks = initial.load_seed_set([], "arc1/training")
    with ExperienceStore(folder / "experience.db") as store:
        initial.build_initial_buffer(store, seeds, tasks, make_executor("native", threads=1),
                                     np.random.default_rng(0), 0)
    create_policy(PolicyConfig(**TINY_POLICY, seed=0)).save(folder / "initial")
    return folder


def learner_config():
    return make_config("tiny", {
        "sampling": {"max_prompt_tokens": 192, "max_new_tokens": 48},
        "learner": {"policy_experiences": 0, "mutation_experiences": 48, "batch_size": 4, "warmup_epochs": 2,
                    "checkpoint_seconds": 1e-6, "cpu_threads": 1},
    })


def weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_a_pass_stopped_after_a_checkpoint_resumes_to_the_same_weights(seeded_store, tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(learner_module, "CHECKPOINT_COST_FACTOR", 0)  # a checkpoint after every step
    config = learner_config()
    policy_in = str(seeded_store / "initial")
    whole, stopped = str(tmp_path / "whole"), str(tmp_path / "stopped")
    with ReplayBuffer(seeded_store / "experience.db", BufferConfig(seed=config.seed)) as buffer:
        expected = learner_module.train_iteration(buffer, config, 0, policy_in, whole, "cpu")
    assert expected["steps"] >= 6 and expected["pass_checkpoints"] >= 5
    # The bar: one line on a stream that is not a terminal.
    bar_lines = [line for line in capsys.readouterr().err.splitlines() if "warm-up" in line]
    assert len(bar_lines) == 1 and f"{expected['steps']}/{expected['steps']}" in bar_lines[0]

    write = learner_module.PassCheckpoints.write

    def write_then_stop(self, *args):
        write(self, *args)
        if self.written == 3:
            raise Stop

    monkeypatch.setattr(learner_module.PassCheckpoints, "write", write_then_stop)
    with ReplayBuffer(seeded_store / "experience.db", BufferConfig(seed=config.seed)) as buffer:
        # A learner that has drawn other things before (a long-lived one) draws the same examples.
        buffer.draw_without_replacement({"seed": 7})
        with pytest.raises(Stop):
            learner_module.train_iteration(buffer, config, 0, policy_in, stopped, "cpu")
    assert learner_module.partial_path(stopped).exists() and learner_module.draw_path(stopped).exists()
    assert not Path(stopped).exists()
    monkeypatch.setattr(learner_module.PassCheckpoints, "write", write)
    with ReplayBuffer(seeded_store / "experience.db", BufferConfig(seed=config.seed)) as buffer:
        resumed = learner_module.train_iteration(buffer, config, 0, policy_in, stopped, "cpu")
        assert resumed["resumed_at_step"] == 3
        for key in ("drawn", "examples", "steps", "tokens", "mean_loss", "final_loss"):
            assert resumed[key] == expected[key], key
        a, b = weights(Path(whole)), weights(Path(stopped))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert not learner_module.partial_path(stopped).exists() and not learner_module.draw_path(stopped).exists()
        assert not list(tmp_path.glob("*.tmp"))
        # Asked again (the driver was killed before it counted the pass): the finished pass stands.
        mtime = (Path(stopped) / "model.safetensors").stat().st_mtime_ns
        assert learner_module.train_iteration(buffer, config, 0, policy_in, stopped, "cpu") == resumed
        assert (Path(stopped) / "model.safetensors").stat().st_mtime_ns == mtime


def test_a_checkpoint_left_half_written_is_never_read(seeded_store, tmp_path):
    config = learner_config()
    out = tmp_path / "warmup"
    # What a kill during a write leaves: a temporary file of the writer's own name, never the file.
    learner_module.write_atomically(learner_module.partial_path(out), lambda p: p.write_bytes(b"complete"))
    assert learner_module.partial_path(out).read_bytes() == b"complete"

    def killed(path):
        path.write_bytes(b"half")
        raise Stop

    with pytest.raises(Stop):
        learner_module.write_atomically(learner_module.partial_path(out), killed)
    assert learner_module.partial_path(out).read_bytes() == b"complete"
    # And a partial file that is not a checkpoint of this pass starts the pass again.
    checkpoints = learner_module.PassCheckpoints(out, 0, "elsewhere", config.learner.checkpoint_seconds)
    assert checkpoints.load() is None


# -- the chaos test -----------------------------------------------------------------------------------

RUN_KILLS = 10
EVAL_KILLS = 10
CHAOS = {
    "max_search_tasks": 4,
    "meta_iterations": 2,
    "initial_mutants": 24,
    "tasks_per_step": 1,
    "sampling": {"backend": "hf", "samples_per_task": 2, "max_new_tokens": 48, "max_prompt_tokens": 192,
                 "batch_size": 4, "cpu_threads": 1},
    "learner": {"policy_experiences": 24, "mutation_experiences": 48, "batch_size": 2, "warmup_epochs": 8,
                "cpu_threads": 1, "checkpoint_seconds": 0.05},
    "policy": {"architecture": TINY_POLICY},
    "execution": {"threads": 1, "limits": {"time_limit": 5.0}},
}
EVAL_SAMPLES = 64  # 32 rounds of two per task: 128 steps of one task to be killed in (40 ran out on a quiet machine)
TIMING = ("samples_per_second", "runs_per_second", "stage_share")


CODEIT = [sys.executable, "-m", "codeit.cli"]


def run_args(run_dir: Path) -> list[str]:
    return ["run", str(run_dir), "--preset", "tiny", *format_overrides(CHAOS)]


def eval_args(checkpoint: Path, out: Path) -> list[str]:
    return ["eval", str(checkpoint), "--tasks", "arc1/evaluation", "--max-tasks", "4", "--samples", str(EVAL_SAMPLES),
            "--out", str(out), "--set", "tasks_per_step=1",
            *format_overrides({k: CHAOS[k] for k in ("sampling", "policy", "execution")})]


def uninterrupted(argv: list[str]) -> None:
    """``codeit ARGV`` in this process (no interpreter to start: the chaos test starts enough)."""
    import torch

    from codeit.cli import main

    threads = torch.get_num_threads()  # the sampler sets them for the whole process
    try:
        assert main(argv) == 0
    finally:
        torch.set_num_threads(threads)


def _read_store(db: Path, read):
    """``read(store)`` on a store another process is writing; None while it cannot be read yet."""
    if not db.exists():
        return None
    try:
        with ExperienceStore(db, StoreConfig(read_only=True)) as store:
            return read(store)
    except (FileNotFoundError, sqlite3.OperationalError, sqlite3.DatabaseError):
        return None


def _partial_steps(path: Path) -> int:
    import torch

    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["progress"]["steps"])
    except Exception:  # renamed away between the listing and the read
        return 0


def run_progress(run_dir: Path) -> int:
    """Work the run has stored, in units that only grow: the initial buffer, each stored learning
    step (in a pass's checkpoint, a finished pass or an adopted one), each adopted pass, each search
    task sampled and stored, each counted iteration."""
    state = _read_store(run_dir / "experience.db", lambda s: s.get_state("run"))
    if not state:
        return 0
    n_tasks = CHAOS["max_search_tasks"]
    units = int(state["initial_buffer_done"]) + state["iterations_done"] * (n_tasks + 1)
    if state.get("sampling"):
        units += state["sampling"]["tasks_done"]
    learned = {int(k): v for k, v in state["learn"].items()}
    units += sum(v["steps"] + 1 for v in learned.values())
    checkpoints = run_dir / "checkpoints"
    for iteration, name in [(0, "warmup")] + [(k, f"iter_{k:03d}") for k in range(1, CHAOS["meta_iterations"] + 1)]:
        if iteration in learned:
            continue
        finished = checkpoints / name / learner_module.STATS_FILE
        if finished.exists():
            units += json.loads(finished.read_text())["stats"]["steps"] + 1
        elif learner_module.partial_path(checkpoints / name).exists():
            units += _partial_steps(learner_module.partial_path(checkpoints / name))
    return units


def eval_progress(out: Path) -> int:
    progress = _read_store(out / "evaluation.db", lambda s: s.get_state("progress"))
    return 0 if not progress else progress["round"] * 4 + progress["tasks_done"]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _snapshot_run(run_dir: Path) -> dict:
    def read(store):
        return {"experiences": {e.id: (e.task_id, e.origin, e.program, e.priority) for e in store.iter_experiences()},
                "solutions": {(s.task_id, s.program, s.iteration) for s in store.solutions()},
                "metrics": store.metrics_rows()}

    return _read_store(run_dir / "experience.db", read) or {"experiences": {}, "solutions": set(), "metrics": []}


def _snapshot_eval(out: Path) -> dict:
    def read(store):
        return {"solutions": {(s.task_id, s.program, s.iteration) for s in store.solutions()}}

    return _read_store(out / "evaluation.db", read) or {"solutions": set()}


def kill_repeatedly(command: list[str], progress, snapshot, kills: int, rng: random.Random, log: list[str],
                    deadline: float) -> tuple[int, list[dict]]:
    """Start ``command``, and each time its stored work has grown, SIGKILL it after a random delay
    and start it again, ``kills`` times; then let it finish. Returns (kills made, the snapshot after
    each kill)."""
    made, snapshots, last = 0, [], progress()
    while True:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            if made >= kills:
                _, err = proc.communicate(timeout=max(1.0, deadline - time.time()))
                assert proc.returncode == 0, f"the last start failed (code {proc.returncode}):\n{err.decode()[-3000:]}"
                return made, snapshots
            while proc.poll() is None and progress() <= last:
                assert time.time() < deadline, f"no stored progress past {last} in time ({log})"
                time.sleep(0.05)
            if proc.poll() is not None:
                err = proc.stderr.read().decode()
                assert proc.returncode == 0, f"a start failed (code {proc.returncode}):\n{err[-3000:]}"
                pytest.fail(f"finished after {made} of {kills} kills: too little work to kill in ({log})")
            time.sleep(rng.uniform(0.0, 0.3))
            children = _children(proc.pid)
            whole = rng.random() < 0.7
            # The whole command (its process group), or the driver alone: its learner must then see
            # that and stop by itself rather than race the next start's learner.
            if whole:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            orphans_deadline = time.time() + 60
            while any(_alive(c) for c in children):
                assert time.time() < orphans_deadline, "a learner outlived its killed driver"
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.stderr.close()
        made += 1
        now = progress()
        log.append(f"kill {made} ({'group' if whole else 'driver'}): progress {last} -> {now}")
        assert now > last, f"kill {made}: the stored work did not grow ({log})"
        last = now
        snapshots.append(snapshot())


def _comparable(row: dict) -> dict:
    row = {k: v for k, v in row.items() if k not in TIMING}
    row["learn"] = {k: v for k, v in row["learn"].items() if k != "wall_seconds"}
    return row


@pytest.mark.slow
def test_kills_at_random_moments_lose_nothing_and_change_nothing(tmp_path):
    import torch

    seed = int(os.environ.get("CODEIT_CHAOS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    log: list[str] = [f"CODEIT_CHAOS_SEED={seed}"]
    started = time.time()
    deadline = started + 1800
    # The uninterrupted run and evaluation.
    reference, chaos = tmp_path / "reference", tmp_path / "chaos"
    uninterrupted(run_args(reference))
    final = reference / "checkpoints" / f"iter_{CHAOS['meta_iterations']:03d}"
    uninterrupted(eval_args(final, reference / "eval"))
    log.append(f"uninterrupted run and evaluation: {time.time() - started:.0f} s")

    run_kills, run_snapshots = kill_repeatedly(CODEIT + run_args(chaos), lambda: run_progress(chaos),
                                               lambda: _snapshot_run(chaos), RUN_KILLS, rng, log, deadline)
    log.append(f"run with {run_kills} kills done at {time.time() - started:.0f} s")
    eval_kills, eval_snapshots = kill_repeatedly(CODEIT + eval_args(final, chaos / "eval"),
                                                 lambda: eval_progress(chaos / "eval"),
                                                 lambda: _snapshot_eval(chaos / "eval"), EVAL_KILLS, rng, log, deadline)
    assert run_kills + eval_kills >= 20, log
    log.append(f"evaluation with {eval_kills} kills done at {time.time() - started:.0f} s")

    # Nothing committed before a kill is lost or changed.
    end = _snapshot_run(chaos)
    for k, snap in enumerate(run_snapshots, 1):
        assert snap["experiences"].items() <= end["experiences"].items(), f"after kill {k}: {log}"
        assert snap["solutions"] <= end["solutions"], f"after kill {k}: {log}"
        assert snap["metrics"] == end["metrics"][: len(snap["metrics"])], f"after kill {k}: {log}"
    end_eval = _snapshot_eval(chaos / "eval")
    for snap in eval_snapshots:
        assert snap["solutions"] <= end_eval["solutions"], log
    # Each iteration's metrics row exactly once, in the store and in metrics.jsonl.
    rows = [json.loads(line) for line in (chaos / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == list(range(1, CHAOS["meta_iterations"] + 1)), log
    assert rows == end["metrics"]
    # Nothing half-done left behind.
    leftovers = [p.name for p in (chaos / "checkpoints").iterdir() if p.name.endswith((".tmp", ".pt", ".json"))]
    assert leftovers == [], leftovers
    with ExperienceStore(chaos / "experience.db") as store:
        assert store.integrity_check() == "ok"

    # The same results as the uninterrupted run and evaluation.
    expected = _snapshot_run(reference)
    assert [_comparable(r) for r in end["metrics"]] == [_comparable(r) for r in expected["metrics"]], log
    assert end["experiences"] == expected["experiences"], log
    assert end["solutions"] == expected["solutions"], log
    for name in ("warmup", "iter_001", f"iter_{CHAOS['meta_iterations']:03d}"):
        a, b = weights(reference / "checkpoints" / name), weights(chaos / "checkpoints" / name)
        assert all(torch.equal(a[k], b[k]) for k in a), f"{name}: {log}"
    assert end_eval == _snapshot_eval(reference / "eval"), log
    got, want = (json.loads((d / "evaluation.json").read_text()) for d in (chaos / "eval", reference / "eval"))
    for key in ("tasks", "programs_sampled", "parse_rate", "mean_demo_accuracy", "solved", "solved_ids"):
        assert got[key] == want[key], (key, log)
    print("\n".join(log))
    print(f"chaos: {run_kills} kills of codeit run, {eval_kills} of codeit eval")
