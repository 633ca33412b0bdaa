import numpy as np

from codeit.train.trainer import Example, encode_example, train
from codeit.policy.encode import EncodeConfig
from codeit.policy.model import PolicyConfig, create_policy
from codeit.tasks import Pair, Task


def tiny_policy():
    return create_policy(PolicyConfig(hidden_size=64, num_layers=1, num_heads=1, intermediate_size=128, max_positions=512))


def test_training_lowers_the_loss_on_what_it_sees():
    g = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    task = Task("t", (Pair(g, g[:, ::-1]),), (Pair(g, None),))
    examples = [encode_example(task, "O = vmirror(I)", EncodeConfig()), Example("1 x 1 0", "x1 = rot90(I)\nO = hmirror(x1)")]
    policy = tiny_policy()
    first = train(policy, examples * 4, lr=3e-3, batch_size=4, epochs=1)
    again = train(policy, examples * 4, lr=3e-3, batch_size=4, epochs=6)
    assert first.examples == 8 and first.steps == 2 and first.skipped == 0
    assert again.final_loss < first.mean_loss * 0.6
    assert not policy.model.training


def test_too_long_examples_are_skipped_not_truncated():
    policy = tiny_policy()
    stats = train(policy, [Example("1 " * 600, "O = identity(I)")], lr=1e-3, batch_size=2, max_seq_len=100)
    assert stats.examples == 0 and stats.skipped == 1 and stats.steps == 0
