"""The paper's path on a tiny stand-in for CodeT5+ 220M: the same architecture family
(``T5ForConditionalGeneration``) and the same kind of tokenizer (byte-level BPE with RoBERTa's
special tokens, ``<s> ... </s>``), built here, saved as a hub checkpoint is (no
``codeit_policy.json``), and run through one meta-iteration of the ``paper`` preset: encode, sample,
execute, relabel, learn, reload. The real weights take the same path with
``--set policy.model=/path/to/codet5p-220m``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from codeit.buffer.store import ExperienceStore
from codeit.dsl.program import ProgramError, parse
from codeit.policy import model as M
from codeit.policy import shipped
from codeit.policy.encode import codeit_grid
from codeit.run.config import make_config
from codeit.run.prompts import prompt_text
from codeit.seeds import load_seeds
from codeit.tasks import load_tasks

TAUGHT = "x1 = rot90(I)\nO = hmirror(x1)\n"
"""The program the stand-in is taught to write, so that its samples parse and run."""


def codet5_like_tokenizer(texts):
    """A byte-level BPE tokenizer trained on ``texts``, with CodeT5+'s special tokens and ids
    (``<pad>`` 0, ``<s>`` 1, ``</s>`` 2, ``<unk>`` 3, ``<mask>`` 4) and its ``<s> ... </s>`` framing."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<pad>", "<s>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    raw.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 1))
    return PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", mask_token="<mask>", model_max_length=512)


def save_codet5_like(folder: Path, *, teach: bool = True) -> Path:
    """A tiny CodeT5+-shaped checkpoint in ``folder``, as ``save_pretrained`` writes a hub model;
    with ``teach``, trained for a few steps to write ``TAUGHT`` for any task."""
    from transformers import T5Config, T5ForConditionalGeneration

    from codeit.train.trainer import Example, train

    seeds = load_seeds()
    tasks = list(load_tasks("arc1/training"))[:40]
    texts = [s.text for s in seeds] + [codeit_grid(p.input) for t in tasks for p in t.train]
    tokenizer = codet5_like_tokenizer(texts)
    torch.manual_seed(0)
    # CodeT5+'s config carries n_positions 512 although T5's positions are relative: it must not
    # be read as a limit on prompt plus program.
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=16, d_ff=64, num_layers=1, num_decoder_layers=1,
                      num_heads=2, n_positions=512, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                      decoder_start_token_id=0)
    model = T5ForConditionalGeneration(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if teach:
        policy = M.load_policy(folder)
        run_config = make_config("paper", {"sampling": {"max_prompt_tokens": 128}})
        examples = [Example(prompt_text(policy.format, t, run_config), TAUGHT) for t in tasks[:16]]
        train(policy, examples, lr=1e-2, batch_size=8, epochs=40, precision="fp32")
        policy.model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def codet5_dir(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield save_codet5_like(tmp_path_factory.mktemp("codet5-like"))
    finally:
        torch.set_num_threads(threads)


def test_a_hub_style_t5_checkpoint_reads_codeit_format(codet5_dir):
    policy = M.load_policy(codet5_dir)
    assert type(policy.model).__name__ == "T5ForConditionalGeneration"
    assert policy.is_encoder_decoder and not policy.format.dsl_vocab
    assert policy.encode_format == "codeit"
    assert policy.max_positions is None  # n_positions 512 is no limit on an encoder-decoder
    assert policy.tokenizer.padding_side == "right"
    assert policy.tokenizer.model_max_length == M.VERY_LONG  # its 512 is no limit for relative positions
    fmt = policy.format
    prompt = fmt.prompt_ids("3x3 background=0 1=0,0\n3x3 background=0 2=1,1")
    assert prompt[0] == 1 and prompt[-1] == 2  # <s> ... </s>, as CodeT5+ encodes
    assert policy.model.generation_config.decoder_start_token_id == 0
    # Every seed program comes back exactly from the ids the model is trained to write.
    for seed in load_seeds():
        ids = fmt.program_ids(seed.text)
        assert ids[-1] == fmt.eos_id and fmt.decode_program(ids) == seed.text


def _parses(text: str) -> bool:
    try:
        parse(text)
        return True
    except ProgramError:
        return False


PAPER_SMALL = {
    "max_search_tasks": 2,
    "meta_iterations": 1,
    "initial_mutants": 8,
    "tasks_per_step": 2,
    "sampling": {"samples_per_task": 4, "max_new_tokens": 32, "max_prompt_tokens": 128, "batch_size": 2},
    "learner": {"policy_experiences": 16, "mutation_experiences": 8, "batch_size": 8},
    "execution": {"threads": 1},
}
"""The paper preset at the smallest size: everything else (CodeT5+'s encoding, unconstrained
sampling at temperature 0.95, lr 5e-5, one pass, the replay mix) is the paper's."""


@pytest.mark.slow
def test_one_paper_meta_iteration_on_a_tiny_t5(tmp_path, codet5_dir):
    from codeit.run.driver import Run

    config = make_config("paper", {**PAPER_SMALL, "policy": {"model": str(codet5_dir), "device": "cpu"}})
    assert config.sampling.constrained is False and config.learner.lr == 5e-5
    run_dir = tmp_path / "run"
    summary = Run(run_dir, config, log=lambda _: None).run()

    [row] = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert row["iteration"] == 1 and row["programs_sampled"] == 2 * 4 == summary["programs_sampled"]
    assert row["parse_rate"] > 0.5  # sampled through CodeT5+'s tokenizer, decoded, parsed
    assert row["runs"] > 0 and row["new_experiences"] > 0  # executed and relabelled

    store = ExperienceStore(run_dir / "experience.db")
    policy_rows = [e for e in store.iter_experiences() if e.origin == "policy"]
    assert policy_rows and all(_parses(e.program) for e in policy_rows)
    assert {e.origin for e in store.iter_experiences()} >= {"seed", "mutation", "policy"}

    # Learned on the relabelled experiences, and the sampler reloaded the new weights.
    from codeit.run.state import RunState

    state = RunState.load(store, run_dir)
    assert state.learn[1]["drawn"]["policy"] == len(policy_rows)
    assert state.learn[1]["examples"] > 0 and state.learn[1]["steps"] > 0
    assert Path(state.policy_path) == run_dir / "checkpoints" / "iter_001"
    store.close()

    # Each checkpoint is the same model family with CodeT5+'s tokenizer and CodeIt's encoding.
    initial, trained = M.load_policy(run_dir / "checkpoints" / "initial"), M.load_policy(state.policy_path)
    for policy in (initial, trained):
        assert policy.is_encoder_decoder and not policy.format.dsl_vocab and policy.encode_format == "codeit"
        assert policy.tokenizer.get_vocab() == M.load_policy(codet5_dir).tokenizer.get_vocab()
    changed = [n for n, p in trained.model.named_parameters()
               if not torch.equal(p, dict(initial.model.named_parameters())[n])]
    assert changed  # the warm-up and iteration 1 moved the weights


def test_the_paper_preset_without_weights_fails_at_once(tmp_path):
    """No network and no local copy: one line naming the model and the fix, exit 2, no run folder."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    config = Path(__file__).resolve().parents[1] / "configs" / "paper.yaml"
    result = subprocess.run([sys.executable, "-m", "codeit.cli", "run", str(tmp_path / "paper"), "--config",
                             str(config)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Salesforce/codet5p-220m" in lines[0] and "--set policy.model=/path/to/codet5p-220m" in lines[0]
    assert not (tmp_path / "paper").exists()


def test_require_model_names_what_is_wrong(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(shipped.ModelUnavailable, match="policy.model nobody/nothing-here: the weights are not on this machine"):
        shipped.require_model("nobody/nothing-here")
    with pytest.raises(shipped.ModelUnavailable, match="holds no config.json"):
        shipped.require_model(str(tmp_path))
    with pytest.raises(shipped.ModelUnavailable, match="no model folder there"):
        shipped.require_model(str(tmp_path / "missing" / "codet5p-220m"))
    with pytest.raises(shipped.ModelUnavailable, match="init nobody/x"):
        shipped.require_model("nobody/x", setting="init")
    shipped.require_model("default")
    shipped.require_model("shipped:dsl-small")


@pytest.mark.parametrize("arch", ["t5", "llama"])
def test_a_padded_batch_split_into_micro_batches_has_the_whole_batchs_gradient(arch):
    """CodeIt's batch of 512 does not fit a GPU in one padded forward: the padded path splits it,
    and the split changes neither the loss nor the gradient."""
    from codeit.policy.toy import TOY_CONFIG, TOY_PROGRAMS, TOY_PROMPTS
    from codeit.train.trainer import _padded_step

    policy = M.create_policy(replace_arch(TOY_CONFIG, arch))
    rows = [policy.format.training_ids(p, q) for p, q in zip(TOY_PROMPTS * 2, TOY_PROGRAMS[::-1] * 2)]
    results = []
    for budget in (10**9, 40):  # one batch; then a micro-batch per row or two
        policy.model.zero_grad(set_to_none=True)
        loss, tokens = _padded_step(policy, policy.model, rows, "cpu", "fp32", max_tokens=budget)
        results.append((float(loss), tokens, [p.grad.clone() for p in policy.model.parameters() if p.grad is not None]))
    (whole, whole_tokens, whole_grads), (split, split_tokens, split_grads) = results
    assert split == pytest.approx(whole, rel=1e-5) and split_tokens == whole_tokens
    for a, b in zip(whole_grads, split_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def replace_arch(config, arch):
    from dataclasses import replace

    return replace(config, arch=arch)
