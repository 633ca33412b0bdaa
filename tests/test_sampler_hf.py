"""The transformers sampler: batching, seeds, log-probabilities, T5, weight reloads, constraints."""

from dataclasses import replace

import pytest
import torch

from codeit.dsl.program import ProgramError, parse
from codeit.policy.hf_sampler import HFSampler
from codeit.policy.model import PolicyConfig, create_policy, load_policy
from codeit.policy.backends import open_sampler
from codeit.policy.sampler import SamplingConfig
from codeit.policy.toy import TOY_CONFIG, TOY_PROGRAMS, TOY_PROMPTS, toy_policy
from codeit.tasks import Pair, Task


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy")
    toy_policy().save(path)
    return path


@pytest.fixture(scope="module")
def sampler(toy_dir):
    return HFSampler(str(toy_dir))


def parses(text):
    try:
        parse(text)
        return True
    except ProgramError:
        return False


def test_n_samples_per_prompt_in_order(sampler):
    config = SamplingConfig(n=3, max_new_tokens=24, prompts_per_batch=2)
    out = sampler.sample(list(TOY_PROMPTS), config)
    assert len(out) == len(TOY_PROMPTS) and all(len(s) == 3 for s in out)
    for samples in out:
        for s in samples:
            assert 1 <= s.n_tokens <= 24
            assert s.finished == (s.token_ids[-1] == sampler.format.eos_id)
            assert s.text == sampler.format.decode_program(s.token_ids)
            assert s.logprob < 0


def test_logprob_is_the_policy_score_of_the_sample(sampler):
    out = sampler.sample(list(TOY_PROMPTS[:2]), SamplingConfig(n=4, max_new_tokens=32, temperature=1.3, top_k=20))
    for prompt, samples in zip(TOY_PROMPTS, out):
        for s in samples:
            assert s.logprob == pytest.approx(sampler.score(prompt, s.token_ids), abs=1e-3)


def test_same_seed_same_samples_other_seed_other_samples(sampler):
    config = SamplingConfig(n=4, max_new_tokens=24, seed=7)
    a = sampler.sample(list(TOY_PROMPTS), config)
    b = sampler.sample(list(TOY_PROMPTS), config)
    c = sampler.sample(list(TOY_PROMPTS), replace(config, seed=8))
    ids = lambda out: [[s.token_ids for s in samples] for samples in out]
    assert ids(a) == ids(b)
    assert ids(a) != ids(c)


def test_sampling_leaves_the_global_generator_alone(sampler):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    sampler.sample(list(TOY_PROMPTS[:1]), SamplingConfig(n=2, max_new_tokens=8, seed=5))
    assert torch.equal(torch.rand(3), expected)


def test_left_padding_does_not_change_greedy_output(sampler):
    greedy = SamplingConfig(n=2, temperature=0, max_new_tokens=24)
    alone = sampler.sample([TOY_PROMPTS[0]], greedy)[0]
    batched = sampler.sample([TOY_PROMPTS[1], TOY_PROMPTS[0]], replace(greedy, prompts_per_batch=2))[1]
    assert alone[0].token_ids == batched[0].token_ids
    assert alone[0].logprob == pytest.approx(batched[0].logprob, abs=1e-3)
    assert alone[0] == alone[1]  # greedy: the n samples are one program


def test_shared_prefill_draws_what_plain_generate_draws(toy_dir):
    """One prefill per prompt (cache repeated n times) must not change a single sample."""
    shared, plain = HFSampler(str(toy_dir)), HFSampler(str(toy_dir), share_prefill=False)
    prompts = [TOY_PROMPTS[0], TOY_PROMPTS[1] + " " + TOY_PROMPTS[2]]  # unequal lengths: left padding
    config = SamplingConfig(n=5, max_new_tokens=24, seed=2, prompts_per_batch=2)
    a, b = shared.sample(prompts, config), plain.sample(prompts, config)
    assert [[s.token_ids for s in x] for x in a] == [[s.token_ids for s in x] for x in b]
    for x, y in zip(a, b):
        for s, t in zip(x, y):
            assert s.logprob == pytest.approx(t.logprob, abs=1e-3)


def test_toy_policy_writes_its_training_programs_greedily(sampler):
    out = sampler.sample(list(TOY_PROMPTS), SamplingConfig(n=1, temperature=0, max_new_tokens=40))
    assert [samples[0].text for samples in out] == list(TOY_PROGRAMS)
    assert all(samples[0].finished for samples in out)


def test_sample_tasks_encodes_within_the_model(sampler):
    import numpy as np

    rng = np.random.default_rng(0)
    big = [Pair(rng.integers(0, 10, (30, 30)).astype(np.uint8), rng.integers(0, 10, (30, 30)).astype(np.uint8))
           for _ in range(3)]
    task = Task("big", tuple(big), (Pair(big[0].input, None),))
    config = SamplingConfig(n=2, max_new_tokens=16)
    prompts = sampler.task_prompts([task], config)
    assert len(prompts[0]) <= TOY_CONFIG.max_positions - 16
    out = sampler.sample_tasks([task], config)
    assert len(out[0]) == 2


def test_t5_policy_samples(tmp_path):
    policy = toy_policy(replace(TOY_CONFIG, arch="t5"), steps=30)
    policy.save(tmp_path)
    t5 = open_sampler("hf", str(tmp_path))
    out = t5.sample(list(TOY_PROMPTS[:2]), SamplingConfig(n=3, max_new_tokens=20))
    assert [len(s) for s in out] == [3, 3]
    for prompt, samples in zip(TOY_PROMPTS, out):
        for s in samples:
            assert s.logprob == pytest.approx(t5.score(prompt, s.token_ids), abs=1e-3)


def test_load_weights_serves_the_new_weights(tmp_path, toy_dir):
    sampler = HFSampler(str(toy_dir))
    config = SamplingConfig(n=4, max_new_tokens=16, seed=3)
    before = sampler.sample(list(TOY_PROMPTS[:2]), config)
    changed = load_policy(toy_dir)
    with torch.no_grad():
        for p in changed.model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    changed.save(tmp_path / "changed")
    sampler.load_weights(str(tmp_path / "changed"))
    after = sampler.sample(list(TOY_PROMPTS[:2]), config)
    fresh = HFSampler(str(tmp_path / "changed")).sample(list(TOY_PROMPTS[:2]), config)
    ids = lambda out: [[s.token_ids for s in samples] for samples in out]
    assert ids(after) != ids(before)
    assert ids(after) == ids(fresh)


def test_constrained_samples_all_parse():
    policy = create_policy(replace(TOY_CONFIG, seed=1))  # untrained: unconstrained samples are noise
    sampler = HFSampler(policy)
    for max_new_tokens in (8, 30, 64):
        config = SamplingConfig(n=40, max_new_tokens=max_new_tokens, constrained=True, seed=max_new_tokens)
        out = sampler.sample(list(TOY_PROMPTS[:2]), config)
        texts = [s.text for samples in out for s in samples]
        assert all(s.finished for samples in out for s in samples)
        bad = [t for t in texts if not parses(t)]
        assert not bad, bad[:3]
    free = sampler.sample(list(TOY_PROMPTS[:2]), SamplingConfig(n=20, max_new_tokens=30))
    assert sum(parses(s.text) for samples in free for s in samples) < 40  # the constraint did the work


def test_constrained_t5_samples_parse():
    sampler = HFSampler(create_policy(replace(TOY_CONFIG, arch="t5")))
    out = sampler.sample(list(TOY_PROMPTS[:1]), SamplingConfig(n=20, max_new_tokens=40, constrained=True))
    assert all(parses(s.text) for s in out[0])


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match="top_p"):
        SamplingConfig(top_p=0)
    with pytest.raises(ValueError, match="n must"):
        SamplingConfig(n=0)
    with pytest.raises(ValueError, match="backend"):
        open_sampler("tgi", "nowhere")



def test_static_and_growing_caches_draw_the_same_samples(toy_dir):
    """The preallocated cache is a faster place for the same numbers, under constraints too."""
    static, growing = HFSampler(str(toy_dir)), HFSampler(str(toy_dir), static_cache=False)
    prompts = [TOY_PROMPTS[0], TOY_PROMPTS[1] + " " + TOY_PROMPTS[2]]  # unequal lengths: left padding
    for constrained in (False, True):
        config = SamplingConfig(n=4, max_new_tokens=24, seed=5, prompts_per_batch=2, constrained=constrained)
        a, b = static.sample(prompts, config), growing.sample(prompts, config)
        assert [[s.token_ids for s in x] for x in a] == [[s.token_ids for s in x] for x in b]
        for x, y in zip(a, b):
            for s, t in zip(x, y):
                assert s.logprob == pytest.approx(t.logprob, abs=1e-3)
