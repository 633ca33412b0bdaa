"""Each ablation switch of a run (``AblationConfig``) changes what a tiny one-meta-iteration run does.

Every test runs the real driver for one meta-iteration on two search tasks with a toy policy
architecture, then checks the thing its switch must change against a run with every switch at
its default (``baseline``). Two seams keep this fast and observable, and change nothing else:

- the learner (``codeit.train.learner.learner_main``, unchanged) is served from a thread of this
  process instead of a spawned process, so its replay buffer and its training prompts can be
  watched, and torch is not imported a second time (on one torch thread: two threads of tiny ops
  on a busy 2-core machine wait on each other for seconds);
- the sampler is the run's own (``open_run_sampler``: the policy, its prompts, constrained
  decoding), with its program texts replaced by a fixed list in the runs that need known demo
  accuracies: on the search task ``mixed`` (two vmirror pairs and one hmirror pair)
  ``O = vmirror(I)`` scores 2/3 and ``O = hmirror(I)`` 1/3; on ``vflip`` (67a3c6ac under another
  id, so that its seed's row does not hide the solution as a duplicate) it is the solution.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
from pathlib import Path

import pytest

import codeit.buffer.replay as replay_module
import codeit.policy.encode as encode_module
import codeit.policy.sampler as sampler_module
import codeit.run.driver as driver_module
import codeit.run.prompts as prompts_module
from codeit.buffer.store import ExperienceStore
from codeit.policy.encode import IN_TOKEN
from codeit.run.config import make_config
from codeit.run.driver import Run
from codeit.run.sampling import open_run_sampler
from codeit.tasks import Task, load_tasks
from codeit.train.learner import learner_main

pytestmark = pytest.mark.slow

TINY = {
    "max_search_tasks": 2,
    "meta_iterations": 1,
    "initial_mutants": 8,
    "tasks_per_step": 2,
    "sampling": {"samples_per_task": 2, "max_new_tokens": 24, "max_prompt_tokens": 256, "batch_size": 4},
    "learner": {"policy_experiences": 8, "mutation_experiences": 8, "batch_size": 8, "warmup_epochs": 1,
                "cpu_threads": 1},
    "policy": {"architecture": {"hidden_size": 32, "num_layers": 1, "num_heads": 1, "intermediate_size": 64,
                                "max_positions": 512}},
    "execution": {"threads": 1},
}

SCRIPT = ("O = vmirror(I)\n", "O = hmirror(I)\n", "O = rot90(I)\n")


# -- the seams -------------------------------------------------------------------------------------


class Watch:
    """What one run's learner and sampler did."""

    def __init__(self):
        self.learners = 0
        self.buffers: list = []  # (alpha per origin) of each replay buffer the learner opened
        self.draws: list[dict] = []  # per draw: origin -> {"count", "alpha", "total", "priorities"}
        self.learn_stats: dict[int, dict] = {}
        self.sampling_prompts: list[str] = []
        self.training_prompts: list[str] = []
        self.samplers = 0


class ThreadLearner:
    """``LearnerProcess``'s interface over ``learner_main`` in a thread of this process."""

    def __init__(self, store_path, config, device, watch: Watch):
        watch.learners += 1
        self._watch = watch
        self._conn, child = mp.Pipe()
        self._thread = threading.Thread(target=learner_main, args=(child, str(store_path), config.to_dict(), device),
                                        daemon=True, name="test-learner")
        self._thread.start()
        self.pending: int | None = None

    def request(self, iteration, policy_in, policy_out) -> None:
        assert self.pending is None
        self._conn.send(("train", iteration, str(policy_in), str(policy_out)))
        self.pending = iteration

    def ready(self) -> bool:
        return self.pending is not None and self._conn.poll()

    def wait(self):
        while not self._conn.poll(1.0):
            assert self._thread.is_alive(), "the learner thread died"
        kind, iteration, *rest = self._conn.recv()
        self.pending = None
        if kind == "error":
            raise RuntimeError(f"the learner failed on iteration {iteration}:\n{rest[0]}")
        self._watch.learn_stats[iteration] = rest[1]
        return iteration, rest[0], rest[1]

    def close(self) -> None:
        try:
            self._conn.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        self._thread.join(timeout=60)
        self._conn.close()


def watched_buffer(watch: Watch):
    class WatchedBuffer(replay_module.ReplayBuffer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            watch.buffers.append(self.config.alpha)

        def draw_without_replacement(self, counts, positive_only=False):
            drawn = super().draw_without_replacement(counts, positive_only)
            record = {}
            for origin in counts:
                tree = self._trees[self._code(origin)]
                record[origin] = {"count": len(drawn[origin]), "alpha": tree.alpha, "total": tree.total(),
                                  "size": tree.size}
            watch.draws.append(record)
            return drawn

    return WatchedBuffer


def scripted(programs):
    """A sampler factory: the run's own sampler, its texts replaced by ``programs`` for every task."""

    def factory(config, policy_path, device):
        real = open_run_sampler(config, policy_path, device)

        class Scripted:
            def set_samples(self, n, seed=None):
                real.set_samples(n, seed)

            def sample_tasks(self, tasks):
                real.sample_tasks(tasks)  # the real prompts are still built (and watched)
                return [list(programs) for _ in tasks]

            def load_weights(self, path):
                real.load_weights(path)

            def close(self):
                real.close()

        return Scripted()

    return factory


@pytest.fixture(scope="module")
def search_set(tmp_path_factory) -> Path:
    """``vflip`` (67a3c6ac: O = vmirror(I) solves it) and ``mixed``: two of its pairs and one of
    68b16354 (hmirror)."""
    training = {t.id: t for t in load_tasks("arc1/training")}
    a, b = training["67a3c6ac"], training["68b16354"]
    vflip = Task("vflip", a.train, a.test)
    mixed = Task("mixed", (a.train[0], a.train[1], b.train[0]), (a.test[0],))
    folder = tmp_path_factory.mktemp("search")
    for t in (vflip, mixed):
        data = {split: [{"input": p.input.tolist(), "output": p.output.tolist()} for p in pairs]
                for split, pairs in (("train", t.train), ("test", t.test))}
        (folder / f"{t.id}.json").write_text(json.dumps(data))
    return folder


def tiny_run(tmp_path: Path, monkeypatch, search_set: Path, ablation: dict | None = None, *, programs=SCRIPT,
             policy: dict | None = None) -> tuple[Run, dict, Watch]:
    """One meta-iteration under ``ablation``; returns the run, its summary and what was watched."""
    watch = Watch()
    monkeypatch.setattr(driver_module, "LearnerProcess", lambda *a: ThreadLearner(*a, watch))
    monkeypatch.setattr(replay_module, "ReplayBuffer", watched_buffer(watch))

    def recording(where):
        original = encode_module.encode_task

        def encode(*args, **kwargs):
            encoded = original(*args, **kwargs)
            where.append(encoded.text)
            return encoded

        return encode

    monkeypatch.setattr(sampler_module, "encode_task", recording(watch.sampling_prompts))
    monkeypatch.setattr(prompts_module, "encode_task", recording(watch.training_prompts))
    settings = {**TINY, "search_set": str(search_set), "ablation": ablation or {}}
    if policy:
        settings["policy"] = {**settings["policy"], **policy}
    factory = scripted(programs) if programs is not None else open_run_sampler

    def counted(*args):
        watch.samplers += 1
        return factory(*args)

    import torch

    threads = torch.get_num_threads()  # the learner and the sampler set them for the whole process
    run = Run(tmp_path / "run", make_config("tiny", settings), sampler_factory=counted, log=lambda _: None)
    try:
        summary = run.run()
    finally:
        torch.set_num_threads(threads)
    return run, summary, watch


def metrics(run: Run) -> list[dict]:
    return [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]


def experiences(run: Run):
    with ExperienceStore(run.dir / "experience.db") as store:
        return list(store.iter_experiences())


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, search_set):
    """Every switch at its default."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        run, summary, watch = tiny_run(tmp_path_factory.mktemp("baseline"), monkeypatch, search_set)
    return run, summary, watch


def _policy_rows(run: Run):
    return [e for e in experiences(run) if e.origin == "policy"]


# -- the baseline shows what each switch takes away ----------------------------------------------


def test_baseline_relabels_draws_by_priority_and_learns(baseline):
    run, _, watch = baseline
    rows = _policy_rows(run)
    accuracy = sorted(round(e.demo_accuracy, 3) for e in rows)
    assert 0.333 in accuracy and 0.667 in accuracy and 1.0 in accuracy  # relabeled runs are kept
    assert watch.buffers == [1.0] and all(d["alpha"] == 1.0 for draw in watch.draws for d in draw.values())
    last = watch.draws[-1]
    assert last["seed"]["count"] + last["mutation"]["count"] > 0
    assert pytest.approx(last["policy"]["total"], rel=1e-5) == sum(e.priority for e in rows)
    assert {p.name for p in (run.dir / "checkpoints").iterdir()} >= {"initial", "warmup", "iter_001"}
    assert metrics(run)[0]["learn"]["examples"] > 0
    assert any(p.count(IN_TOKEN) > 1 for p in watch.sampling_prompts)
    assert any(p.count(IN_TOKEN) > 1 for p in watch.training_prompts)


# -- one test per switch ---------------------------------------------------------------------------


def test_relabel_off_stores_only_exact_solutions(tmp_path, monkeypatch, search_set, baseline):
    run, _, _ = tiny_run(tmp_path, monkeypatch, search_set, {"relabel": False})
    rows = _policy_rows(run)
    assert [(e.task_id, e.program, e.demo_accuracy) for e in rows] == [("vflip", "O = vmirror(I)\n", 1.0)]
    row = metrics(run)[0]
    assert row["new_experiences"] > len(rows)  # relabeled experiences were found, and not kept
    assert row["solved_cumulative_ids"] == metrics(baseline[0])[0]["solved_cumulative_ids"]  # scored as before


def test_uniform_priorities_weigh_every_positive_experience_alike(tmp_path, monkeypatch, search_set):
    run, _, watch = tiny_run(tmp_path, monkeypatch, search_set, {"uniform_priorities": True})
    assert watch.buffers == [0.0]
    rows = _policy_rows(run)
    priorities = [e.priority for e in rows]
    assert any(0 < p < 1 for p in priorities)  # stored priorities are still the demo accuracies
    last = watch.draws[-1]["policy"]
    # Weight priority ** 0 = 1 for every positive priority: the tree's total counts them.
    assert last["alpha"] == 0.0
    assert last["total"] == pytest.approx(sum(p > 0 for p in priorities))
    assert last["total"] != pytest.approx(sum(priorities))


def test_random_init_discards_the_given_weights(tmp_path, monkeypatch, search_set):
    import torch

    from codeit.policy.model import PolicyConfig, create_policy, load_policy

    given = create_policy(PolicyConfig(**TINY["policy"]["architecture"]))
    with torch.no_grad():
        for p in given.model.parameters():
            p.fill_(0.01)
    given.save(tmp_path / "given")
    run, _, _ = tiny_run(tmp_path, monkeypatch, search_set, {"random_init": True},
                         policy={"model": str(tmp_path / "given")})
    initial = load_policy(run.dir / "checkpoints" / "initial")
    assert not all(bool(torch.all(p == 0.01)) for p in initial.model.parameters())


def test_one_demo_prompts_hold_one_pair(tmp_path, monkeypatch, search_set):
    run, _, watch = tiny_run(tmp_path, monkeypatch, search_set, {"one_demo": True}, programs=None)
    assert watch.sampling_prompts and watch.training_prompts
    assert all(p.count(IN_TOKEN) == 1 for p in watch.sampling_prompts), watch.sampling_prompts
    # Training prompts too (one whose first pair is over the token budget is left empty).
    assert all(p.count(IN_TOKEN) <= 1 for p in watch.training_prompts)
    assert sum(p.count(IN_TOKEN) == 1 for p in watch.training_prompts) > len(watch.training_prompts) // 2
    assert metrics(run)[0]["programs_sampled"] == 4


def test_mutation_data_off_draws_no_seed_or_mutation_experience(tmp_path, monkeypatch, search_set):
    run, _, watch = tiny_run(tmp_path, monkeypatch, search_set, {"mutation_data": False})
    assert watch.draws, "the learner drew nothing"
    for draw in watch.draws:
        assert draw["seed"]["count"] == 0 and draw["mutation"]["count"] == 0
    assert watch.draws[-1]["policy"]["count"] == len(_policy_rows(run)) > 0
    # The buffer still holds the seeds and mutants: they are only not drawn.
    assert {"seed", "mutation"} <= {e.origin for e in experiences(run)}
    assert all(stats["drawn"]["seed"] == stats["drawn"]["mutation"] == 0 for stats in watch.learn_stats.values())


def test_mutation_only_runs_no_policy_and_still_records_the_iteration(tmp_path, monkeypatch, search_set):
    run, summary, watch = tiny_run(tmp_path, monkeypatch, search_set, {"mutation_only": True})
    assert watch.learners == 0 and watch.samplers == 0 and not watch.draws
    assert list((run.dir / "checkpoints").iterdir()) == []
    [row] = metrics(run)
    assert row["iteration"] == 1
    assert row["programs_sampled"] == TINY["sampling"]["samples_per_task"] * TINY["max_search_tasks"]
    assert all(v is None for v in row["learn"].values())
    assert "learn" not in summary["stage_seconds"] and summary["stage_seconds"]["mutate"] > 0
    assert not _policy_rows(run)


def test_the_sweep_reads_a_finished_run_without_reopening_it(tmp_path, monkeypatch):
    """``bench/ablations.py`` resumed over finished runs prints its table at once: a run with every
    iteration counted (and no final report asked for) is read, not started again."""
    import importlib.util
    import json
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent / "bench"
    monkeypatch.syspath_prepend(str(bench))  # its own imports (machine)
    spec = importlib.util.spec_from_file_location("ablations_under_test", bench / "ablations.py")
    ablations = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ablations)
    import codeit.run.driver as driver

    started = []
    monkeypatch.setattr(driver, "Run", lambda *a, **k: started.append(a) or pytest.fail("reopened a finished run"))
    folder = tmp_path / "full-seed0"
    folder.mkdir()
    rows = [{"iteration": i, "solved_policy": i, "solved_cumulative": i} for i in range(1, 5)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    overrides = {"meta_iterations": 4, "report_set": "", "seed": 0}
    assert ablations.run_variant("tiny", overrides, folder) == rows
    # One iteration short: the run is reopened to finish it.
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:3]))
    with pytest.raises(pytest.fail.Exception, match="reopened"):
        ablations.run_variant("tiny", overrides, folder)
    assert len(started) == 1
    assert "ablations_under_test" not in sys.modules
