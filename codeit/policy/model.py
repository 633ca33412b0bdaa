"""Policies: the language models that turn a task encoding into program text.

Three kinds, all saved and loaded in the standard transformers format (``save_pretrained`` /
``from_pretrained``, one folder holding the weights, ``config.json`` and ``tokenizer.json``):

- the embedded default: a small decoder-only Llama over the DSL tokenizer, made from a
  ``PolicyConfig`` (``create_policy``), small enough that CPU training and sampling take minutes;
- any causal LM from a local folder or hub id (``load_policy``), with its own tokenizer;
- T5-style encoder-decoder models (CodeT5+) from a folder or hub id (``load_policy``), or a tiny one
  made here (``PolicyConfig(arch="t5")``).

How a prompt and a program become token ids is decided here, once, for both sampling and
training (``PromptFormat.prompt_ids``, ``PromptFormat.training_ids``): with the DSL tokenizer a decoder-only
sequence is ``<bos> TASK <sep> PROGRAM <eos>``; an encoder-decoder reads ``TASK <eos>`` and writes
``PROGRAM <eos>``. A foreign tokenizer adds its own special tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeit.policy import tokenizer as dsl_tok
from codeit.policy.config import DTYPES, PolicyConfig

POLICY_FILE = "codeit_policy.json"
"""Written beside the weights: how this policy's prompts are encoded."""

VERY_LONG = 10**9
"""The token limit given to an encoder-decoder's tokenizer: none (relative positions)."""


@dataclass
class PromptFormat:
    """How task text and program text become token ids for one policy, and back.

    Needs only the tokenizer and the architecture, not the weights, so that a sampler that serves
    the weights elsewhere (vLLM) builds the same prompts as training does.
    """

    tokenizer: Any
    """The policy's transformers tokenizer."""
    is_encoder_decoder: bool
    """True for T5-style models: the prompt goes to the encoder, the program comes from the decoder."""
    encode_format: str = "compact"
    """The task encoding the policy reads (``codeit.policy.encode.FORMATS``)."""
    dsl_vocab: bool = field(init=False)
    """Whether the tokenizer is the DSL tokenizer (programs then decode exactly)."""

    def __post_init__(self) -> None:
        self.dsl_vocab = dsl_tok.is_dsl_tokenizer(self.tokenizer)

    @classmethod
    def from_pretrained(cls, path: str | Path, local_files_only: bool | None = None) -> "PromptFormat":
        """The prompt format of the policy saved at ``path`` (a folder or hub id), without its weights."""
        from transformers import AutoConfig

        where = str(path)
        if local_files_only is None:
            local_files_only = Path(where).is_dir()
        config = AutoConfig.from_pretrained(where, local_files_only=local_files_only)
        tokenizer = _load_policy_tokenizer(where, bool(config.is_encoder_decoder), local_files_only)
        return cls(tokenizer, bool(config.is_encoder_decoder), _encode_format(where, tokenizer))

    @property
    def eos_id(self) -> int:
        return int(self.tokenizer.eos_token_id)

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return int(pad if pad is not None else self.tokenizer.eos_token_id)

    def _text_ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False).input_ids)

    def prompt_ids(self, text: str) -> list[int]:
        """Token ids of the prompt for a task encoding ``text``."""
        tok = self.tokenizer
        if not self.dsl_vocab:
            ids = list(tok(text).input_ids)
            if not self.is_encoder_decoder:
                sep = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
                if sep is not None:
                    ids.append(int(sep))
            return ids
        ids = self._text_ids(text)
        if self.is_encoder_decoder:
            return ids + [self.eos_id]
        return [int(tok.bos_token_id)] + ids + [int(tok.sep_token_id)]

    @property
    def prompt_overhead(self) -> int:
        """Tokens a prompt holds beyond the task text's own (bos, sep, eos)."""
        return len(self.prompt_ids("")) if self.dsl_vocab else 4

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` alone, as this tokenizer splits it."""
        return len(self._text_ids(text))

    def program_ids(self, program: str) -> list[int]:
        """Token ids the model writes for ``program`` (ending with eos)."""
        return self._text_ids(program) + [self.eos_id]

    def training_ids(self, prompt_text: str, program: str) -> dict[str, list[int]]:
        """One training example: ``input_ids`` and ``labels`` (-100 where no loss is taken).

        Decoder-only: the prompt and program in one sequence, loss on the program only.
        Encoder-decoder: the prompt as ``input_ids``, the program as ``labels``.
        """
        prompt = self.prompt_ids(prompt_text)
        target = self.program_ids(program)
        if self.is_encoder_decoder:
            return {"input_ids": prompt, "labels": target}
        return {"input_ids": prompt + target, "labels": [-100] * len(prompt) + target}

    def decode_program(self, ids) -> str:
        """Program text from generated ids (up to the first eos; special tokens dropped)."""
        ids = [int(i) for i in ids]
        if self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)


@dataclass
class Policy:
    """A loaded model with its tokenizer and prompt convention."""

    model: Any
    """The transformers model (``LlamaForCausalLM``, ``T5ForConditionalGeneration``, ...), in eval mode."""
    tokenizer: Any
    """Its transformers tokenizer."""
    path: str | None = None
    """The folder or hub id it was loaded from or last saved to."""
    encode_format: str = "compact"
    """The task encoding it reads."""
    format: PromptFormat = field(init=False)
    """Its prompt and program token convention."""

    def __post_init__(self) -> None:
        self.format = PromptFormat(self.tokenizer, self.is_encoder_decoder, self.encode_format)

    @property
    def is_encoder_decoder(self) -> bool:
        return bool(getattr(self.model.config, "is_encoder_decoder", False))

    @property
    def max_positions(self) -> int | None:
        return max_positions(self.model.config)

    def save(self, path: str | Path) -> Path:
        """Save weights, config, tokenizer and the prompt convention into the folder ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(path), safe_serialization=True)
        self.tokenizer.save_pretrained(str(path))
        (path / POLICY_FILE).write_text(json.dumps({"encode_format": self.encode_format}, indent=1) + "\n")
        self.path = str(path)
        return path


def max_positions(config) -> int | None:
    """Longest prompt plus program a model config allows, when it says.

    None for an encoder-decoder: the encoder reads the prompt and the decoder writes the program,
    so no one sequence holds both, and T5's relative positions have no fixed end. (A T5 config may
    still carry ``n_positions: 512``, CodeT5+'s does: read as a limit on prompt plus program, it
    would leave a 512-token program no room for any prompt.)
    """
    if getattr(config, "is_encoder_decoder", False):
        return None
    return getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)


def resolve_dtype(name: str, device: str):
    """The torch dtype a policy is served in (``policy.dtype``): ``auto`` is bfloat16 on a GPU that
    computes it, float32 on a CPU (vLLM's CPU kernels want fp32 for tiny models)."""
    import torch

    if name not in DTYPES:
        raise ValueError(f"policy.dtype must be one of {', '.join(DTYPES)}, got {name!r}")
    if name == "auto":
        gpu = device.startswith("cuda") and torch.cuda.is_available()
        return torch.bfloat16 if gpu and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, name)


def _load_policy_tokenizer(where: str, is_encoder_decoder: bool, local_files_only: bool):
    tokenizer = dsl_tok.load_tokenizer(where, local_files_only=local_files_only)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Decoder-only batches are left-padded so every prompt ends where generation starts.
    tokenizer.padding_side = "right" if is_encoder_decoder else "left"
    if is_encoder_decoder:
        # CodeT5+'s tokenizer says 512 tokens, and warns of "indexing errors" past it; T5's relative
        # positions take any length, and the run's encoding keeps prompts within its own budget.
        tokenizer.model_max_length = VERY_LONG
    return tokenizer


def _encode_format(where: str, tokenizer) -> str:
    policy_file = Path(where) / POLICY_FILE
    if policy_file.is_file():
        return json.loads(policy_file.read_text()).get("encode_format", "compact")
    # A foreign checkpoint (CodeT5+, say) without our file is taken to read CodeIt's layout.
    return "compact" if dsl_tok.is_dsl_tokenizer(tokenizer) else "codeit"


def _generation_defaults(model, tokenizer) -> None:
    """Point the model's config and generation config at the tokenizer's special tokens."""
    for cfg in (model.config, model.generation_config):
        cfg.pad_token_id = tokenizer.pad_token_id
        cfg.eos_token_id = tokenizer.eos_token_id
        cfg.bos_token_id = tokenizer.bos_token_id
    if model.config.is_encoder_decoder:
        model.config.decoder_start_token_id = tokenizer.pad_token_id
        model.generation_config.decoder_start_token_id = tokenizer.pad_token_id


def create_policy(config: PolicyConfig = PolicyConfig(), tokenizer=None) -> Policy:
    """A freshly initialised policy over the DSL tokenizer (or ``tokenizer``)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

    tok = tokenizer if tokenizer is not None else dsl_tok.fast_tokenizer(model_max_length=config.max_positions)
    vocab_size = len(tok)
    torch.manual_seed(config.seed)
    if config.arch == "llama":
        model_config = LlamaConfig(
            vocab_size=vocab_size, hidden_size=config.hidden_size, intermediate_size=config.intermediate_size,
            num_hidden_layers=config.num_layers, num_attention_heads=config.num_heads,
            num_key_value_heads=config.num_kv_heads or config.num_heads,
            max_position_embeddings=config.max_positions, tie_word_embeddings=config.tie_embeddings,
            pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        )
        model = LlamaForCausalLM(model_config)
    else:
        model_config = T5Config(
            vocab_size=vocab_size, d_model=config.hidden_size, d_kv=config.hidden_size // config.num_heads,
            d_ff=config.intermediate_size, num_layers=config.num_layers, num_decoder_layers=config.num_layers,
            num_heads=config.num_heads, tie_word_embeddings=config.tie_embeddings,
            pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
            decoder_start_token_id=tok.pad_token_id,
        )
        model = T5ForConditionalGeneration(model_config)
    model.generation_config = GenerationConfig.from_model_config(model.config)
    _generation_defaults(model, tok)
    tok.padding_side = "right" if config.arch == "t5" else "left"
    model.eval()
    return Policy(model, tok, None, config.encode_format)


def load_policy(path: str | Path, *, local_files_only: bool | None = None, dtype=None) -> Policy:
    """Load a policy from a folder saved by ``Policy.save`` / ``save_pretrained``, or a hub id.

    ``local_files_only`` defaults to True for an existing folder and False for a hub id.
    Decoder-only and encoder-decoder models are told apart by their config.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    where = str(path)
    is_folder = Path(where).is_dir()
    if local_files_only is None:
        local_files_only = is_folder
    if not is_folder and Path(where).exists():
        raise ValueError(f"load_policy: {where} is a file, not a model folder")
    try:
        config = AutoConfig.from_pretrained(where, local_files_only=local_files_only)
    except OSError as e:
        raise FileNotFoundError(f"load_policy: no model config at {where}: {e}") from None
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    kwargs = {"local_files_only": local_files_only}
    if dtype is not None:
        kwargs["dtype"] = dtype
    model = auto.from_pretrained(where, **kwargs)
    tokenizer = _load_policy_tokenizer(where, bool(config.is_encoder_decoder), local_files_only)
    model.eval()
    return Policy(model, tokenizer, where, _encode_format(where, tokenizer))


def describe(policy: Policy) -> dict[str, Any]:
    """A small summary for logs: architecture, parameter count, vocabulary size."""
    n_params = sum(p.numel() for p in policy.model.parameters())
    return {"arch": type(policy.model).__name__, "parameters": n_params, "vocab": len(policy.tokenizer),
            "encoder_decoder": policy.is_encoder_decoder, "encode_format": policy.encode_format,
            "path": policy.path}
