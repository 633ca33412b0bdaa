import json

import pytest

from codeit.buffer.store import ExperienceStore
from codeit.run.config import make_config
from codeit.run.evaluation import evaluate_checkpoint
from codeit.policy.model import PolicyConfig, create_policy
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
