"""The ``paper`` preset is CodeIt's setting (CodeT5+ 220M), ``paper-scratch`` its from-scratch
ablation; ``policy.dtype`` is the dtype the sampler serves the policy in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from codeit.run.config import PRESETS, load_config, make_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_paper_is_codet5p_with_codeits_settings():
    c = make_config("paper")
    assert c.policy.model == "Salesforce/codet5p-220m"
    s = c.sampling
    assert (s.samples_per_task, s.temperature, s.max_new_tokens, s.max_prompt_tokens) == (24, 0.95, 512, 1024)
    assert s.constrained is False  # CodeT5+'s own tokenizer: sampled as CodeIt did
    learner = c.learner
    assert (learner.lr, learner.batch_size, learner.epochs) == (5e-5, 512, 1)
    assert (learner.policy_experiences, learner.mutation_experiences) == (90_000, 10_000)
    assert c.initial_mutants == 19_200 and c.meta_iterations == 100 and c.max_search_tasks == 0


def test_paper_scratch_is_the_same_loop_with_a_new_llama():
    paper, scratch = make_config("paper"), make_config("paper-scratch")
    assert scratch.policy.model == "default"
    arch = scratch.policy.architecture
    assert (arch.arch, arch.hidden_size, arch.num_layers, arch.num_heads) == ("llama", 768, 12, 12)
    assert scratch.sampling.constrained is True  # the DSL tokenizer: the grammar constraint applies
    assert scratch.learner == paper.learner and scratch.initial_mutants == paper.initial_mutants
    assert replace(scratch.sampling, constrained=False, max_prompt_tokens=1024, batch_size=16) == paper.sampling


@pytest.mark.parametrize("name", ["paper", "paper-scratch"])
def test_config_files_are_their_presets(name):
    c = load_config(CONFIGS / f"{name}.yaml")
    assert c.preset == name and name in PRESETS
    # (paper.yaml spells out the seed folders: the built-in library, the default.)
    assert replace(c, seed_dirs=[]) == make_config(name)


def test_run_accepts_the_paper_scratch_preset():
    from codeit.cli import build_parser

    args = build_parser(["run"]).parse_args(["run", "--preset", "paper-scratch"])
    assert args.preset == "paper-scratch"


# -- policy.dtype -----------------------------------------------------------------------------------


def test_dtype_is_checked_with_the_config():
    assert make_config("tiny").policy.dtype == "auto"
    with pytest.raises(ValueError, match="policy.dtype must be one of"):
        make_config("tiny", {"policy": {"dtype": "bf16"}})


def test_auto_dtype_is_float32_on_a_cpu():
    from codeit.policy.model import resolve_dtype

    assert resolve_dtype("auto", "cpu") is torch.float32
    assert resolve_dtype("bfloat16", "cpu") is torch.bfloat16
    if not torch.cuda.is_available():
        assert resolve_dtype("auto", "cuda") is torch.float32  # no GPU to compute bf16 on
    elif torch.cuda.is_bf16_supported():
        assert resolve_dtype("auto", "cuda") is torch.bfloat16


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    from codeit.policy.toy import toy_policy

    path = tmp_path_factory.mktemp("toy")
    toy_policy(steps=1).save(path)
    return path


@pytest.mark.parametrize("setting, expected", [("auto", torch.float32), ("float32", torch.float32),
                                               ("bfloat16", torch.bfloat16)])
def test_the_served_model_follows_policy_dtype(toy_dir, setting, expected):
    from codeit.run.sampling import RunSampler

    config = make_config("tiny", {"policy": {"dtype": setting}, "sampling": {"max_new_tokens": 12, "backend": "hf"}})
    sampler = RunSampler(config, toy_dir, "cpu")
    try:
        model = sampler.sampler.policy.model
        assert {p.dtype for p in model.parameters()} == {expected}
        sampler.load_weights(toy_dir)  # reloaded weights keep the dtype
        assert {p.dtype for p in model.parameters()} == {expected}
        assert len(sampler.sample_tasks([_task()])[0]) == config.sampling.samples_per_task
    finally:
        sampler.close()


def _task():
    import numpy as np

    from codeit.tasks import Pair, Task

    grid = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    return Task("toy", (Pair(grid, grid.T.copy()),), (Pair(grid, grid.T.copy()),))
