"""What the learner trains on each meta-iteration: the draw from the replay buffer, by the run's settings."""

from collections import Counter

import pytest

from codeit.buffer.replay import BufferConfig, ReplayBuffer
from codeit.buffer.store import Experience, ExperienceStore
from codeit.policy.model import PolicyConfig, create_policy
from codeit.run.config import make_config
from codeit.train.learner import draw_examples


def stored(tmp_path, n_zero: int = 20):
    """One policy experience that solves its task (priority 1) among ``n_zero`` that solve nothing."""
    grid = ((1, 2), (3, 4))
    rows = [Experience("solved", "policy", "O = rot90(I)", [grid], [((3, 1), (4, 2))], 1.0, 1.0)]
    rows += [Experience(f"t{k}", "policy", f"O = replace(I, {k % 9 + 1}, {k // 9})", [grid], [((k % 10, 0), (0, 0))], 0.0, 0.0)
             for k in range(n_zero)]
    store = ExperienceStore(tmp_path / "store.db")
    store.add_experiences(rows)
    store.close()
    return tmp_path / "store.db"


@pytest.fixture(scope="module")
def policy():
    return create_policy(PolicyConfig(hidden_size=32, num_layers=1, num_heads=1, intermediate_size=64, max_positions=512))


@pytest.mark.parametrize("with_replacement", [False, True])
def test_the_draw_follows_the_learner_settings(tmp_path, policy, with_replacement):
    config = make_config("tiny", {"learner": {"policy_experiences": 200, "mutation_experiences": 0,
                                              "with_replacement": with_replacement, "priority_floor": 0.05}})
    with ReplayBuffer(stored(tmp_path), BufferConfig(priority_floor=config.learner.priority_floor, seed=1)) as buffer:
        examples, drawn = draw_examples(buffer, policy, config)
    counts = Counter(e.program for e in examples)
    if with_replacement:
        # 200 draws; the solving experience weighs 1.05 against 20 x 0.05: about half of them.
        assert drawn["policy"] == 200 and len(examples) == 200
        assert 70 < counts["O = rot90(I)"] < 140
    else:
        # Distinct items: all 21, each once.
        assert drawn["policy"] == 21 and len(examples) == 21
        assert set(counts.values()) == {1}
