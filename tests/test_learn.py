import numpy as np
import pytest
import torch

from codeit.train.trainer import (
    Example, encode_example, fused_loss, pack_rows, packed_attention, packed_loss, padded_loss, supports_fused, train,
)
from codeit.policy.encode import EncodeConfig
from codeit.policy.model import PolicyConfig, create_policy
from codeit.tasks import Pair, Task


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small models train fastest on one thread, and a busy machine cannot stall a second one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_policy(**kw):
    shape = dict(hidden_size=64, num_layers=1, num_heads=1, intermediate_size=128, max_positions=512)
    return create_policy(PolicyConfig(**{**shape, **kw}))


def varied_examples(n: int = 7, seed: int = 0) -> list[Example]:
    """Prompts and programs of different lengths, so that padding and packing differ."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        cells = " ".join(str(int(c)) for c in rng.integers(0, 10, int(rng.integers(3, 120))))
        program = "\n".join(f"x{i + 1} = rot90(I)" for i in range(int(rng.integers(1, 5)))) + "\nO = hmirror(I)"
        out.append(Example(f"{k % 5 + 1} x 2 {cells}", program))
    return out


def grads(model) -> list[torch.Tensor]:
    return [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p) for p in model.parameters()]


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


@pytest.mark.parametrize("shape", [
    dict(num_layers=2, num_heads=2),
    dict(num_layers=3, num_heads=4, num_kv_heads=2),
    dict(num_layers=1, num_heads=2),
])
def test_packed_loss_and_gradients_equal_the_padded_ones(shape):
    """Packing (transformers forward, per-example attention) and the fused step compute the padded loss."""
    policy = tiny_policy(**shape)
    model = policy.model
    rows = [policy.format.training_ids(e.prompt, e.program) for e in varied_examples()]
    assert len({len(r["input_ids"]) for r in rows}) > 3

    model.zero_grad()
    reference = padded_loss(policy, rows)
    reference.backward()
    expected = grads(model)

    model.zero_grad()
    with packed_attention(model):
        packed = packed_loss(model, pack_rows(rows))
        packed.backward()
    assert model.config._attn_implementation == "sdpa"
    torch.testing.assert_close(packed, reference, rtol=1e-5, atol=1e-5)
    for got, want in zip(grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)

    assert supports_fused(model)
    model.zero_grad()
    fused = fused_loss(model, pack_rows(rows), precision="fp32")
    fused.backward()
    torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-5)
    for got, want in zip(grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)

    # bf16 compute (fp32 weights and loss) stays close to the fp32 loss
    bf16 = fused_loss(model, pack_rows(rows), precision="bf16")
    assert abs(bf16.item() - reference.item()) < 1e-2 * reference.item()


def test_fused_attention_blocks_match_on_long_examples():
    """Examples longer than an attention block: block-causal attention still equals full causal attention."""
    policy = tiny_policy(num_layers=2, num_heads=2, max_positions=1024)
    long = [Example("1 x 1 " + " ".join(["7"] * n), "O = hmirror(I)") for n in (300, 700, 40)]
    rows = [policy.format.training_ids(e.prompt, e.program) for e in long]
    assert max(len(r["input_ids"]) for r in rows) > 600
    reference = padded_loss(policy, rows)
    torch.testing.assert_close(fused_loss(policy.model, pack_rows(rows)), reference, rtol=1e-5, atol=1e-5)


def test_equal_steps_give_equal_losses_in_fp32():
    """The packed trainer follows the padded one step for step: same batches, same loss per token."""
    examples = varied_examples(12)
    curves = {}
    for name, settings in {"padded": dict(packing=False), "packed": dict(fused=False), "fused": {}}.items():
        policy = tiny_policy(num_layers=2, num_heads=2)
        losses: list[float] = []
        train(policy, examples, lr=3e-3, batch_size=4, epochs=2, precision="fp32", seed=3,
              progress=lambda i, n, loss: losses.append(loss), **settings)
        curves[name] = np.array(losses)
    assert len(curves["padded"]) == 6
    np.testing.assert_allclose(curves["packed"], curves["padded"], rtol=1e-4)
    np.testing.assert_allclose(curves["fused"], curves["padded"], rtol=1e-4)


def test_threads_split_a_batch_without_changing_the_step():
    """Two worker threads (each with half the batch's tokens) give the one-thread losses and weights."""
    examples = varied_examples(10, seed=2)
    results = {}
    for workers in (1, 2):
        policy = tiny_policy(num_layers=2, num_heads=2)
        losses: list[float] = []
        train(policy, examples, lr=3e-3, batch_size=5, epochs=2, precision="fp32", workers=workers,
              progress=lambda i, n, loss: losses.append(loss))
        results[workers] = (np.array(losses), [p.detach().clone() for p in policy.model.parameters()])
    assert torch.get_num_threads() == 1
    np.testing.assert_allclose(results[2][0], results[1][0], rtol=1e-5)
    for a, b in zip(results[2][1], results[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("settings", [dict(), dict(precision="fp32"), dict(workers=2), dict(fused=False),
                                      dict(packing=False, precision="fp32")])
def test_every_path_lowers_the_loss(settings):
    examples = varied_examples(8, seed=1)
    policy = tiny_policy(num_layers=2, num_heads=2)
    first = train(policy, examples, lr=3e-3, batch_size=4, epochs=1, **settings)
    later = train(policy, examples, lr=3e-3, batch_size=4, epochs=8, **settings)
    assert later.final_loss < first.mean_loss * 0.6
    assert later.tokens == 8 * first.tokens
    assert policy.model.config._attn_implementation == "sdpa" and not policy.model.training


def test_encoder_decoder_policies_still_train_padded():
    policy = tiny_policy(arch="t5", num_layers=1, num_heads=2)
    assert not supports_fused(policy.model)
    examples = varied_examples(4)
    first = train(policy, examples, lr=3e-3, batch_size=2, epochs=1)
    later = train(policy, examples, lr=3e-3, batch_size=2, epochs=6)
    assert later.final_loss < first.mean_loss
