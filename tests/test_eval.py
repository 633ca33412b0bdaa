import json

import numpy as np
import pytest
from codeit.dsl.program import parse

from codeit.buffer.store import ExperienceStore
from codeit.execute.limits import SEARCH_LIMITS
from codeit.execute.native import NativeExecutor
from codeit.policy.model import PolicyConfig, create_policy
from codeit.run.config import make_config
from codeit.run.evaluation import evaluate_checkpoint
from codeit.run.scoreboard import Scoreboard
from codeit.search.mutate import grow_mutants
from codeit.search.shared import SharedScorer, pack_tasks, shared_step, task_groups
from codeit.search.step import search_step
from codeit.seeds import load_seeds
from codeit.tasks import load_tasks

CONFIG = make_config("tiny", {
    "tasks_per_step": 2,
    "sampling": {"samples_per_task": 2, "max_new_tokens": 40, "max_prompt_tokens": 160, "batch_size": 4},
    "execution": {"threads": 1},
})


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("policy") / "p"
    create_policy(PolicyConfig(hidden_size=64, num_layers=1, num_heads=1, intermediate_size=128, max_positions=256)).save(path)
    return path


def test_evaluation_samples_the_budget_in_rounds_and_resumes(tmp_path, checkpoint):
    tasks = load_tasks("arc1/evaluation").tasks[:3]
    first = evaluate_checkpoint(str(checkpoint), tasks, 5, tmp_path, CONFIG, "cpu")
    # 5 samples per task in rounds of 2: 2 + 2 + 1.
    assert first["programs_sampled"] == 15 and first["tasks"] == 3
    assert first["parse_rate"] == 1.0
    with ExperienceStore(tmp_path / "evaluation.db") as store:
        assert store.get_state("progress")["round"] == 3
    again = evaluate_checkpoint(str(checkpoint), tasks, 5, tmp_path, CONFIG, "cpu")
    assert again["programs_sampled"] == 15 and again["solved"] == first["solved"]
    assert json.loads((tmp_path / "evaluation.json").read_text())["samples_per_task"] == 5


def test_evaluation_folder_of_other_settings_is_refused(tmp_path, checkpoint):
    tasks = load_tasks("arc1/evaluation").tasks[:1]
    evaluate_checkpoint(str(checkpoint), tasks, 1, tmp_path, CONFIG, "cpu")
    with pytest.raises(ValueError, match="other settings"):
        evaluate_checkpoint(str(checkpoint), tasks, 2, tmp_path, CONFIG, "cpu")


# --- shared scoring (codeit.search.shared) against the straightforward search step ---------------

SOLVED_BY_SEED = ("67a3c6ac", "68b16354", "6150a2bd", "3c9b0459", "74dd1130", "9dfd6313", "a416b8f3", "c8f0f002")


@pytest.fixture(scope="module")
def sampled():
    """Per task, programs as a policy might write them: its seed, mutants of it (sharing its lines),
    other tasks' seeds and mutants (failing some demonstrations), duplicates and broken text."""
    training = {t.id: t for t in load_tasks("arc1/training")}
    seeds = {s.task_id: s for s in load_seeds() if s.task_id in training}
    ids = [t for t in SOLVED_BY_SEED if t in seeds] + ["007bbfb7", "00d62c1b", "017c7c7b", "025d127b"]
    chosen = [seeds[t] for t in ids if t in seeds]
    mutants, _ = grow_mutants(chosen, training, 240, NativeExecutor(limits=SEARCH_LIMITS, threads=1),
                              np.random.default_rng(7), batch_size=256, with_outputs=False)
    texts = [s.text for s in chosen] + [m.text for m in mutants]
    rng = np.random.default_rng(3)
    samples = {}
    for k, s in enumerate(chosen):
        own = [m.text for m in mutants if m.task_id == s.task_id]
        other = list(rng.choice(texts, size=40))
        picked = [s.text] + own + other + own[:5] + ["O = not_a_primitive(I)", "x1 =", ""]
        rng.shuffle(picked)
        samples[s.task_id] = picked
    return [training[t.task_id] for t in chosen], samples


def selected(board, tasks):
    return [(c.task_id, c.program, c.demo_accuracy, c.test_correct, c.length,
             tuple(None if g is None else g.tolist() for g in c.test_outputs))
            for t in tasks for c in board.selected(t.id)]


@pytest.mark.parametrize("group", [None, 1, 5])
def test_shared_step_selects_and_solves_what_search_step_does(sampled, group):
    tasks, samples = sampled
    executor = NativeExecutor(limits=SEARCH_LIMITS, threads=2)
    scorer = SharedScorer(SEARCH_LIMITS, 2, pool=executor.pool)
    plain, shared = Scoreboard(), Scoreboard()
    old_runs = new_runs = 0
    old_valid = 0
    for k in range(0, len(tasks), 4):
        batch = tasks[k : k + 4]
        texts = [samples[t.id] for t in batch]
        old = search_step(batch, texts, executor, relabel_experiences=False)
        new = shared_step(batch, texts, scorer, executor, group=group)
        plain.add(old.candidates)
        shared.add(new.candidates)
        assert len(new.candidates) <= 3 * len(batch)
        assert (new.stats.sampled, new.stats.parsed, new.stats.valid) == (old.stats.sampled, old.stats.parsed, old.stats.valid)
        assert new.stats.valid_samples == old.stats.valid_samples
        assert new.stats.valid_accuracy_sum == pytest.approx(old.stats.valid_accuracy_sum)
        old_runs += old.stats.runs
        new_runs += new.stats.runs
        old_valid += old.stats.valid_samples
    assert selected(plain, tasks) == selected(shared, tasks)
    assert plain.solved() == shared.solved()
    assert len(shared.solved()) >= 6  # the seeds of the solvable tasks are among the samples
    assert 0 < old_valid < sum(len(s) for s in samples.values())
    # Early exit and tests for the best candidates only: fewer program runs.
    assert new_runs < old_runs
    if group != 1:
        # Programs of a group compute their common lines once: fewer lines than one program a group.
        alone = SharedScorer(SEARCH_LIMITS, 2, pool=executor.pool)
        for k in range(0, len(tasks), 4):
            batch = tasks[k : k + 4]
            shared_step(batch, [samples[t.id] for t in batch], alone, executor, group=1)
        assert scorer.nodes < 0.9 * alone.nodes
        assert scorer.runs.sum() == alone.runs.sum()


def test_task_groups_keep_programs_beginning_alike_together():
    keys = ["x1 = rot90(I)\nO = hmirror(x1)", "O = vmirror(I)", "x1 = rot90(I)\nO = vmirror(x1)", "O = rot180(I)"]
    groups = task_groups(keys, 2)
    assert sorted(k for g in groups for k in g) == sorted(keys) and all(len(g) <= 2 for g in groups)
    assert ["x1 = rot90(I)\nO = hmirror(x1)", "x1 = rot90(I)\nO = vmirror(x1)"] in groups
    assert task_groups([], 4) == [] and task_groups(keys, 100) == [sorted(keys)]


class ListSampler:
    """A sampler drawing each task's texts from a fixed list, by the seed set for the step (as the
    policy's sampler draws the same programs for the same seed); ``fail_at``: the draw that raises."""

    def __init__(self, texts: dict[str, list[str]], fail_at: int | None = None):
        self.texts, self.fail_at, self.draws, self.n, self.seed = texts, fail_at, 0, 1, 0

    def set_samples(self, n, seed=None):
        self.n, self.seed = n, seed

    def sample_tasks(self, tasks):
        self.draws += 1
        if self.draws == self.fail_at:
            raise KeyboardInterrupt("stopped")
        out = []
        for task in tasks:
            rng = np.random.default_rng([self.seed, sum(map(ord, task.id))])
            out.append([str(t) for t in rng.choice(self.texts[task.id], size=self.n)])
        return out

    def close(self):
        pass


def test_eval_shared_and_overlapped_equals_straightforward_and_resumes(tmp_path, checkpoint, sampled):
    tasks, samples = sampled
    config = make_config("tiny", {"tasks_per_step": 3, "sampling": {"samples_per_task": 16},
                                  "execution": {"threads": 2, "limits": SEARCH_LIMITS.to_dict()}})

    def run(out, shared, overlap, fail_at=None):
        return evaluate_checkpoint(str(checkpoint), tasks, 40, tmp_path / out, config, "cpu", shared=shared,
                                   overlap=overlap, sampler_factory=lambda *a: ListSampler(samples, fail_at))

    plain = run("plain", False, False)
    shared = run("shared", True, True)
    with pytest.raises(KeyboardInterrupt):
        run("resumed", True, True, fail_at=5)
    resumed = run("resumed", True, True)
    assert shared["scoring"].startswith("shared") and plain["scoring"].startswith("every")
    assert plain["solved"] >= 6
    for result in (shared, resumed):
        for key in ("programs_sampled", "parse_rate", "valid_rate", "mean_demo_accuracy", "solved", "solved_ids"):
            assert result[key] == pytest.approx(plain[key]), key
        assert result["program_runs"] < plain["program_runs"]
    assert 0 < plain["valid_rate"] < 1
    assert ((tmp_path / "shared" / "solutions.json").read_text() == (tmp_path / "plain" / "solutions.json").read_text()
            == (tmp_path / "resumed" / "solutions.json").read_text())
    with ExperienceStore(tmp_path / "resumed" / "evaluation.db") as a, ExperienceStore(tmp_path / "shared" / "evaluation.db") as b:
        assert sorted((s.task_id, s.program, s.iteration) for s in a.solutions()) == \
            sorted((s.task_id, s.program, s.iteration) for s in b.solutions())
        assert a.get_state("progress")["round"] == 3


def test_group_tasks_run_each_group_on_its_own_task_only():
    training = {t.id: t for t in load_tasks("arc1/training")}
    tasks = [training["68b16354"], training["67a3c6ac"]]
    scorer = SharedScorer(SEARCH_LIMITS, 2)
    groups = [[parse("O = hmirror(I)"), parse("O = vmirror(I)")], [parse("O = vmirror(I)")]]
    valid, right, _ = scorer.run_packed(groups, pack_tasks(tasks), np.array([0, 1], np.int32))
    n0, n1 = len(tasks[0].train), len(tasks[1].train)
    # hmirror solves 68b16354, vmirror 67a3c6ac; each group ran on its own task, the other is 0.
    assert right.tolist() == [[n0, 0], [0, 0], [0, n1]]
    assert valid.tolist() == [[1, 0], [1, 0], [0, 1]]
    # Every demo for both members of group 0, for group 1's; tests only for the candidates.
    assert scorer.runs.sum() == 2 * n0 + len(tasks[0].test) + n1 + len(tasks[1].test)
    with pytest.raises(ValueError, match="is not a task"):
        scorer.run_packed(groups, pack_tasks(tasks), np.array([0, 2], np.int32))
