"""Policies: the tiny Llama and T5 made from a config, any causal LM from a folder, save/load."""

import json

import pytest
import torch

from codeit.policy import model as M
from codeit.policy.tokenizer import fast_tokenizer

SMALL = M.PolicyConfig(hidden_size=64, num_layers=1, num_heads=1, intermediate_size=64, max_positions=256)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("arch", ["llama", "t5"])
def test_create_save_load_round_trip(tmp_path, arch):
    from dataclasses import replace

    policy = M.create_policy(replace(SMALL, arch=arch))
    assert policy.is_encoder_decoder == (arch == "t5")
    assert policy.format.dsl_vocab
    policy.save(tmp_path)
    for name in ("config.json", "model.safetensors", "tokenizer.json", M.POLICY_FILE):
        assert (tmp_path / name).is_file(), name
    loaded = M.load_policy(tmp_path)
    assert type(loaded.model) is type(policy.model)
    assert loaded.format.dsl_vocab and loaded.encode_format == "compact"
    ids = torch.tensor([loaded.format.prompt_ids("<in> 1 x 1 3 <out> 1 x 1 4")])
    with torch.no_grad():
        if arch == "t5":
            start = torch.tensor([[loaded.model.config.decoder_start_token_id]])
            a = policy.model(input_ids=ids, decoder_input_ids=start).logits
            b = loaded.model(input_ids=ids, decoder_input_ids=start).logits
        else:
            a, b = policy.model(input_ids=ids).logits, loaded.model(input_ids=ids).logits
    assert torch.allclose(a, b, atol=1e-5)


def test_default_policy_is_tiny():
    policy = M.create_policy()
    n = M.describe(policy)["parameters"]
    assert 1e5 < n < 2e7
    assert policy.model.config.num_hidden_layers <= 4 and policy.model.config.hidden_size <= 256


def test_prompt_and_training_ids_decoder_only():
    fmt = M.create_policy(SMALL).format
    tok = fmt.tokenizer
    prompt = fmt.prompt_ids("<in> 1 x 1 3")
    assert prompt[0] == tok.bos_token_id and prompt[-1] == tok.sep_token_id
    example = fmt.training_ids("<in> 1 x 1 3", "O = rot90(I)\n")
    n = len(prompt)
    assert example["input_ids"][:n] == prompt
    assert example["labels"][:n] == [-100] * n
    assert example["labels"][n:] == example["input_ids"][n:]
    assert example["input_ids"][-1] == tok.eos_token_id
    assert fmt.decode_program(example["input_ids"][n:]) == "O = rot90(I)\n"


def test_prompt_and_training_ids_encoder_decoder():
    from dataclasses import replace

    fmt = M.create_policy(replace(SMALL, arch="t5")).format
    example = fmt.training_ids("<in> 1 x 1 3", "O = rot90(I)\n")
    assert example["input_ids"][-1] == fmt.eos_id
    assert example["labels"][-1] == fmt.eos_id and -100 not in example["labels"]


def test_any_causal_lm_from_a_folder(tmp_path):
    """A foreign architecture (GPT-2) saved locally loads as a decoder-only policy."""
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = fast_tokenizer()
    gpt = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=1, n_head=2, n_positions=128,
                                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
    gpt.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    policy = M.load_policy(tmp_path)
    assert type(policy.model).__name__ == "GPT2LMHeadModel"
    assert not policy.is_encoder_decoder and policy.max_positions == 128
    assert policy.tokenizer.padding_side == "left"
    assert policy.encode_format == "compact"  # our tokenizer, no policy file: our encoding


def test_foreign_tokenizer_reads_codeit_format(tmp_path):
    """A checkpoint with its own tokenizer and no policy file is taken to be CodeIt's (CodeT5+)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    words = ["<pad>", "</s>", "<unk>"] + [str(d) for d in range(10)] + ["x", "background", "=", ",", "|"]
    raw = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    model = T5ForConditionalGeneration(T5Config(vocab_size=len(words), d_model=16, d_kv=8, d_ff=16, num_layers=1,
                                                num_heads=2, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1))
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    policy = M.load_policy(tmp_path)
    assert policy.is_encoder_decoder and not policy.format.dsl_vocab
    assert policy.encode_format == "codeit"
    assert M.PromptFormat.from_pretrained(tmp_path).encode_format == "codeit"


def test_policy_file_records_the_encoding(tmp_path):
    from dataclasses import replace

    M.create_policy(replace(SMALL, encode_format="codeit")).save(tmp_path)
    assert json.loads((tmp_path / M.POLICY_FILE).read_text()) == {"encode_format": "codeit"}
    assert M.load_policy(tmp_path).encode_format == "codeit"


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model config"):
        M.load_policy(tmp_path / "nothing-here", local_files_only=True)


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="arch"):
        M.PolicyConfig(arch="gpt")
    with pytest.raises(ValueError, match="multiple"):
        M.PolicyConfig(hidden_size=100, num_heads=3)
