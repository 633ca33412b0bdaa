"""The architecture of a policy made from scratch: a plain settings record, without torch.

Kept apart from ``codeit.policy.model`` (which needs torch, transformers and tokenizers) so that a
run's configuration can be built, read and checked on a base install; ``codeit.policy.model``
imports it from here, and ``from codeit.policy.model import PolicyConfig`` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

DTYPES = ("auto", "float32", "bfloat16", "float16")
"""The dtypes a policy can be served in (``policy.dtype``; ``codeit.policy.model.resolve_dtype``)."""


@dataclass(frozen=True)
class PolicyConfig:
    """Architecture of a policy made from scratch (``create_policy``)."""

    arch: str = "llama"
    """``llama`` (decoder-only, served by vLLM too) or ``t5`` (encoder-decoder, transformers only)."""
    hidden_size: int = 256
    """Width of the residual stream (T5: d_model)."""
    num_layers: int = 4
    """Transformer blocks (T5: in the encoder and in the decoder, each)."""
    num_heads: int = 4
    """Attention heads; hidden_size / num_heads is the head size (64 suits vLLM's CPU kernels)."""
    num_kv_heads: int | None = None
    """Key/value heads for grouped-query attention (Llama); None means num_heads."""
    intermediate_size: int = 768
    """Width of the MLP (T5: d_ff)."""
    max_positions: int = 4096
    """Longest prompt plus program the model is made for (Llama rotary positions)."""
    tie_embeddings: bool = True
    """Share the input embedding and the output projection (fewer parameters for a small model)."""
    encode_format: str = "compact"
    """The task encoding the policy reads (``codeit.policy.encode.FORMATS``)."""
    seed: int = 0
    """Seed of the weight initialisation."""

    def __post_init__(self) -> None:
        if self.arch not in ("llama", "t5"):
            raise ValueError(f"PolicyConfig.arch must be 'llama' or 't5', got {self.arch!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"PolicyConfig: hidden_size {self.hidden_size} is not a multiple of num_heads {self.num_heads}")
