"""The vLLM sampler (runs wherever vllm imports): same log-probabilities as transformers, seeds,
the same grammar constraint, and new weights loaded into the running engine (CPU and GPU)."""

import numpy as np
import pytest
import torch

pytest.importorskip("vllm")
pytestmark = pytest.mark.slow  # engine starts take 5-40 s each

from codeit.grids import grid_hashes, pack  # noqa: E402
from codeit.policy.hf_sampler import HFSampler  # noqa: E402
from codeit.policy.model import load_policy  # noqa: E402
from codeit.policy.backends import open_sampler
from codeit.policy.sampler import SamplingConfig  # noqa: E402
from codeit.policy.toy import TOY_PROGRAMS, TOY_PROMPTS, toy_policy  # noqa: E402
from codeit.policy.vllm_sampler import VLLMSampler  # noqa: E402

CONFIG = SamplingConfig(n=6, max_new_tokens=40, seed=11)


def ids(out):
    return [[s.token_ids for s in samples] for samples in out]


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy-vllm")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        toy_policy().save(path)
    finally:
        torch.set_num_threads(threads)
    return path


@pytest.fixture(scope="module")
def engine(toy_dir):
    # A real run has codeit's numba kernels (and so llvmlite) loaded before the engine starts.
    grid_hashes(pack([np.zeros((2, 2), np.uint8)]))
    sampler = open_sampler("vllm", str(toy_dir))
    yield sampler
    sampler.close()


@pytest.fixture(scope="module")
def reference(toy_dir):
    return HFSampler(str(toy_dir))


@pytest.fixture(scope="module")
def first_draw(engine):
    return engine.sample(list(TOY_PROMPTS), CONFIG)


def test_n_samples_per_prompt(engine, first_draw):
    assert [len(s) for s in first_draw] == [CONFIG.n] * len(TOY_PROMPTS)
    eos = engine.format.eos_id
    for samples in first_draw:
        for s in samples:
            assert 1 <= s.n_tokens <= CONFIG.max_new_tokens
            assert s.finished == (s.token_ids[-1] == eos)
            assert eos not in s.token_ids[:-1]
            assert s.text == engine.format.decode_program(s.token_ids)


def test_logprobs_match_the_transformers_score(first_draw, reference):
    for prompt, samples in zip(TOY_PROMPTS, first_draw):
        for s in samples:
            assert s.logprob == pytest.approx(reference.score(prompt, s.token_ids), abs=2e-3)


def test_greedy_matches_transformers(engine, reference):
    greedy = SamplingConfig(n=1, temperature=0, max_new_tokens=40)
    ours = engine.sample(list(TOY_PROMPTS), greedy)
    theirs = reference.sample(list(TOY_PROMPTS), greedy)
    assert ids(ours) == ids(theirs)
    assert [s[0].text for s in ours] == list(TOY_PROGRAMS)


def test_seeded_draws_repeat(engine, first_draw):
    assert ids(engine.sample(list(TOY_PROMPTS), CONFIG)) == ids(first_draw)
    other = engine.sample(list(TOY_PROMPTS), SamplingConfig(n=6, max_new_tokens=40, seed=12))
    assert ids(other) != ids(first_draw)


def test_engine_leaves_torch_threads_settable(engine):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)
    assert torch.get_num_threads() == threads


def test_more_prompt_tokens_than_one_engine_step(engine):
    """Dozens of seeded requests with long task prompts: more than one step's token budget."""
    from codeit.tasks import load_tasks

    tasks = list(load_tasks("arc1/evaluation"))[:4]
    config = SamplingConfig(n=12, max_new_tokens=6, seed=1)
    prompts = engine.task_prompts(tasks, config)
    assert sum(len(p) for p in prompts) * config.n > 4096
    out = engine.sample(prompts, config)
    assert [len(s) for s in out] == [12] * 4


def test_engine_start_leaves_global_generators_alone(toy_dir, engine):
    import random

    import numpy as np

    engine.close()  # one engine at a time
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    expected = random.random(), np.random.rand(), torch.rand(1).item()
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    engine.llm = engine._start(str(toy_dir))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_constrained_greedy_matches_transformers(engine, reference):
    """Both backends walk the same grammar: constrained greedy decoding agrees token for token."""
    greedy = SamplingConfig(n=1, temperature=0, max_new_tokens=40, constrained=True)
    ours, theirs = engine.sample(list(TOY_PROMPTS), greedy), reference.sample(list(TOY_PROMPTS), greedy)
    assert ids(ours) == ids(theirs)


def test_constrained_logprobs_are_the_policy_own(engine, reference):
    out = engine.sample(list(TOY_PROMPTS[:2]), SamplingConfig(n=4, max_new_tokens=40, seed=3, constrained=True))
    for prompt, samples in zip(TOY_PROMPTS, out):
        for s in samples:
            assert s.logprob == pytest.approx(reference.score(prompt, s.token_ids), abs=2e-3)


def test_load_weights_serves_the_new_weights(engine, first_draw, toy_dir, tmp_path_factory):
    changed = load_policy(toy_dir)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in changed.model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    path = tmp_path_factory.mktemp("changed")
    changed.save(path)
    running = engine.llm
    engine.load_weights(str(path))
    assert engine.llm is running  # into the running engine, no restart
    after = engine.sample(list(TOY_PROMPTS), CONFIG)
    assert ids(after) != ids(first_draw)
    engine.close()  # one engine at a time keeps memory and threads in bounds
    with VLLMSampler(str(path)) as fresh:
        assert ids(fresh.sample(list(TOY_PROMPTS), CONFIG)) == ids(after)


def test_encoder_decoder_policies_are_refused(tmp_path):
    from dataclasses import replace

    from codeit.policy.model import create_policy
    from codeit.policy.toy import TOY_CONFIG

    create_policy(replace(TOY_CONFIG, arch="t5")).save(tmp_path)
    with pytest.raises(ValueError, match="encoder-decoder"):
        VLLMSampler(str(tmp_path))
